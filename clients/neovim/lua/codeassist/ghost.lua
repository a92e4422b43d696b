--- Ghost text: the server's `textDocument/inlineCompletion` as virtual text in insert mode.
--- Neovim's own vim.lsp.inline_completion where it exists (0.12), else an extmark
--- implementation: asked after a pause in typing, dismissed by the next keystroke.
local config = require("codeassist.config")

local M = {}

M.ns = vim.api.nvim_create_namespace("codeassist.ghost")

--- Per buffer: {timer, request_id, client, shown = {row, col, item, tick}}.
local state = {}

--- The text of an InlineCompletionItem (a string or a snippet StringValue).
---@param item table
---@return string
local function insert_text(item)
  local text = item.insertText
  if type(text) == "table" then
    return text.value or ""
  end
  return text or ""
end

--- Byte column for an LSP character offset in `line`.
local function byte_col(line, character, encoding)
  if encoding == "utf-8" then
    return math.min(character, #line)
  end
  local ok, col = pcall(vim.str_byteindex, line, encoding, character, false)
  return ok and col or math.min(character, #line)
end

--- The first item of an inlineCompletion result (a list or an InlineCompletionList).
---@param result table|nil
---@return table|nil
function M.first_item(result)
  if type(result) ~= "table" then
    return nil
  end
  local items = result.items or result
  return items[1]
end

--- What to show for `item` with the cursor at byte `col` (0-based) of `line` on `row`:
--- `{inline = string, below = string[]}`, or nil when the item does not continue the
--- typed text. The item replaces its range (default: empty at the cursor).
---@param item table
---@param line string
---@param row integer
---@param col integer
---@param encoding string
---@return {inline: string, below: string[]}|nil
function M.display(item, line, row, col, encoding)
  local text = insert_text(item)
  local start_col = col
  local end_col = col
  if item.range then
    if item.range.start.line ~= row then
      return nil
    end
    start_col = byte_col(line, item.range.start.character, encoding)
    end_col = item.range["end"].line == row and byte_col(line, item.range["end"].character, encoding) or #line
  end
  local typed = line:sub(start_col + 1, col)
  if text:sub(1, #typed) ~= typed then
    return nil
  end
  local rest = text:sub(#typed + 1)
  if rest == "" then
    return nil
  end
  local lines = vim.split(rest, "\n", { plain = true })
  local replaced = line:sub(col + 1, end_col)
  if #lines == 1 and replaced ~= "" and vim.endswith(lines[1], replaced) then
    lines[1] = lines[1]:sub(1, #lines[1] - #replaced)
  end
  return { inline = lines[1], below = vim.list_slice(lines, 2) }
end

--- The edit that accepting `item` makes: replace [start_col, end_col) of `row`
--- (and lines up to `end_row`) with `lines`; the cursor ends at `cursor` (1-based row).
---@return {start_col: integer, end_row: integer, end_col: integer, lines: string[], cursor: integer[]}
function M.accept_edit(item, buf_lines, row, col, encoding)
  local line = buf_lines[row + 1] or ""
  local start_col, end_row, end_col = col, row, col
  if item.range then
    start_col = byte_col(line, item.range.start.character, encoding)
    end_row = item.range["end"].line
    local end_line = buf_lines[end_row + 1] or ""
    end_col = byte_col(end_line, item.range["end"].character, encoding)
  end
  local lines = vim.split(insert_text(item), "\n", { plain = true })
  local last_col = (#lines == 1 and start_col or 0) + #lines[#lines]
  return {
    start_col = start_col,
    end_row = end_row,
    end_col = end_col,
    lines = lines,
    cursor = { row + #lines, last_col },
  }
end

--- Remove the ghost text of `buf` and stop waiting for one.
---@param buf integer
function M.clear(buf)
  local s = state[buf]
  if not s then
    return
  end
  if s.timer then
    s.timer:stop()
  end
  if s.request_id and s.client then
    s.client:cancel_request(s.request_id)
    s.request_id = nil
  end
  s.shown = nil
  if vim.api.nvim_buf_is_valid(buf) then
    vim.api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  end
end

--- Whether a suggestion is shown in `buf`.
---@param buf integer
---@return boolean
function M.visible(buf)
  return state[buf] ~= nil and state[buf].shown ~= nil
end

local function show(buf, row, col, item)
  local s = state[buf]
  local line = vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1] or ""
  local view = M.display(item, line, row, col, s.client.offset_encoding)
  if not view then
    return
  end
  local below = {}
  for _, text in ipairs(view.below) do
    below[#below + 1] = { { text, "Comment" } }
  end
  vim.api.nvim_buf_set_extmark(buf, M.ns, row, col, {
    virt_text = { { view.inline, "Comment" } },
    virt_text_pos = "inline",
    virt_lines = #below > 0 and below or nil,
    hl_mode = "combine",
  })
  s.shown = { row = row, col = col, item = item, tick = vim.api.nvim_buf_get_changedtick(buf) }
end

--- Ask the server for a suggestion at the cursor of the current window (on `buf`).
---@param buf integer
function M.request(buf)
  local s = state[buf]
  if not s or vim.api.nvim_get_current_buf() ~= buf or not vim.api.nvim_get_mode().mode:match("^i") then
    return
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  local row, col = cursor[1] - 1, cursor[2]
  local tick = vim.api.nvim_buf_get_changedtick(buf)
  local params = vim.lsp.util.make_position_params(0, s.client.offset_encoding)
  params.context = { triggerKind = 2 }
  local ok, id = s.client:request("textDocument/inlineCompletion", params, function(err, result)
    s.request_id = nil
    if err or vim.api.nvim_buf_get_changedtick(buf) ~= tick then
      return
    end
    local now = vim.api.nvim_win_get_cursor(0)
    local item = M.first_item(result)
    if item and now[1] - 1 == row and now[2] == col then
      show(buf, row, col, item)
    end
  end, buf)
  s.request_id = ok and id or nil
end

--- Put the shown suggestion into the buffer; false when none is shown.
---@param buf integer
---@return boolean
function M.accept(buf)
  local s = state[buf]
  if not s or not s.shown then
    return false
  end
  local shown = s.shown
  M.clear(buf)
  local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local edit = M.accept_edit(shown.item, lines, shown.row, shown.col, s.client.offset_encoding)
  vim.api.nvim_buf_set_text(buf, shown.row, edit.start_col, edit.end_row, edit.end_col, edit.lines)
  vim.api.nvim_win_set_cursor(0, edit.cursor)
  return true
end

local function schedule_request(buf)
  local s = state[buf]
  M.clear(buf)
  s.timer = s.timer or vim.uv.new_timer()
  s.timer:start(config.options.ghost_text.debounce_ms, 0, vim.schedule_wrap(function()
    M.request(buf)
  end))
end

local function attach_extmarks(buf, c)
  if state[buf] then
    state[buf].client = c
    return
  end
  state[buf] = { client = c }
  local group = vim.api.nvim_create_augroup("codeassist.ghost." .. buf, { clear = true })
  vim.api.nvim_create_autocmd({ "TextChangedI", "TextChangedP" }, {
    group = group,
    buffer = buf,
    callback = function()
      schedule_request(buf)
    end,
  })
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    buffer = buf,
    callback = function()
      M.clear(buf)
    end,
  })
  vim.api.nvim_create_autocmd("CursorMovedI", {
    group = group,
    buffer = buf,
    callback = function()
      local shown = state[buf] and state[buf].shown
      local cursor = vim.api.nvim_win_get_cursor(0)
      if shown and (cursor[1] - 1 ~= shown.row or cursor[2] ~= shown.col) then
        M.clear(buf)
      end
    end,
  })
  vim.api.nvim_create_autocmd({ "BufWipeout", "LspDetach" }, {
    group = group,
    buffer = buf,
    callback = function()
      M.clear(buf)
      if state[buf] and state[buf].timer then
        state[buf].timer:close()
      end
      state[buf] = nil
      pcall(vim.api.nvim_del_augroup_by_id, group)
    end,
  })
  local opts = config.options.ghost_text
  vim.keymap.set("i", opts.accept_key, function()
    if M.visible(buf) then
      vim.schedule(function() -- an <expr> mapping may not change the buffer itself
        M.accept(buf)
      end)
      return ""
    end
    return vim.keycode(opts.accept_key)
  end, { buffer = buf, expr = true, replace_keycodes = false, desc = "CodeAssist: accept ghost text" })
  vim.keymap.set("i", opts.dismiss_key, function()
    local had = M.visible(buf)
    M.clear(buf)
    return had and "" or vim.keycode(opts.dismiss_key)
  end, { buffer = buf, expr = true, replace_keycodes = false, desc = "CodeAssist: dismiss ghost text" })
end

local function attach_native(buf)
  vim.lsp.inline_completion.enable(true, { bufnr = buf })
  local key = config.options.ghost_text.accept_key
  vim.keymap.set("i", key, function()
    if vim.lsp.inline_completion.get({ bufnr = buf }) then
      return ""
    end
    return vim.keycode(key)
  end, { buffer = buf, expr = true, replace_keycodes = false, desc = "CodeAssist: accept ghost text" })
end

--- Which implementation serves ghost text: the configured one, or with "auto" Neovim's
--- own where this version has it.
---@return "native"|"extmarks"
function M.implementation()
  local chosen = config.options.ghost_text.implementation
  if chosen == "native" or chosen == "extmarks" then
    return chosen
  end
  return vim.fn.has("nvim-0.12") == 1 and vim.lsp.inline_completion ~= nil and "native" or "extmarks"
end

--- Turn ghost text on for `buf` if enabled and the server offers inline completion.
---@param buf integer
---@param c vim.lsp.Client
function M.attach(buf, c)
  if not config.options.ghost_text.enabled or not c.server_capabilities.inlineCompletionProvider then
    return
  end
  if M.implementation() == "native" then
    attach_native(buf)
  else
    attach_extmarks(buf, c)
  end
end

return M

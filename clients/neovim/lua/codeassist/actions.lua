--- :CodeAssistExplain, :CodeAssistFix, :CodeAssistImprove on a range of lines, through
--- ordinary LSP code actions: listed, resolved, then Fix/Improve shown as a diff and
--- applied only when accepted, Explain shown in a float.
local client = require("codeassist.client")

local M = {}

--- What identifies each action: its command, its kind, a word of its title.
local WANTED = {
  explain = { command = "codeassist.explain", kind = "codeassist.explain", word = "explain" },
  fix = { command = "codeassist.fix", kind = "quickfix", word = "fix" },
  improve = { command = "codeassist.improve", kind = "refactor.rewrite", word = "improve" },
}

--- The code action for `which` ("explain", "fix", "improve") among `actions`: by command
--- name first, then by the word in its title, then by kind.
---@param actions table[]
---@param which string
---@return table|nil
function M.pick(actions, which)
  local wanted = WANTED[which]
  local function command_of(action)
    local command = action.command
    if type(command) == "table" then
      return command.command
    end
    return type(command) == "string" and command or nil
  end
  for _, action in ipairs(actions or {}) do
    if command_of(action) == wanted.command then
      return action
    end
  end
  for _, action in ipairs(actions or {}) do
    if (action.title or ""):lower():find(wanted.word, 1, true) then
      return action
    end
  end
  for _, action in ipairs(actions or {}) do
    local kind = action.kind or ""
    if kind == wanted.kind or vim.endswith(kind, "." .. wanted.kind) then
      return action
    end
  end
  return nil
end

--- The text edits of a WorkspaceEdit per uri (from `changes` and `documentChanges`).
---@param edit table
---@return table<string, table[]>
function M.edits_by_uri(edit)
  local out = {}
  for uri, edits in pairs(edit.changes or {}) do
    out[uri] = vim.list_extend(out[uri] or {}, edits)
  end
  for _, change in ipairs(edit.documentChanges or {}) do
    if change.textDocument and change.edits then
      local uri = change.textDocument.uri
      out[uri] = vim.list_extend(out[uri] or {}, change.edits)
    end
  end
  return out
end

--- `lines` after applying LSP text edits, computed on a scratch buffer.
---@param lines string[]
---@param edits table[]
---@param encoding string
---@return string[]
function M.apply_to_lines(lines, edits, encoding)
  local scratch = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(scratch, 0, -1, false, lines)
  vim.lsp.util.apply_text_edits(edits, scratch, encoding)
  local out = vim.api.nvim_buf_get_lines(scratch, 0, -1, false)
  vim.api.nvim_buf_delete(scratch, { force = true })
  return out
end

local function current_lines(uri)
  local buf = vim.uri_to_bufnr(uri)
  if vim.api.nvim_buf_is_loaded(buf) then
    return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  end
  local path = vim.uri_to_fname(uri)
  return vim.fn.filereadable(path) == 1 and vim.fn.readfile(path) or {}
end

--- A unified diff of what a WorkspaceEdit would change, as lines ({} when nothing).
---@param edit table
---@param encoding string
---@param root string|nil
---@return string[]
function M.diff(edit, encoding, root)
  local out = {}
  local uris = vim.tbl_keys(M.edits_by_uri(edit))
  table.sort(uris)
  local by_uri = M.edits_by_uri(edit)
  local text_diff = vim.text and vim.text.diff or vim.diff
  for _, uri in ipairs(uris) do
    local old = current_lines(uri)
    local new = M.apply_to_lines(old, by_uri[uri], encoding)
    local hunks = text_diff(table.concat(old, "\n") .. "\n", table.concat(new, "\n") .. "\n", { ctxlen = 3 })
    if hunks ~= "" then
      local path = require("codeassist.render").relative(uri, root)
      vim.list_extend(out, { "--- a/" .. path, "+++ b/" .. path })
      vim.list_extend(out, vim.split((hunks:gsub("\n$", "")), "\n", { plain = true }))
    end
  end
  return out
end

--- Show `lines` (a diff) in a float and ask whether to apply it; `decide(true|false)`.
function M.confirm(title, lines, decide)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].filetype = "diff"
  vim.bo[buf].modifiable = false
  local width = math.min(120, math.floor(vim.o.columns * 0.9))
  local height = math.min(#lines, math.floor(vim.o.lines * 0.6))
  local win = vim.api.nvim_open_win(buf, false, {
    relative = "editor",
    width = width,
    height = math.max(height, 1),
    row = 1,
    col = math.floor((vim.o.columns - width) / 2),
    border = "rounded",
    title = " " .. title .. " ",
  })
  vim.cmd.redraw()
  vim.ui.select({ "Apply", "Discard" }, { prompt = title .. ": apply this change?" }, function(choice)
    if vim.api.nvim_win_is_valid(win) then
      vim.api.nvim_win_close(win, true)
    end
    vim.api.nvim_buf_delete(buf, { force = true })
    decide(choice == "Apply")
  end)
end

--- Offer a WorkspaceEdit as a diff; apply it when accepted. `done(applied)` after.
function M.offer_edit(c, title, edit, done)
  local lines = M.diff(edit, c.offset_encoding, c.root_dir)
  if #lines == 0 then
    vim.notify("codeassist: " .. title .. ": no change to make", vim.log.levels.INFO)
    if done then
      done(false)
    end
    return
  end
  M.confirm(title, lines, function(accepted)
    if accepted then
      vim.lsp.util.apply_workspace_edit(edit, c.offset_encoding)
    end
    if done then
      done(accepted)
    end
  end)
end

local function is_workspace_edit(value)
  return type(value) == "table" and (value.changes ~= nil or value.documentChanges ~= nil)
end

--- Run a command the server named; show its answer (Explain) or offer its edit (Fix).
--- `where` ("calc.py:1-3") names the code in the Explain window.
local function execute(c, action, buf, done, where)
  local command = action.command
  local name = ({ explain = "Explain", fix = "Fix", improve = "Improve" })[command.command:match("([^.]+)$")]
    or action.title
  local session = name == "Explain" and require("codeassist.chat").scratch(name, c) or nil
  local params = { command = command.command, arguments = command.arguments }
  if session then
    local question = action.title .. (where and (" (" .. where .. ")") or "")
    session.turns[1] = { question = question, citations = {}, answer = "", state = "waiting" }
    require("codeassist.chat").ask(session, c, "workspace/executeCommand", params)
    if done then
      done(session)
    end
    return
  end
  client.request(c, "workspace/executeCommand", params, function(result)
    local edit = is_workspace_edit(result) and result or (type(result) == "table" and result.edit)
    if is_workspace_edit(edit) then
      M.offer_edit(c, name, edit, done)
    elseif done then
      done(result)
    end
  end, action.title, buf)
end

--- Act on a resolved (or complete) code action.
local function perform(c, action, buf, done, where)
  if type(action.data) == "table" and action.data.error then
    -- the server has told the user why (window/showMessage) and changes nothing
    if done then
      done(false)
    end
  elseif action.edit then
    M.offer_edit(c, action.title, action.edit, function(applied)
      if applied and action.command then
        execute(c, action, buf)
      end
      if done then
        done(applied)
      end
    end)
  elseif type(action.command) == "table" then
    execute(c, action, buf, done, where)
  else
    vim.notify("codeassist: " .. action.title .. ": the server gave nothing to do", vim.log.levels.WARN)
  end
end

--- The LSP range of whole lines `line1`..`line2` (1-based) of `buf`.
function M.line_range(buf, line1, line2, encoding)
  local last = vim.api.nvim_buf_get_lines(buf, line2 - 1, line2, false)[1] or ""
  return {
    start = { line = line1 - 1, character = 0 },
    ["end"] = { line = line2 - 1, character = vim.str_utfindex(last, encoding) },
  }
end

--- Ask for the code actions on lines `line1`..`line2` of the current buffer and run the
--- one for `which`. `done` (for tests) gets the outcome: applied or not, or the session.
---@param which "explain"|"fix"|"improve"
---@param line1 integer
---@param line2 integer
---@param done fun(outcome: any)|nil
function M.run(which, line1, line2, done)
  local buf = vim.api.nvim_get_current_buf()
  local c = client.require(buf)
  if not c then
    return
  end
  local range = M.line_range(buf, line1, line2, c.offset_encoding)
  local diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.lnum >= line1 - 1 and d.lnum <= line2 - 1 and d.user_data and d.user_data.lsp then
      diagnostics[#diagnostics + 1] = d.user_data.lsp
    end
  end
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = range,
    context = { diagnostics = diagnostics, triggerKind = 1 },
  }
  local where = ("%s:%d-%d"):format(vim.fn.fnamemodify(vim.api.nvim_buf_get_name(buf), ":t"), line1, line2)
  client.request(c, "textDocument/codeAction", params, function(actions)
    local action = M.pick(actions, which)
    if not action then
      vim.notify(("codeassist: the server offers no %s here"):format(which), vim.log.levels.WARN)
      return
    end
    local provider = c.server_capabilities.codeActionProvider
    local resolvable = type(provider) == "table" and provider.resolveProvider
    if not action.edit and resolvable and (which ~= "explain" or not action.command) then
      client.request(c, "codeAction/resolve", action, function(resolved)
        perform(c, resolved, buf, done, where)
      end, action.title, buf)
    else
      perform(c, action, buf, done, where)
    end
  end, "code actions", buf)
end

return M

--- The chat buffer: :CodeAssistChat, :CodeAssistNew, and showing a stored conversation
--- (history.lua picks it). Sources show as soon as the server sends them
--- (`codeassist/chatDelta` {citations}), then the answer streams in ({delta}); + and -
--- on an answer send the user's rating (`codeassist/feedback`).
local client = require("codeassist.client")
local config = require("codeassist.config")
local render = require("codeassist.render")

local M = {}

local CANCELLED = -32800

--- Sessions waiting for an answer, in the order they asked; deltas go to the one whose
--- conversation they name, else to the oldest one that does not know its conversation yet.
local pending = {}

--- The chat session: {buf, root, conversation_id, turns, turn_rows, rows, request}.
local chat

local function new_session(name)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_name(buf, name)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "hide"
  vim.bo[buf].swapfile = false
  vim.bo[buf].filetype = "markdown"
  vim.bo[buf].modifiable = false
  return { buf = buf, turns = {}, turn_rows = {}, rows = {} }
end

local function set_lines(buf, first, last, lines)
  if not vim.api.nvim_buf_is_valid(buf) then
    return
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, first, last, false, lines)
  vim.bo[buf].modifiable = false
end

--- Draw turn `index` of `session` from its first row to the end of the buffer.
function M.draw(session, index)
  if not vim.api.nvim_buf_is_valid(session.buf) then
    return
  end
  local lines, rows = render.turn(session.turns[index], session.root)
  local first = session.turn_rows[index]
  if not first then
    first = vim.api.nvim_buf_line_count(session.buf)
    if first == 1 and vim.api.nvim_buf_get_lines(session.buf, 0, 1, false)[1] == "" then
      first = 0
    end
    session.turn_rows[index] = first
  end
  for row in pairs(session.rows) do
    if row >= first then
      session.rows[row] = nil
    end
  end
  for offset, citation in pairs(rows) do
    session.rows[first + offset] = citation
  end
  set_lines(session.buf, first, -1, lines)
  for _, win in ipairs(vim.fn.win_findbuf(session.buf)) do
    if win ~= vim.api.nvim_get_current_win() then
      vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(session.buf), 0 })
    end
  end
end

--- Forget the turns shown in `session` and empty its buffer.
local function reset(session)
  session.turns, session.turn_rows, session.rows = {}, {}, {}
  set_lines(session.buf, 0, -1, {})
end

local function finish(session)
  for i, s in ipairs(pending) do
    if s == session then
      table.remove(pending, i)
      break
    end
  end
  session.request = nil
end

--- A `codeassist/chatDelta` notification {conversationId, messageId, delta?, citations?}.
---@param params table
function M.on_delta(params)
  local target
  for _, s in ipairs(pending) do
    if s.conversation_id and s.conversation_id == params.conversationId then
      target = s
      break
    end
  end
  if not target then
    for _, s in ipairs(pending) do
      if not s.conversation_id then
        target = s
        break
      end
    end
  end
  if not target then
    return
  end
  target.conversation_id = target.conversation_id or params.conversationId
  local index = #target.turns
  local turn = target.turns[index]
  if type(params.citations) == "table" then
    turn.citations = params.citations
    turn.notices = type(params.notices) == "table" and params.notices or turn.notices
  end
  if type(params.delta) == "string" then
    turn.answer = turn.answer .. params.delta
    turn.state = "streaming"
  end
  vim.schedule(function()
    M.draw(target, index)
  end)
end

--- Send `method` with `params` for the latest turn of `session` and draw what comes back.
--- The answer is a chat result {conversationId, answer, citations, usage}, or Explain's
--- {markdown}, or {error} saying why there is none.
function M.ask(session, c, method, params)
  local index = #session.turns
  local turn = session.turns[index]
  M.draw(session, index)
  pending[#pending + 1] = session
  local ok, id = c:request(method, params, function(err, result)
    finish(session)
    require("codeassist.status").refresh() -- the model may have loaded for this answer
    if err then
      turn.state = err.code == CANCELLED and "cancelled" or "error"
      turn.error = client.error_text(err)
    elseif type(result) == "table" and type(result.error) == "string" then
      turn.state, turn.error = "error", result.error
    elseif type(result) == "table" then
      session.conversation_id = result.conversationId or session.conversation_id
      turn.message_id = result.messageId
      local answer = result.answer or result.markdown -- a chat answer, or Explain's
      turn.answer = type(answer) == "string" and answer or turn.answer
      -- the answer's [n] marks number the sources it was given, so those stay listed
      for _, list in ipairs({ result.sources, turn.citations, result.citations }) do
        if type(list) == "table" and #list > 0 then
          turn.citations = list
          break
        end
      end
      turn.notices = type(result.notices) == "table" and result.notices or {}
      turn.ungrounded = result.grounded == false
      turn.usage = result.usage
      turn.state = "done"
    else
      turn.answer = type(result) == "string" and result or turn.answer
      turn.state = "done"
    end
    M.draw(session, index)
  end, session.source_buf)
  if not ok then
    finish(session)
    turn.state, turn.error = "error", "the server is not running"
    M.draw(session, index)
    return
  end
  session.request = { client = c, id = id, turn = turn, index = index }
end

--- Stop the answer being written in `session`.
function M.cancel(session)
  local request = session and session.request
  if not request then
    return
  end
  request.client:cancel_request(request.id)
  finish(session)
  request.turn.state = "cancelled"
  M.draw(session, request.index)
end

--- The turn of `session` drawn at 0-based `row`, and its index.
---@return table|nil turn
---@return integer|nil index
local function turn_at(session, row)
  for i = #session.turn_rows, 1, -1 do
    if session.turn_rows[i] <= row then
      return session.turns[i], i
    end
  end
end

local function jump(session)
  local row = vim.api.nvim_win_get_cursor(0)[1] - 1
  local col = vim.api.nvim_win_get_cursor(0)[2]
  local target
  local citation = session.rows[row]
  if citation then
    target = { path = vim.uri_to_fname(citation.uri), line = citation.range.start.line + 1 }
  else
    local line = vim.api.nvim_buf_get_lines(session.buf, row, row + 1, false)[1] or ""
    local turn = turn_at(session, row) or session.turns[#session.turns]
    target = render.location_at(line, col, turn and turn.citations, session.root)
    if target and session.root and not vim.startswith(target.path, "/") then
      target.path = vim.fs.joinpath(session.root, target.path)
    end
  end
  if not target then
    vim.notify("codeassist: no source on this line", vim.log.levels.INFO)
    return
  end
  local chat_win = vim.api.nvim_get_current_win()
  vim.cmd.wincmd("p")
  if vim.api.nvim_get_current_win() == chat_win then
    vim.cmd("aboveleft split")
  end
  vim.cmd.edit(vim.fn.fnameescape(target.path))
  local last = vim.api.nvim_buf_line_count(0)
  vim.api.nvim_win_set_cursor(0, { math.min(target.line, last), 0 })
end

--- Rate the answer of the turn under the cursor: `value` 1 (helpful) or -1 (not); the
--- same rating again takes it back (0), as the VS Code panel's thumbs do.
---@param session table
---@param value integer
function M.rate(session, value)
  local turn, index = turn_at(session, vim.api.nvim_win_get_cursor(0)[1] - 1)
  if not turn or not turn.message_id then
    vim.notify("codeassist: no finished answer here to rate", vim.log.levels.INFO)
    return
  end
  local c = client.require(session.source_buf)
  if not c then
    return
  end
  local rating = turn.feedback == value and 0 or value
  client.request(c, "codeassist/feedback", { messageId = turn.message_id, value = rating }, function()
    turn.feedback = rating
    -- drawing a turn rewrites the buffer to its end: the turns below move, so they are
    -- placed and drawn again
    for i = index + 1, #session.turns do
      session.turn_rows[i] = nil
    end
    for i = index, #session.turns do
      M.draw(session, i)
    end
  end, "feedback")
end

local function open_window(buf)
  local wins = vim.fn.win_findbuf(buf)
  if wins[1] then
    vim.api.nvim_set_current_win(wins[1])
    return
  end
  local opts = config.options.chat
  local size = opts.size
  if opts.layout == "float" then
    local width = math.floor(vim.o.columns * (size < 1 and size or 0.6))
    local height = math.floor(vim.o.lines * (size < 1 and size or 0.6))
    vim.api.nvim_open_win(buf, true, {
      relative = "editor",
      width = math.max(width, 40),
      height = math.max(height, 10),
      row = math.floor((vim.o.lines - height) / 2),
      col = math.floor((vim.o.columns - width) / 2),
      border = "rounded",
      title = " CodeAssist ",
    })
  else
    local vertical = opts.layout ~= "split"
    local total = vertical and vim.o.columns or vim.o.lines
    local n = size < 1 and math.floor(total * size) or size
    vim.cmd((vertical and "botright %dvsplit" or "botright %dsplit"):format(n))
    vim.api.nvim_win_set_buf(0, buf)
  end
  vim.wo.wrap = true
  vim.wo.linebreak = true
end

local asking = false -- the chat's own question prompt is open (its typing is a draft)
local last_draft = ""
local DRAFT_WORDS = 3 -- a draft of fewer words finds sources about nothing yet

local function prompt(session)
  asking = true
  vim.ui.input({ prompt = "Ask CodeAssist: " }, function(text)
    asking = false
    if text and vim.trim(text) ~= "" then
      M.send(text)
    end
  end)
end

local function map_keys(session)
  local function map(lhs, fn, desc)
    vim.keymap.set("n", lhs, fn, { buffer = session.buf, nowait = true, desc = "CodeAssist: " .. desc })
  end
  map("<CR>", function()
    jump(session)
  end, "open the source under the cursor")
  map("<C-c>", function()
    M.cancel(session)
  end, "stop the answer")
  map("+", function()
    M.rate(session, 1)
  end, "rate the answer under the cursor helpful")
  map("-", function()
    M.rate(session, -1)
  end, "rate the answer under the cursor not helpful")
  for _, key in ipairs({ "i", "a", "o" }) do
    map(key, function()
      prompt(session)
    end, "ask a question")
  end
  map("q", function()
    if not pcall(vim.api.nvim_win_close, 0, false) then -- the last window: show another buffer
      vim.cmd("silent! buffer #")
    end
  end, "close the chat window")
end

--- The chat session, made on first use.
---@return table
function M.session()
  if not chat or not vim.api.nvim_buf_is_valid(chat.buf) then
    chat = new_session("codeassist://chat")
    map_keys(chat)
  end
  return chat
end

--- The params of `question` asked from buffer `source`: its conversation, and the file
--- (and lines) it was asked from when that is a file of the workspace.
local function question_params(session, c, source, question, range)
  local params = { message = question, conversationId = session.conversation_id }
  local from = source ~= session.buf and source or session.source_buf
  if from and vim.api.nvim_buf_is_valid(from) and vim.lsp.buf_is_attached(from, c.id) and source == from then
    params.textDocument = { uri = vim.uri_from_bufnr(from) }
    if range then
      local last = vim.api.nvim_buf_get_lines(from, range.end_ - 1, range.end_, false)[1] or ""
      params.range = {
        start = { line = range.start - 1, character = 0 },
        ["end"] = { line = range.end_ - 1, character = vim.str_utfindex(last, c.offset_encoding) },
      }
    end
  end
  return params
end

--- A question being typed, as each word from the third is finished: the server finds its
--- sources and the model reads them while the typing goes on, so the answer starts sooner
--- once it is asked (`codeassist/chatDraft`, a notification: nothing comes back).
---@param text string the question as typed so far
function M.draft(text)
  local question = vim.trim(text)
  if not text:match("%S%s$") or question == last_draft or #vim.split(question, "%s+") < DRAFT_WORDS then
    return
  end
  local session = M.session()
  local source = vim.api.nvim_get_current_buf()
  local c = client.get(source ~= session.buf and source or session.source_buf)
  if not c or session.request then
    return
  end
  last_draft = question
  c:notify("codeassist/chatDraft", question_params(session, c, source, question, nil))
end

--- The command line changed: the chat's question prompt, or `:CodeAssistChat question`
--- being typed, is a draft of the question.
---@param kind string `getcmdtype()`
---@param line string `getcmdline()`
function M.on_cmdline(kind, line)
  if kind == "@" and asking then
    M.draft(line)
  elseif kind == ":" then
    local question = line:match("^%s*CodeAssistChat!?%s+(.*)$")
    if question then
      M.draft(question)
    end
  end
end

--- Ask `question` in the chat (continuing its conversation), about the file and lines
--- the command was run from when it was run from a file.
---@param question string
---@param range {start: integer, end_: integer}|nil 1-based lines of the source buffer
function M.send(question, range)
  local session = M.session()
  local source = vim.api.nvim_get_current_buf()
  local c = client.require(source ~= session.buf and source or session.source_buf)
  if not c then
    return
  end
  if session.request then
    vim.notify("codeassist: an answer is still being written (<C-c> stops it)", vim.log.levels.WARN)
    return
  end
  if source ~= session.buf then
    session.source_buf = source
  end
  session.root = session.root or c.root_dir
  last_draft = ""
  local params = question_params(session, c, source, question, range)
  session.turns[#session.turns + 1] = { question = question, citations = {}, answer = "", state = "waiting" }
  open_window(session.buf)
  M.ask(session, c, "codeassist/chat", params)
end

--- :CodeAssistChat [question] — open the chat; ask when a question is given.
---@param question string|nil
---@param range {start: integer, end_: integer}|nil
function M.open(question, range)
  if question and vim.trim(question) ~= "" then
    M.send(question, range)
    return
  end
  local session = M.session()
  open_window(session.buf)
  if #session.turns == 0 then
    prompt(session)
  end
end

--- :CodeAssistNew — the next question starts a new conversation. The server makes it
--- with that question (no empty conversation is left in the history).
function M.new()
  local session = M.session()
  M.cancel(session)
  reset(session)
  session.conversation_id = nil
  open_window(session.buf)
end

--- Empty the chat buffer if it shows conversation `id` (deleted: a follow-up could not
--- continue it); the chat window is left as it is.
---@param id string
function M.forget(id)
  if chat and vim.api.nvim_buf_is_valid(chat.buf) and chat.conversation_id == id then
    M.cancel(chat)
    reset(chat)
    chat.conversation_id = nil
  end
end

--- Show a stored conversation {id, title, messages} in the chat buffer and continue it.
---@param conversation table
function M.show(conversation)
  local session = M.session()
  M.cancel(session)
  reset(session)
  session.conversation_id = conversation.id
  session.root = session.root or (client.get() or {}).root_dir
  session.turns = render.turns_from_messages(conversation.messages)
  open_window(session.buf)
  for index in ipairs(session.turns) do
    M.draw(session, index)
  end
end

--- A session shown in a float for one answer that is not part of the chat (Explain).
---@param title string
---@param c vim.lsp.Client
---@return table
function M.scratch(title, c)
  local session = new_session(("codeassist://%s/%d"):format(title, vim.uv.hrtime()))
  session.root = c.root_dir
  vim.keymap.set("n", "<CR>", function()
    jump(session)
  end, { buffer = session.buf, desc = "CodeAssist: open the source under the cursor" })
  vim.keymap.set("n", "<C-c>", function()
    M.cancel(session)
  end, { buffer = session.buf, desc = "CodeAssist: stop the answer" })
  vim.keymap.set("n", "q", "<cmd>close<cr>", { buffer = session.buf, desc = "CodeAssist: close" })
  local width = math.min(100, math.floor(vim.o.columns * 0.8))
  local height = math.floor(vim.o.lines * 0.6)
  vim.api.nvim_open_win(session.buf, true, {
    relative = "editor",
    width = width,
    height = height,
    row = math.floor((vim.o.lines - height) / 2),
    col = math.floor((vim.o.columns - width) / 2),
    border = "rounded",
    title = " " .. title .. " ",
  })
  vim.wo.wrap = true
  vim.wo.linebreak = true
  return session
end

return M

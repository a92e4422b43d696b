-- The chat as a user meets it, with the real model on py-webclient: the sources show
-- before the answer, the answer streams in, <CR> on a source opens it, a follow-up stays
-- in the conversation, <C-c> stops an answer, past conversations can be reopened and
-- searched, + rates an answer and :CodeAssistDeleteConversation deletes one.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "harness.lua"))

-- short answers keep the test short; the follow-up is stopped long before its end
local buf = H.open({ cmd = H.server_cmd(), settings = { chat = { answerTokens = 96 } } }, "webclient/client.py")
local c = H.client(buf)
H.wait_indexed(c)
local chat = require("codeassist.chat")

local function chat_lines()
  return vim.api.nvim_buf_get_lines(chat.session().buf, 0, -1, false)
end

local function answering()
  return chat.session().request ~= nil
end

-- what the buffer looked like whenever it changed, until the answer is complete
local function watch()
  local seen = {}
  H.wait(180000, function()
    local text = table.concat(chat_lines(), "\n")
    if seen[#seen] ~= text then
      seen[#seen + 1] = text
    end
    return not answering()
  end, "the answer")
  return seen
end

-- typed as a user types it: each word finished on the command line is a draft the
-- server reads ahead (CmdlineChanged)
vim.api.nvim_feedkeys(":CodeAssistChat where do we retry failed HTTP requests?\r", "xt", false)
H.answers.first = watch()
H.answers.drafts = c:request_sync("codeassist/status", {}, 10000).result.chat.drafts
H.answers.conversation = chat.session().conversation_id

-- + on the answer: the server stores the rating, which shows under it
vim.api.nvim_set_current_win(vim.fn.win_findbuf(chat.session().buf)[1])
for i, line in ipairs(chat_lines()) do
  if line == "## CodeAssist" then
    vim.api.nvim_win_set_cursor(0, { i + 1, 0 })
    break
  end
end
vim.api.nvim_feedkeys("+", "x", false)
H.wait(20000, function()
  return vim.tbl_contains(chat_lines(), "Rated: helpful")
end, "the rating to show")

-- <CR> on the first source
local rows = chat_lines()
local source_row
for i, line in ipairs(rows) do
  if line:match("^  %[1%] ") then
    source_row = i
    break
  end
end
if source_row then
  vim.api.nvim_set_current_win(vim.fn.win_findbuf(chat.session().buf)[1])
  vim.api.nvim_win_set_cursor(0, { source_row, 4 })
  vim.api.nvim_feedkeys(vim.keycode("<CR>"), "x", false)
  H.answers.jumped = {
    label = rows[source_row],
    file = vim.api.nvim_buf_get_name(0),
    line = vim.api.nvim_win_get_cursor(0)[1],
  }
end

-- a follow-up, asked from the chat buffer, stopped with <C-c> once it is being written
vim.api.nvim_set_current_win(vim.fn.win_findbuf(chat.session().buf)[1])
vim.cmd("CodeAssistChat and how many times does it retry?")
H.wait(120000, function()
  local last = chat_lines() -- ends "## CodeAssist", "…", "" until the first words come
  return last[#last - 1] ~= "…" or last[#last - 2] ~= "## CodeAssist"
end, "the follow-up's answer to start")
H.answers.conversation_after = chat.session().conversation_id
vim.api.nvim_feedkeys(vim.keycode("<C-c>"), "x", false)
H.answers.cancelled = chat_lines()
H.answers.answering_after_cancel = answering()

-- history: pick the conversation back; search it
local offered = {}
vim.ui.select = function(items, opts, on_choice)
  local shown = {}
  for _, item in ipairs(items) do
    shown[#shown + 1] = opts.format_item(item)
  end
  offered[#offered + 1] = shown
  for i, text in ipairs(shown) do
    if text:find("where do we retry", 1, true) then
      return on_choice(items[i])
    end
  end
  on_choice(nil)
end
vim.cmd("CodeAssistNew")
H.answers.after_new = chat_lines()
vim.cmd("CodeAssistHistory")
H.wait(20000, function()
  return #offered == 1 and #chat_lines() > 3
end, "the conversation to come back")
H.answers.history = { offered = offered[1], lines = chat_lines(), conversation = chat.session().conversation_id }
vim.cmd("CodeAssistNew")
vim.cmd("CodeAssistSearchHistory retry")
H.wait(20000, function()
  return #offered == 2 and #chat_lines() > 3
end, "the history search to reopen the conversation")
H.answers.search_offered = offered[2]

-- delete it: picked, confirmed, gone from the history and from the chat buffer
vim.ui.select = function(items, _, on_choice)
  if items[1] == "Delete" then
    return on_choice("Delete")
  end
  for _, item in ipairs(items) do
    if item.id == H.answers.conversation then
      return on_choice(item)
    end
  end
  on_choice(nil)
end
vim.cmd("CodeAssistDeleteConversation")
H.wait(20000, function()
  return chat.session().conversation_id == nil
end, "the conversation to be deleted")
local left = c:request_sync("codeassist/conversations", {}, 10000).result
H.answers.after_delete = {
  ids = vim.tbl_map(function(item)
    return item.id
  end, left),
  lines = chat_lines(),
}
H.finish()

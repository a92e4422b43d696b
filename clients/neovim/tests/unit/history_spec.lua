-- Rating answers (+ / - in the chat buffer) and deleting conversations, against a fake
-- client whose replies the test gives, the way chat_spec plays the server.
local chat = require("codeassist.chat")
local client = require("codeassist.client")
local history = require("codeassist.history")

local sent = {}
local fake = { id = 1, root_dir = "/p", offset_encoding = "utf-16", server_capabilities = {} }
function fake:request(method, params, handler)
  sent[#sent + 1] = { method = method, params = params, handler = handler }
  return true, #sent
end
client.get = function()
  return fake
end

local function reply(result)
  sent[#sent].handler(nil, result)
end

local function lines()
  return vim.api.nvim_buf_get_lines(chat.session().buf, 0, -1, false)
end

local function row_of(text)
  for i, line in ipairs(lines()) do
    if line == text then
      return i
    end
  end
end

--- vim.ui.select picking the conversation titled `title`, then answering `answer` to the
--- question that follows; the prompts are kept in `asked`.
local asked = {}
local function pick(title, answer)
  vim.ui.select = function(items, opts, on_choice)
    asked[#asked + 1] = opts.prompt
    if items[1] == "Delete" then
      return on_choice(answer)
    end
    for _, item in ipairs(items) do
      if item.title == title then
        return on_choice(item)
      end
    end
    on_choice(nil)
  end
end

test("+ and - on an answer send its rating; the same key again takes it back", function()
  chat.show({
    id = "c1",
    title = "retries",
    messages = {
      { id = "u1", role = "user", content = "where?", citations = {} },
      { id = "a1", role = "assistant", content = "In retry.py.", citations = {}, feedback = vim.NIL },
      { id = "u2", role = "user", content = "why?", citations = {} },
      { id = "a2", role = "assistant", content = "Flaky networks.", citations = {}, feedback = -1 },
    },
  })
  eq("Rated: not helpful", lines()[row_of("Flaky networks.") + 1])
  vim.api.nvim_set_current_buf(chat.session().buf)
  vim.api.nvim_win_set_cursor(0, { row_of("In retry.py."), 0 })
  vim.api.nvim_feedkeys("+", "x", false)
  eq({ method = "codeassist/feedback", params = { messageId = "a1", value = 1 } }, { method = sent[#sent].method, params = sent[#sent].params })
  eq(nil, row_of("Rated: helpful"), "not shown before the server stored it")
  reply({ stored = true })
  eq(row_of("In retry.py.") + 1, row_of("Rated: helpful"))
  vim.api.nvim_feedkeys("+", "x", false)
  eq(0, sent[#sent].params.value)
  reply({ stored = true })
  eq(nil, row_of("Rated: helpful"))
  vim.api.nvim_feedkeys("-", "x", false)
  eq(-1, sent[#sent].params.value)
  reply({ stored = true })
  eq("Rated: not helpful", lines()[row_of("In retry.py.") + 1])
  -- the second turn's own rating is untouched
  eq("Rated: not helpful", lines()[row_of("Flaky networks.") + 1])
end)

test("an answer still being written cannot be rated", function()
  local session = chat.session()
  session.turns[#session.turns + 1] = { question = "more?", citations = {}, answer = "", state = "waiting" }
  chat.draw(session, #session.turns)
  local before = #sent
  vim.api.nvim_set_current_buf(session.buf)
  vim.api.nvim_win_set_cursor(0, { #lines() - 1, 0 })
  vim.api.nvim_feedkeys("+", "x", false)
  eq(before, #sent)
  session.turns[#session.turns] = nil
end)

test(":CodeAssistDeleteConversation asks, deletes, and empties the chat showing it", function()
  require("codeassist").setup({ cmd = { "/nonexistent/codeassist", "serve" } })
  local list = {
    { id = "c1", title = "retries", updated = 0 },
    { id = "c2", title = "parsing", updated = 0 },
  }
  -- "Keep" deletes nothing
  pick("retries", "Keep")
  vim.cmd("CodeAssistDeleteConversation")
  eq("codeassist/conversations", sent[#sent].method)
  local before = #sent
  reply(list)
  eq(before, #sent)
  eq("delete “retries” and its messages?", asked[#asked])

  -- another conversation: deleted; the chat, showing c1, stays
  pick("parsing", "Delete")
  vim.cmd("CodeAssistDeleteConversation")
  reply(list)
  eq({ "codeassist/deleteConversation", { conversationId = "c2" } }, { sent[#sent].method, sent[#sent].params })
  reply({ deleted = true })
  eq("c1", chat.session().conversation_id)
  ok(#lines() > 1, "the chat still shows c1")

  -- the one the chat shows: deleted, and the chat emptied for a new conversation
  pick("retries", "Delete")
  vim.cmd("CodeAssistDeleteConversation")
  reply(list)
  eq({ conversationId = "c1" }, sent[#sent].params)
  reply({ deleted = true })
  eq(nil, chat.session().conversation_id)
  eq({ "" }, lines())
end)

local chat = require("codeassist.chat")

local root = vim.fn.tempname()
vim.fn.mkdir(root .. "/webclient", "p")
vim.fn.writefile({ "import time", "", "class RetryPolicy:", "    pass" }, root .. "/webclient/retry.py")

--- A stand-in for the LSP client that keeps each request's handler, so the test plays
--- the server: deltas through chat.on_delta, then the response through the handler.
local function fake_client()
  local c = { id = 1, root_dir = root, offset_encoding = "utf-16", server_capabilities = {}, sent = {}, cancelled = {} }
  function c:request(method, params, handler)
    self.sent[#self.sent + 1] = { method = method, params = params, handler = handler }
    return true, #self.sent
  end
  function c:cancel_request(id)
    self.cancelled[#self.cancelled + 1] = id
  end
  return c
end

local citation = {
  uri = vim.uri_from_fname(root .. "/webclient/retry.py"),
  range = { start = { line = 2, character = 0 }, ["end"] = { line = 3, character = 8 } },
  symbol = "RetryPolicy",
}

local function lines(session)
  return vim.api.nvim_buf_get_lines(session.buf, 0, -1, false)
end

local function settle()
  vim.wait(50, function()
    return false
  end)
end

test("sources show first, the answer streams, the result completes it", function()
  local c = fake_client()
  local session = chat.session()
  session.root = root
  session.turns[1] = { question = "where do we retry?", citations = {}, answer = "", state = "waiting" }
  chat.ask(session, c, "codeassist/chat", { message = "where do we retry?" })
  eq("codeassist/chat", c.sent[1].method)
  eq({ "## You", "where do we retry?", "", "## CodeAssist", "…", "" }, lines(session))

  chat.on_delta({ conversationId = "c1", messageId = "m1", citations = { citation } })
  settle()
  eq("  [1] webclient/retry.py:3  RetryPolicy", lines(session)[5])
  eq("…", lines(session)[8])

  chat.on_delta({ conversationId = "c1", messageId = "m1", delta = "Retries live in " })
  chat.on_delta({ conversationId = "c1", messageId = "m1", delta = "RetryPolicy [1]." })
  settle()
  eq("Retries live in RetryPolicy [1].", lines(session)[8])

  local unused = vim.deepcopy(citation)
  unused.range.start.line = 0
  unused.symbol = nil
  c.sent[1].handler(nil, {
    conversationId = "c1",
    messageId = "m1",
    answer = "Retries live in RetryPolicy [1].",
    citations = { citation },
    sources = { citation, unused },
    notices = {},
    grounded = true,
    usage = { totalMs = 1500 },
  })
  -- every source stays listed (the [n] marks count them), not only the cited ones
  eq("  [2] webclient/retry.py:1", lines(session)[6])
  table.remove(session.turns[1].citations, 2)
  chat.draw(session, 1)
  eq("(1.5 s)", lines(session)[9])
  eq("c1", session.conversation_id)
  eq(nil, session.request)
end)

test("a follow-up continues the conversation below the first turn", function()
  local c = fake_client()
  local session = chat.session()
  session.turns[2] = { question = "and who calls it?", citations = {}, answer = "", state = "waiting" }
  chat.ask(session, c, "codeassist/chat", { message = "and who calls it?", conversationId = session.conversation_id })
  eq("c1", c.sent[1].params.conversationId)
  -- a delta for another conversation is not ours
  chat.on_delta({ conversationId = "other", messageId = "x", delta = "nope" })
  chat.on_delta({ conversationId = "c1", messageId = "m2", delta = "The client." })
  settle()
  local all = lines(session)
  eq("where do we retry?", all[2])
  eq("and who calls it?", all[12])
  eq("The client.", all[15])
  c.sent[1].handler(nil, { conversationId = "c1", messageId = "m2", answer = "The client.", citations = {} })
end)

test("<CR> on a source opens the file at its line", function()
  local session = chat.session()
  vim.api.nvim_set_current_buf(session.buf)
  vim.api.nvim_win_set_cursor(0, { 5, 0 })
  vim.api.nvim_feedkeys(vim.keycode("<CR>"), "x", false)
  eq(root .. "/webclient/retry.py", vim.api.nvim_buf_get_name(0))
  eq(3, vim.api.nvim_win_get_cursor(0)[1])
end)

test("<CR> on a [n] marker in the answer opens citation n", function()
  local session = chat.session()
  vim.api.nvim_set_current_buf(session.buf)
  local row = 8
  local col = lines(session)[row]:find("[1]", 1, true)
  vim.api.nvim_win_set_cursor(0, { row, col })
  vim.api.nvim_feedkeys(vim.keycode("<CR>"), "x", false)
  eq(root .. "/webclient/retry.py", vim.api.nvim_buf_get_name(0))
  eq(3, vim.api.nvim_win_get_cursor(0)[1])
end)

test("<C-c> cancels the answer being written and says so", function()
  local c = fake_client()
  local session = chat.session()
  session.turns[#session.turns + 1] = { question = "slow one", citations = {}, answer = "", state = "waiting" }
  chat.ask(session, c, "codeassist/chat", { message = "slow one" })
  chat.on_delta({ conversationId = "c1", messageId = "m3", delta = "Partial" })
  settle()
  vim.api.nvim_set_current_buf(session.buf)
  vim.api.nvim_feedkeys(vim.keycode("<C-c>"), "x", false)
  eq({ 1 }, c.cancelled)
  local all = lines(session)
  eq({ "Partial", "(cancelled)" }, { all[#all - 2], all[#all - 1] })
  -- the server's RequestCancelled reply changes nothing more
  c.sent[1].handler({ code = -32800, message = "cancelled" }, nil)
  eq("(cancelled)", lines(session)[#lines(session) - 1])
end)

test("an error reply shows in the turn", function()
  local c = fake_client()
  local session = chat.session()
  session.turns[#session.turns + 1] = { question = "q", citations = {}, answer = "", state = "waiting" }
  chat.ask(session, c, "codeassist/chat", { message = "q" })
  c.sent[1].handler({ code = -32603, message = "no model is installed: run `codeassist models install`\ntrace" }, nil)
  local all = lines(session)
  eq("Error: no model is installed: run `codeassist models install`", all[#all - 1])
end)

test("a stored conversation is shown and continued", function()
  chat.show({
    id = "c9",
    title = "retries",
    messages = {
      { id = "1", role = "user", content = "where?", citations = {} },
      { id = "2", role = "assistant", content = "In retry.py [1].", citations = { citation } },
    },
  })
  local session = chat.session()
  eq("c9", session.conversation_id)
  eq({ "## You", "where?", "", "Sources:", "  [1] webclient/retry.py:3  RetryPolicy", "", "## CodeAssist", "In retry.py [1].", "" }, lines(session))
end)

test("a question typed in the chat prompt or after :CodeAssistChat goes out as each word ends", function()
  local c = fake_client()
  c.notified = {}
  function c:notify(method, params)
    self.notified[#self.notified + 1] = { method = method, params = params }
    return true
  end
  local client = require("codeassist.client")
  local get = client.get
  client.get = function()
    return c
  end
  chat.on_cmdline(":", "CodeAssistChat where do ")
  chat.on_cmdline(":", "CodeAssistChat where do we ")
  chat.on_cmdline(":", "CodeAssistChat where do we ")
  chat.on_cmdline(":", "CodeAssistChat where do we ret")
  chat.on_cmdline(":", "edit where do we retry ")
  chat.on_cmdline("@", "how does it retry ") -- another plugin's input(), not the chat's prompt
  eq(1, #c.notified)
  eq("codeassist/chatDraft", c.notified[1].method)
  eq({ message = "where do we", conversationId = "c9" }, c.notified[1].params)
  local input = vim.ui.input
  vim.ui.input = function(_, on_confirm) -- the chat's own prompt, typed into
    chat.on_cmdline("@", "who calls the retry ")
    on_confirm(nil)
  end
  vim.api.nvim_set_current_buf(chat.session().buf)
  vim.api.nvim_feedkeys("i", "x", false)
  vim.ui.input = input
  client.get = get
  eq("who calls the retry", c.notified[2].params.message)
  chat.on_cmdline("@", "how does it retry ")
  eq(2, #c.notified, "the prompt is closed")
end)

local render = require("codeassist.render")

local root = "/work/proj"
local function citation(path, line, symbol)
  return {
    uri = vim.uri_from_fname(root .. "/" .. path),
    range = { start = { line = line, character = 0 }, ["end"] = { line = line + 3, character = 0 } },
    symbol = symbol,
  }
end

test("a citation reads as path:line relative to the root, 1-based", function()
  eq("webclient/retry.py:13", render.citation_label(citation("webclient/retry.py", 12), root))
  eq("/elsewhere/x.py:1", render.citation_label({ uri = "file:///elsewhere/x.py", range = { start = { line = 0 } } }, root))
end)

test("a turn shows the question, the sources first, then the answer", function()
  local lines, rows = render.turn({
    question = "where do we retry?",
    citations = { citation("webclient/retry.py", 12, "RetryPolicy"), citation("webclient/client.py", 40) },
    answer = "In RetryPolicy [1].\nIt is used by the client [2].",
    state = "done",
    usage = { totalMs = 2300 },
  }, root)
  eq({
    "## You",
    "where do we retry?",
    "",
    "Sources:",
    "  [1] webclient/retry.py:13  RetryPolicy",
    "  [2] webclient/client.py:41",
    "",
    "## CodeAssist",
    "In RetryPolicy [1].",
    "It is used by the client [2].",
    "(2.3 s)",
    "",
  }, lines)
  eq("webclient/retry.py", render.relative(rows[4].uri, root))
  eq("webclient/client.py", render.relative(rows[5].uri, root))
end)

test("a waiting turn shows an ellipsis; cancelled and failed turns say so", function()
  local waiting = render.turn({ question = "q", citations = {}, answer = "", state = "waiting" }, root)
  eq("…", waiting[#waiting - 1])
  local cancelled = render.turn({ question = "q", citations = {}, answer = "Half", state = "cancelled" }, root)
  eq({ "Half", "(cancelled)" }, { cancelled[#cancelled - 2], cancelled[#cancelled - 1] })
  local failed = render.turn({ question = "q", citations = {}, answer = "", state = "error", error = "no model" }, root)
  eq("Error: no model", failed[#failed - 1])
end)

test("the server's notices and an answer citing nothing are said under the answer", function()
  local lines = render.turn({
    question = "q",
    citations = { citation("a.py", 0) },
    answer = "a",
    state = "done",
    notices = { "answered from what is indexed so far" },
    ungrounded = true,
  }, root)
  eq({ "Note: answered from what is indexed so far", "Note: this answer cites none of the sources" }, { lines[#lines - 2], lines[#lines - 1] })
end)

test("a symbol that is JSON null is not shown", function()
  local c = citation("a.py", 0)
  c.symbol = vim.NIL
  local lines = render.turn({ question = "q", citations = { c }, answer = "a", state = "done" }, root)
  eq("  [1] a.py:1", lines[5])
end)

test("stored messages become turns", function()
  local turns = render.turns_from_messages({
    { id = "1", role = "user", content = "first?", citations = {} },
    { id = "2", role = "assistant", content = "one", citations = { citation("a.py", 1) } },
    { id = "3", role = "user", content = "second?", citations = vim.NIL },
    { id = "4", role = "assistant", content = "two", citations = {} },
  })
  eq(2, #turns)
  eq("first?", turns[1].question)
  eq("one", turns[1].answer)
  eq(1, #turns[1].citations)
  eq("two", turns[2].answer)
  eq("done", turns[2].state)
end)

test("the location under the cursor: a [n] marker, or a path:line in the text", function()
  local citations = { citation("webclient/retry.py", 12) }
  local line = "See [1] and also webclient/client.py:41 for the call."
  eq({ path = "webclient/retry.py", line = 13 }, render.location_at(line, 5, citations, root))
  eq({ path = "webclient/client.py", line = 41 }, render.location_at(line, 20, citations, root))
  -- anywhere else on the line: the first path:line on it
  eq({ path = "webclient/client.py", line = 41 }, render.location_at(line, 0, citations, root))
  eq(nil, render.location_at("no location here", 3, citations, root))
end)

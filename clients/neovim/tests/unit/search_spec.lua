local search = require("codeassist.search")

test("search hits become quickfix items at the hit's first line", function()
  local items = search.to_quickfix({
    {
      path = "webclient/retry.py",
      uri = "file:///p/webclient/retry.py",
      range = { start = { line = 9, character = 0 }, ["end"] = { line = 20, character = 0 } },
      score = 0.5,
      symbol = "RetryPolicy",
      kind = "class",
      why = { "keyword", "vector" },
    },
    { path = "README.md", start_line = 3, end_line = 5, score = 0.1, symbol = vim.NIL, kind = "text", why = {} },
  })
  eq({ filename = "/p/webclient/retry.py", lnum = 10, col = 1, text = "RetryPolicy  [keyword+vector 0.500]" }, items[1])
  eq({ filename = "README.md", lnum = 3, col = 1, text = "text  [ 0.100]" }, items[2])
  eq({}, search.to_quickfix(nil))
end)

local ghost = require("codeassist.ghost")

test("the first item of a list or of an InlineCompletionList", function()
  eq("a", ghost.first_item({ items = { { insertText = "a" } } }).insertText)
  eq("b", ghost.first_item({ { insertText = "b" } }).insertText)
  eq(nil, ghost.first_item(nil))
  eq(nil, ghost.first_item({ items = {} }))
end)

test("an item without a range shows after the cursor, extra lines below", function()
  local view = ghost.display({ insertText = "return a + b\n    end" }, "    ", 4, 4, "utf-16")
  eq({ inline = "return a + b", below = { "    end" } }, view)
end)

test("an item whose range starts before the cursor shows only what is not typed", function()
  local item = {
    insertText = "retry_count = 3",
    range = { start = { line = 2, character = 4 }, ["end"] = { line = 2, character = 9 } },
  }
  eq({ inline = "_count = 3", below = {} }, ghost.display(item, "    retry", 2, 9, "utf-16"))
  -- typed text that the item does not continue: nothing to show
  eq(nil, ghost.display(item, "    rexxx", 2, 9, "utf-16"))
end)

test("text right of the cursor that the item replaces is not shown twice", function()
  local item = {
    insertText = "foo(a, b)",
    range = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 5 } },
  }
  eq({ inline = "a, b", below = {} }, ghost.display(item, "foo()", 0, 4, "utf-16"))
end)

test("accepting replaces the item's range and puts the cursor after the text", function()
  local item = {
    insertText = "foo(a, b)",
    range = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 5 } },
  }
  local edit = ghost.accept_edit(item, { "foo()" }, 0, 4, "utf-16")
  eq({ start_col = 0, end_row = 0, end_col = 5, lines = { "foo(a, b)" }, cursor = { 1, 9 } }, edit)
  local multi = ghost.accept_edit({ insertText = "x = 1\ny = 2" }, { "  " }, 0, 2, "utf-16")
  eq({ start_col = 2, end_row = 0, end_col = 2, lines = { "x = 1", "y = 2" }, cursor = { 2, 5 } }, multi)
end)

test("the extmark implementation shows, accepts and dismisses in a buffer", function()
  local buf = vim.api.nvim_create_buf(true, false)
  vim.api.nvim_set_current_buf(buf)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "def add(a, b):", "    " })
  vim.o.virtualedit = "onemore" -- the cursor after the line's end, as in insert mode
  vim.api.nvim_win_set_cursor(0, { 2, 4 })
  -- a client that answers every inline completion request at once with one item
  local fake = {
    offset_encoding = "utf-16",
    server_capabilities = { inlineCompletionProvider = true },
    request = function(_, method, _, handler)
      eq("textDocument/inlineCompletion", method)
      handler(nil, { items = { { insertText = "return a + b" } } })
      return true, 1
    end,
    cancel_request = function() end,
  }
  require("codeassist.config").apply({ ghost_text = { implementation = "extmarks" } })
  ghost.attach(buf, fake)
  vim.api.nvim_get_mode = function()
    return { mode = "i" }
  end
  ghost.request(buf)
  ok(ghost.visible(buf), "ghost text shown")
  local marks = vim.api.nvim_buf_get_extmarks(buf, ghost.ns, 0, -1, { details = true })
  eq("return a + b", marks[1][4].virt_text[1][1])
  ok(ghost.accept(buf), "accepted")
  eq({ "def add(a, b):", "    return a + b" }, vim.api.nvim_buf_get_lines(buf, 0, -1, false))
  eq({ 2, 16 }, vim.api.nvim_win_get_cursor(0))
  ghost.request(buf)
  ghost.clear(buf)
  ok(not ghost.visible(buf), "dismissed")
  eq(0, #vim.api.nvim_buf_get_extmarks(buf, ghost.ns, 0, -1, {}))
end)

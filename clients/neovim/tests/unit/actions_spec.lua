local actions = require("codeassist.actions")

local root = vim.fn.tempname()
vim.fn.mkdir(root, "p")
local path = root .. "/calc.py"
vim.fn.writefile({ "def add(a, b):", "    return a - b", "" }, path)
local uri = vim.uri_from_fname(path)

local fix = {
  changes = {
    [uri] = {
      { range = { start = { line = 1, character = 13 }, ["end"] = { line = 1, character = 14 } }, newText = "+" },
    },
  },
}

test("the action is picked by command, then title, then kind", function()
  local list = {
    { title = "CodeAssist: Improve", kind = "refactor.rewrite" },
    { title = "Something", kind = "quickfix" },
    { title = "CodeAssist: Explain", kind = "refactor.codeassist.explain" },
    { title = "Fix it", command = { command = "codeassist.fix", title = "Fix" } },
  }
  eq("Fix it", actions.pick(list, "fix").title)
  eq("CodeAssist: Improve", actions.pick(list, "improve").title)
  eq("CodeAssist: Explain", actions.pick(list, "explain").title)
  eq("Something", actions.pick({ { title = "Something", kind = "quickfix" } }, "fix").title)
  eq(nil, actions.pick({}, "fix"))
  eq(nil, actions.pick(nil, "fix"))
end)

test("edits are gathered from changes and documentChanges", function()
  local edits = actions.edits_by_uri({
    changes = { ["file:///a"] = { { newText = "1" } } },
    documentChanges = { { textDocument = { uri = "file:///a", version = 1 }, edits = { { newText = "2" } } } },
  })
  eq({ { newText = "1" }, { newText = "2" } }, edits["file:///a"])
end)

test("a Fix is shown as a unified diff of the file", function()
  eq({
    "--- a/calc.py",
    "+++ b/calc.py",
    "@@ -1,3 +1,3 @@",
    " def add(a, b):",
    "-    return a - b",
    "+    return a + b",
    " ",
  }, actions.diff(fix, "utf-16", root))
end)

local function choose(answer)
  vim.ui.select = function(items, _, on_choice)
    eq({ "Apply", "Discard" }, items)
    on_choice(answer)
  end
end

test("a discarded Fix changes nothing; an accepted one is applied", function()
  vim.cmd.edit(path)
  local buf = vim.api.nvim_get_current_buf()
  local c = { offset_encoding = "utf-16", root_dir = root }
  local outcome
  choose("Discard")
  actions.offer_edit(c, "Fix", fix, function(applied)
    outcome = applied
  end)
  eq(false, outcome)
  eq("    return a - b", vim.api.nvim_buf_get_lines(buf, 1, 2, false)[1])
  choose("Apply")
  actions.offer_edit(c, "Fix", fix, function(applied)
    outcome = applied
  end)
  eq(true, outcome)
  eq("    return a + b", vim.api.nvim_buf_get_lines(buf, 1, 2, false)[1])
  -- no float is left behind
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    eq("", vim.api.nvim_win_get_config(win).relative)
  end
end)

test("the LSP range of whole lines ends at the last line's end", function()
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "a", "héllo", "c" })
  eq({ start = { line = 0, character = 0 }, ["end"] = { line = 1, character = 5 } }, actions.line_range(buf, 1, 2, "utf-16"))
  eq({ start = { line = 0, character = 0 }, ["end"] = { line = 1, character = 6 } }, actions.line_range(buf, 1, 2, "utf-8"))
end)

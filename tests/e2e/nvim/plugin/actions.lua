-- Explain, Fix and Improve as a user runs them on a selection, with the real model:
-- Fix shows a diff and changes nothing when discarded, applies it when accepted; Explain
-- answers in a float.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "harness.lua"))

local file = vim.fs.joinpath(H.root, "webclient", "calc.py")
vim.fn.writefile({
  "def add(a, b):",
  '    """Return the sum of a and b."""',
  "    return a - b",
}, file)
local buf = H.open({ cmd = H.server_cmd() }, "webclient/calc.py")
H.client(buf)
local original = vim.api.nvim_buf_get_lines(buf, 0, -1, false)

local function float_lines()
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= "" then
      return vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
    end
  end
  return nil
end

-- the user's answer to "apply this change?", with the diff on screen when asked
local answer, asked = "Discard", {}
vim.ui.select = function(items, opts, on_choice)
  asked[#asked + 1] = { items = items, prompt = opts.prompt, diff = float_lines() }
  on_choice(answer)
end

vim.cmd("1,3CodeAssistFix")
H.wait(120000, function()
  return #asked == 1
end, "the first Fix to be offered")
H.answers.discarded = vim.api.nvim_buf_get_lines(buf, 0, -1, false)

answer = "Apply"
vim.cmd("1,3CodeAssistFix")
H.wait(120000, function()
  return #asked == 2
end, "the second Fix to be offered")
H.answers.asked = asked
H.answers.original = original
H.answers.applied = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
H.answers.floats_left = float_lines() ~= nil

vim.cmd("1,3CodeAssistExplain")
local explained
H.wait(120000, function()
  explained = float_lines()
  if not explained then
    return false
  end
  local text = table.concat(explained, "\n")
  return not text:find("…", 1, true) and text:find("## CodeAssist\n.", 1) ~= nil
end, "the explanation")
H.answers.explained = explained
H.finish()

-- Ghost text as a user meets it: typing in insert mode brings a suggestion from the
-- server's inline completion as virtual text, <Tab> accepts it into the buffer.
-- The editor is a second nvim driven over RPC (keys typed with nvim_input).
local here = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local H = dofile(vim.fs.joinpath(here, "harness.lua"))
local R = dofile(vim.fs.joinpath(here, "remote.lua"))

local file = vim.fs.joinpath(H.root, "webclient", "mathutil.py")
vim.fn.writefile({
  "def add(a, b):",
  '    """Return the sum of a and b."""',
  "    return",
}, file)

local editor = R.start()
local function fail(message)
  editor:stop()
  H.fail(message)
end
editor:lua([[
  local plugin, cmd, file = ...
  vim.opt.runtimepath:prepend(plugin)
  require("codeassist").setup({ cmd = cmd })
  vim.cmd.edit(file)
]], vim.fs.joinpath(H.repo, "clients", "neovim"), H.server_cmd(), file)
H.answers.implementation = editor:lua("return require('codeassist.ghost').implementation()")

if not vim.wait(60000, function()
  return editor:lua([[
    local c = vim.lsp.get_clients({ name = "codeassist", bufnr = 0 })[1]
    return c ~= nil and c.initialized
  ]])
end, 100) then
  fail("the server did not start in the editor")
end

local shown_code = [[
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(0, -1, 0, -1, { details = true })) do
    local d = mark[4]
    if d.virt_text or d.virt_lines then
      local parts = {}
      for _, chunk in ipairs(d.virt_text or {}) do
        parts[#parts + 1] = chunk[1]
      end
      return table.concat(parts)
    end
  end
  return nil
]]

-- the cursor after "return", then typing " a"
editor:lua("vim.api.nvim_win_set_cursor(0, { 3, 9 })")
editor:input("A a")
local shown
if not vim.wait(60000, function()
  shown = editor:lua(shown_code)
  return shown ~= nil and shown ~= vim.NIL
end, 100) then
  fail("no ghost text appeared")
end
H.answers.shown = shown
H.answers.mode_before = editor:lua("return vim.api.nvim_get_mode().mode")
editor:input("<Tab>")
vim.wait(5000, function()
  return editor:lua("return vim.api.nvim_buf_get_lines(0, 2, 3, false)[1]") ~= "    return a"
end, 50)
H.answers.line = editor:lua("return vim.api.nvim_buf_get_lines(0, 2, -1, false)")
H.answers.after = editor:lua(shown_code)
H.answers.mode_after = editor:lua("return vim.api.nvim_get_mode().mode")
editor:input("<Esc>")
editor:stop()
H.finish()

-- A server that dies is reported to the user, not silent.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "harness.lua"))

local buf = H.open({ cmd = H.server_cmd() }, "webclient/client.py")
H.client(buf)
local children = vim.api.nvim_get_proc_children(vim.fn.getpid())
if #children ~= 1 then
  H.fail("expected one server process, found " .. vim.inspect(children))
end
vim.uv.kill(children[1], "sigkill")
H.wait(10000, function()
  return H.told("the server killed by signal 9")
end, "the crash report")
H.answers.clients = #vim.lsp.get_clients({ name = "codeassist" })
H.finish()

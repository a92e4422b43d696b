-- A second, real Neovim driven over its RPC socket, for what a `-l` script cannot do in
-- its own editor: type in insert mode (nvim_input), as a user at a terminal would.
local R = {}

local Editor = {}
Editor.__index = Editor

--- Start `nvim --headless --clean --listen SOCKET` and connect to it.
---@return table editor with :lua(code, ...), :input(keys), :stop()
function R.start()
  local socket = vim.fn.tempname() .. ".sock"
  local job = vim.fn.jobstart({ vim.v.progpath, "--headless", "--clean", "--listen", socket })
  if job <= 0 then
    error("could not start the editor nvim")
  end
  if not vim.wait(10000, function()
    return vim.uv.fs_stat(socket) ~= nil
  end, 20) then
    error("the editor nvim did not listen")
  end
  local chan = vim.fn.sockconnect("pipe", socket, { rpc = true })
  return setmetatable({ job = job, chan = chan }, Editor)
end

--- Run Lua in the editor with `...` as its arguments; its first return value.
function Editor:lua(code, ...)
  return vim.rpcrequest(self.chan, "nvim_exec_lua", code, { ... })
end

--- Keys as typed by a user (`<Tab>`, `<Esc>` notation).
function Editor:input(keys)
  vim.rpcrequest(self.chan, "nvim_input", keys)
end

--- Quit the editor (which stops its language servers) and wait for it to end.
function Editor:stop()
  pcall(vim.rpcnotify, self.chan, "nvim_command", "qa!")
  if vim.fn.jobwait({ self.job }, 10000)[1] == -1 then
    vim.fn.jobstop(self.job)
  end
end

return R

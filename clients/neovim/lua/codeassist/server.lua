--- Starting `codeassist serve` for a buffer with vim.lsp.start, and saying so when it
--- cannot start or when it dies.
local client = require("codeassist.client")
local config = require("codeassist.config")

local M = {}

local told_missing = false

--- The workspace root of `buf`: the nearest folder with a marker, else the file's folder.
---@param buf integer
---@param markers string[]
---@return string|nil
function M.root_for(buf, markers)
  local name = vim.api.nvim_buf_get_name(buf)
  if name == "" then
    return nil
  end
  return vim.fs.root(buf, markers) or vim.fs.dirname(name)
end

--- The message for a server that ended on its own; nil for an ordinary shutdown.
---@param code integer
---@param signal integer
---@return string|nil
function M.exit_message(code, signal)
  if code == 0 and signal == 0 then
    return nil
  end
  local how = signal ~= 0 and ("killed by signal " .. signal) or ("exited with code " .. code)
  return ("codeassist: the server %s; see :LspLog, then reopen the file or :CodeAssistRestart"):format(how)
end

local function on_exit(code, signal)
  if vim.v.exiting ~= vim.NIL then
    return
  end
  local message = M.exit_message(code, signal)
  if message then
    vim.schedule(function()
      vim.notify(message, vim.log.levels.ERROR)
    end)
  end
end

--- Whether the configured command can run; tells the user once what to do when not.
---@return boolean
function M.executable()
  local exe = config.options.cmd[1]
  if vim.fn.executable(exe) == 1 then
    return true
  end
  if not told_missing then
    told_missing = true
    local message = ("codeassist: `%s` is not executable: install CodeAssist (see its README) "
      .. "or set `cmd` in require('codeassist').setup()"):format(exe)
    vim.schedule(function() -- not from inside the FileType autocommand that opened the file
      vim.notify(message, vim.log.levels.ERROR)
    end)
  end
  return false
end

--- The vim.lsp.start config for a workspace root.
---@param root string
---@param handlers table<string, function>
---@return vim.lsp.ClientConfig
function M.client_config(root, handlers)
  local options = config.options
  return {
    name = client.name,
    cmd = options.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fs.basename(root) } },
    init_options = next(options.settings) and options.settings or vim.empty_dict(),
    handlers = handlers,
    on_exit = on_exit,
  }
end

--- Start (or reuse) the server for `buf` and attach it; nil when the buffer is not a file
--- of a workspace or the command is missing.
---@param buf integer
---@param handlers table<string, function>
---@return integer|nil client_id
function M.start(buf, handlers)
  if vim.bo[buf].buftype ~= "" then
    return nil
  end
  local root = M.root_for(buf, config.options.root_markers)
  if not root or not M.executable() then
    return nil
  end
  return vim.lsp.start(M.client_config(root, handlers), { bufnr = buf })
end

--- Stop every CodeAssist client and start again for the loaded buffers that had one.
---@param handlers table<string, function>
function M.restart(handlers)
  local buffers = {}
  for _, c in ipairs(vim.lsp.get_clients({ name = client.name })) do
    for buf in pairs(c.attached_buffers) do
      buffers[#buffers + 1] = buf
    end
    c:stop()
  end
  vim.wait(5000, function()
    return #vim.lsp.get_clients({ name = client.name }) == 0
  end, 50)
  for _, buf in ipairs(buffers) do
    if vim.api.nvim_buf_is_loaded(buf) then
      M.start(buf, handlers)
    end
  end
end

return M

--- Finding the CodeAssist language client and talking to it.
local M = {}

M.name = "codeassist"

--- The client attached to `buf`, else any running CodeAssist client (commands such as
--- :CodeAssistSearch work from any buffer once a workspace is open).
---@param buf integer|nil
---@return vim.lsp.Client|nil
function M.get(buf)
  local attached = vim.lsp.get_clients({ name = M.name, bufnr = buf or vim.api.nvim_get_current_buf() })
  if attached[1] then
    return attached[1]
  end
  return vim.lsp.get_clients({ name = M.name })[1]
end

--- The client, or nil after telling the user why there is none.
---@param buf integer|nil
---@return vim.lsp.Client|nil
function M.require(buf)
  local client = M.get(buf)
  if not client then
    vim.notify(
      "codeassist: no server is running; open a file of your project (see :checkhealth codeassist)",
      vim.log.levels.WARN
    )
  end
  return client
end

--- One line for an LSP error response.
---@param err table
---@return string
function M.error_text(err)
  local message = type(err) == "table" and err.message or tostring(err)
  return (tostring(message):gsub("\n.*", ""))
end

--- Send `method` and call `on_result(result)` with the answer; an error is reported to the
--- user (prefixed with `what`) and `on_error(err)` is called if given.
---@return integer|nil request_id
function M.request(client, method, params, on_result, what, buf, on_error)
  local ok, id = client:request(method, params, function(err, result)
    if err then
      if on_error then
        on_error(err)
      end
      if err.code ~= -32800 then -- RequestCancelled: the user asked for it
        vim.notify(("codeassist: %s: %s"):format(what or method, M.error_text(err)), vim.log.levels.ERROR)
      end
      return
    end
    on_result(result)
  end, buf)
  if not ok then
    vim.notify(("codeassist: %s: the server is not running"):format(what or method), vim.log.levels.ERROR)
    return nil
  end
  return id
end

--- Whether the server lists `command` among its executeCommand commands.
---@return boolean
function M.has_command(client, command)
  local provider = client.server_capabilities.executeCommandProvider
  return provider ~= nil and vim.tbl_contains(provider.commands or {}, command)
end

return M

--- The statusline text from `codeassist/status` and `$/progress`, never blocking: the
--- function returns what it last learnt and asks again in the background when that is old.
local client = require("codeassist.client")
local config = require("codeassist.config")

local M = {}

local cache = { text = "", at = -math.huge, asking = false }
local running = {} -- progress token -> its latest {title, message, percentage}

--- A short text for a `codeassist/status` result.
---@param status table
---@return string
function M.format(status)
  if type(status) ~= "table" then
    return ""
  end
  local files, pending = 0, 0
  for _, ws in ipairs(status.workspaces or {}) do
    files = files + (tonumber(ws.files) or 0)
    pending = pending + (tonumber(ws.vectors_pending) or 0)
  end
  local parts = { "CodeAssist" }
  if status.indexing then
    parts[#parts + 1] = "indexing"
  elseif #(status.workspaces or {}) == 0 then
    parts[#parts + 1] = "no index"
  else
    parts[#parts + 1] = ("%d files"):format(files)
  end
  if pending > 0 then
    parts[#parts + 1] = ("%d to embed"):format(pending)
  end
  if status.model and status.model ~= vim.NIL then
    parts[#parts + 1] = status.model .. (status.modelActive and "" or " (idle)")
  end
  if status.lastError and status.lastError ~= vim.NIL and status.lastError ~= "" then
    parts[#parts + 1] = "error"
  end
  return table.concat(parts, " · ")
end

--- Text for one `$/progress` value, e.g. "Indexing py-webclient 40%".
---@param value table
---@return string
function M.progress_text(value)
  local parts = { value.title or "working" }
  if value.message and value.message ~= "" then
    parts[#parts + 1] = value.message
  end
  if value.percentage then
    parts[#parts + 1] = ("%d%%"):format(value.percentage)
  end
  return table.concat(parts, " ")
end

--- Keep the latest report of each running `$/progress` of the CodeAssist client
--- (an LspProgress autocommand calls this).
---@param data {client_id: integer, params: {token: any, value: table}}
function M.on_progress(data)
  local c = vim.lsp.get_client_by_id(data.client_id)
  if not c or c.name ~= client.name then
    return
  end
  local token, value = tostring(data.params.token), data.params.value
  if value.kind == "begin" then
    running[token] = { title = value.title, message = value.message, percentage = value.percentage }
  elseif value.kind == "report" and running[token] then
    running[token].message = value.message or running[token].message
    running[token].percentage = value.percentage or running[token].percentage
  elseif value.kind == "end" then
    running[token] = nil
    M.refresh()
  end
  if config.options.notify_progress and value.kind ~= "report" then
    local text = value.kind == "end" and ((value.message or "done")) or M.progress_text(value)
    vim.notify("codeassist: " .. text, vim.log.levels.INFO)
  end
  vim.cmd.redrawstatus()
end

--- Ask the server now; `done(text)` when it answers.
---@param done fun(text: string)|nil
function M.refresh(done)
  local c = client.get()
  if not c or cache.asking then
    return
  end
  cache.asking = true
  local ok = c:request("codeassist/status", {}, function(err, result)
    cache.asking = false
    cache.at = vim.uv.now()
    cache.text = err and "CodeAssist · error" or M.format(result)
    vim.schedule(function()
      vim.cmd.redrawstatus()
    end)
    if done then
      done(cache.text)
    end
  end)
  if not ok then
    cache.asking = false
  end
end

--- For 'statusline': `%{v:lua.require'codeassist'.statusline()}`. Empty without a server.
---@return string
function M.statusline()
  local c = client.get()
  if not c then
    return ""
  end
  if vim.uv.now() - cache.at > config.options.status_refresh * 1000 then
    M.refresh()
  end
  for _, value in pairs(running) do
    return "CodeAssist · " .. M.progress_text(value)
  end
  return cache.text
end

return M

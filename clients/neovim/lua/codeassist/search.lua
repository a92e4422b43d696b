--- :CodeAssistSearch {query}: the server's hybrid search into the quickfix list.
local client = require("codeassist.client")

local M = {}

--- Quickfix items for `codeassist/search` hits (uri, range, symbol, kind, why, score).
---@param hits table[]
---@return table[]
function M.to_quickfix(hits)
  local items = {}
  for _, hit in ipairs(hits or {}) do
    local start = hit.range and hit.range.start or { line = (hit.start_line or 1) - 1, character = 0 }
    local label = hit.symbol ~= nil and hit.symbol ~= vim.NIL and hit.symbol or hit.kind or ""
    local why = type(hit.why) == "table" and table.concat(hit.why, "+") or ""
    items[#items + 1] = {
      filename = hit.uri and vim.uri_to_fname(hit.uri) or hit.path,
      lnum = start.line + 1,
      col = start.character + 1,
      text = vim.trim(("%s  [%s %.3f]"):format(label, why, tonumber(hit.score) or 0)),
    }
  end
  return items
end

--- Ask the server and fill (and open) the quickfix list; `done(items)` is called after.
---@param query string
---@param done fun(items: table[])|nil
function M.run(query, done)
  if vim.trim(query or "") == "" then
    vim.notify("codeassist: :CodeAssistSearch needs a query", vim.log.levels.WARN)
    return
  end
  local c = client.require()
  if not c then
    return
  end
  client.request(c, "codeassist/search", { query = query }, function(hits)
    local items = M.to_quickfix(hits)
    vim.fn.setqflist({}, " ", { title = "CodeAssist: " .. query, items = items })
    if #items == 0 then
      vim.notify("codeassist: nothing found for " .. query, vim.log.levels.INFO)
    else
      vim.cmd("botright copen")
    end
    if done then
      done(items)
    end
  end, "search")
end

return M

--- Turning chat turns into buffer lines, and finding the location under the cursor.
--- Pure functions: no buffer, window or server is touched here.
local M = {}

--- `uri` as a path relative to `root` when inside it, else the file path.
---@param uri string
---@param root string|nil
---@return string
function M.relative(uri, root)
  local path = uri:match("^file:") and vim.uri_to_fname(uri) or uri
  if root and root ~= "" then
    local prefix = root:gsub("/+$", "") .. "/"
    if path:sub(1, #prefix) == prefix then
      return path:sub(#prefix + 1)
    end
  end
  return path
end

--- "path:line" (1-based line) for a citation {uri, range, symbol?}.
---@param citation table
---@param root string|nil
---@return string
function M.citation_label(citation, root)
  local line = citation.range and citation.range.start and citation.range.start.line or 0
  return ("%s:%d"):format(M.relative(citation.uri or "?", root), line + 1)
end

local function text_lines(text)
  return vim.split(text or "", "\n", { plain = true })
end

--- The lines of one turn, and which of them (0-based offsets) hold which citation.
--- A turn is {question, citations, answer, state, error?, usage?, notices?, ungrounded?,
--- message_id?, feedback?} (message_id: the answer's, which + and - rate);
--- state is one of "waiting", "streaming", "done", "cancelled", "error".
---@param turn table
---@param root string|nil
---@return string[] lines
---@return table<integer, table> citation_rows offset -> citation
function M.turn(turn, root)
  local lines = { "## You" }
  vim.list_extend(lines, text_lines(turn.question))
  local rows = {}
  local citations = turn.citations or {}
  if #citations > 0 then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "Sources:"
    for n, citation in ipairs(citations) do
      rows[#lines] = citation
      local symbol = citation.symbol ~= nil and citation.symbol ~= vim.NIL and ("  " .. citation.symbol) or ""
      lines[#lines + 1] = ("  [%d] %s%s"):format(n, M.citation_label(citation, root), symbol)
    end
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "## CodeAssist"
  if turn.answer and turn.answer ~= "" then
    vim.list_extend(lines, text_lines(turn.answer))
  end
  if turn.state == "waiting" or turn.state == "streaming" then
    lines[#lines + 1] = "…" -- still being written
  end
  for _, notice in ipairs(turn.notices or {}) do
    lines[#lines + 1] = "Note: " .. notice
  end
  if turn.ungrounded then
    lines[#lines + 1] = "Note: this answer cites none of the sources"
  end
  if turn.state == "cancelled" then
    lines[#lines + 1] = "(cancelled)"
  elseif turn.state == "error" then
    lines[#lines + 1] = "Error: " .. (turn.error or "unknown")
  elseif turn.state == "done" and turn.usage and turn.usage.totalMs then
    lines[#lines + 1] = ("(%.1f s)"):format(turn.usage.totalMs / 1000)
  end
  if turn.feedback == 1 or turn.feedback == -1 then
    lines[#lines + 1] = turn.feedback == 1 and "Rated: helpful" or "Rated: not helpful"
  end
  lines[#lines + 1] = ""
  return lines, rows
end

--- Turns from a stored conversation's messages ({role, content, citations}).
---@param messages table[]
---@return table[]
function M.turns_from_messages(messages)
  local turns = {}
  local current
  for _, message in ipairs(messages or {}) do
    if message.role == "user" then
      current = { question = message.content or "", citations = {}, answer = "", state = "done" }
      turns[#turns + 1] = current
    elseif current then
      current.answer = (current.answer ~= "" and current.answer .. "\n" or "") .. (message.content or "")
      current.message_id = message.id
      current.feedback = tonumber(message.feedback)
      if type(message.citations) == "table" and #message.citations > 0 then
        current.citations = message.citations
      end
    end
  end
  return turns
end

--- The location under byte column `col` (0-based) of `line`: a citation row's citation,
--- a `[n]` marker naming citation n of `citations`, or a `path:line` written in the text.
--- Returns {path, line} (line 1-based) with the path as written, or nil.
---@param line string
---@param col integer
---@param citations table[]|nil
---@param root string|nil
---@return {path: string, line: integer}|nil
function M.location_at(line, col, citations, root)
  local pos = col + 1
  local start = 1
  while true do
    local s, e, n = line:find("%[(%d+)%]", start)
    if not s then
      break
    end
    if pos >= s and pos <= e and citations and citations[tonumber(n)] then
      local citation = citations[tonumber(n)]
      local label = M.citation_label(citation, root)
      local path, lnum = label:match("^(.*):(%d+)$")
      return { path = path, line = tonumber(lnum) }
    end
    start = e + 1
  end
  start = 1
  local first
  while true do
    local s, e, path, lnum = line:find("([%w_%./%-]+%.[%w]+):(%d+)", start)
    if not s then
      break
    end
    local found = { path = path, line = tonumber(lnum) }
    first = first or found
    if pos >= s and pos <= e then
      return found
    end
    start = e + 1
  end
  return first
end

return M

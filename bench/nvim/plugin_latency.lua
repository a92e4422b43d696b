-- Latency of the Neovim plugin as a user feels it, in a headless Neovim: server start,
-- first index, :CodeAssistSearch to a filled quickfix, K to the hover float, the cost of
-- the statusline function, and one chat question (sources, first words, whole answer).
-- Usage: nvim --headless --clean -l plugin_latency.lua PLUGIN WORKSPACE FILE OUT.json PYTHON CHAT
local plugin, root, file, out, python, ask_chat = arg[1], arg[2], arg[3], arg[4], arg[5], arg[6] == "1"
vim.opt.runtimepath:prepend(plugin)

local function now()
  return vim.uv.hrtime() / 1e6
end
local function must(ok, what)
  if not ok then
    io.stderr:write("timed out: " .. what .. "\n")
    os.exit(1)
  end
end

local figures = {}
local t0 = now()
require("codeassist").setup({ cmd = { python, "-m", "codeassist_lsp", "serve" } })
vim.cmd.edit(vim.fs.joinpath(root, file))
local buf = vim.api.nvim_get_current_buf()
local c
must(vim.wait(60000, function()
  c = vim.lsp.get_clients({ name = "codeassist", bufnr = buf })[1]
  return c ~= nil and c.initialized
end, 10), "initialize")
figures.start_ms = now() - t0
must(vim.wait(600000, function()
  local r = c:request_sync("codeassist/status", {}, 10000)
  local ws = r and r.result and r.result.workspaces[1]
  return ws ~= nil and (ws.files or 0) > 0 and not r.result.indexing
end, 100), "index")
figures.indexed_ms = now() - t0

local queries = {
  "where are patterns compiled", "match a file against the spec", "normalize path separators",
  "regular expression for a pattern", "iterate over a directory tree", "check the backend name",
  "escape special characters", "negated pattern", "read lines from a file", "combine two specs",
}
figures.search_ms = {}
for _, query in ipairs(queries) do
  vim.fn.setqflist({}, "r")
  local start = now()
  vim.cmd("CodeAssistSearch " .. query)
  must(vim.wait(30000, function()
    return #vim.fn.getqflist() > 0
  end, 1), "search")
  figures.search_ms[#figures.search_ms + 1] = now() - start
  vim.cmd("cclose")
end

local function float_open()
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= "" then
      return true
    end
  end
  return false
end
figures.hover_ms = {}
vim.api.nvim_set_current_buf(buf)
for number, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
  local col = line:find("def [%w_]+") or line:find("class [%w_]+")
  if col and #figures.hover_ms < 10 then
    local name_col = line:find(" ", col) -- on the name after def/class
    vim.api.nvim_win_set_cursor(0, { number, name_col })
    local start = now()
    vim.api.nvim_feedkeys("K", "x", false)
    if vim.wait(10000, float_open, 1) then
      figures.hover_ms[#figures.hover_ms + 1] = now() - start
    end
    vim.cmd("fclose!")
  end
end

local status = require("codeassist")
local start = now()
for _ = 1, 1000 do
  status.statusline()
end
figures.statusline_us = (now() - start) -- 1000 calls: ms total = µs per call

if ask_chat then
  local chat = require("codeassist.chat")
  local asked = now()
  vim.cmd("CodeAssistChat how does a gitignore pattern become a regular expression?")
  local session = chat.session()
  local sources, first_word
  must(vim.wait(300000, function()
    local turn = session.turns[#session.turns]
    if not sources and #turn.citations > 0 then
      sources = now() - asked
    end
    if not first_word and turn.answer ~= "" then
      first_word = now() - asked
    end
    return session.request == nil
  end, 5), "chat")
  figures.chat = { sources_ms = sources, first_words_ms = first_word, total_ms = now() - asked }
end

c:stop()
vim.wait(5000, function()
  return c:is_stopped()
end, 20)
local f = assert(io.open(out, "w"))
f:write(vim.json.encode(figures))
f:close()

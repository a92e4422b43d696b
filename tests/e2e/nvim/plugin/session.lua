-- One working session with the plugin on py-webclient: the server starts with the
-- settings as initializationOptions, progress and status reach the statusline, search
-- fills quickfix, K shows the hover, :CodeAssistReindex runs and :checkhealth reports.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "harness.lua"))

local buf = H.open({
  cmd = H.server_cmd(),
  settings = { search = { limit = 3 } },
  notify_progress = true,
}, "webclient/client.py")
local c = H.client(buf)
H.answers.root_dir = c.root_dir
H.answers.init_options = c.config.init_options

-- the statusline while the first indexing runs, then once it is done
local seen = {}
H.wait(120000, function()
  local text = require("codeassist").statusline()
  if text ~= "" and not vim.tbl_contains(seen, text) then
    seen[#seen + 1] = text
  end
  local response = c:request_sync("codeassist/status", {}, 10000)
  local ws = response and response.result and response.result.workspaces[1]
  return ws ~= nil and (ws.files or 0) > 0 and not response.result.indexing
end, "the workspace to be indexed")
require("codeassist.status").refresh()
H.wait(10000, function()
  return require("codeassist").statusline():find("files", 1, true) ~= nil
end, "the statusline to show the index")
seen[#seen + 1] = require("codeassist").statusline()
H.answers.statuslines = seen

-- :CodeAssistSearch fills quickfix and opens it
vim.cmd("CodeAssistSearch where do we retry failed HTTP requests")
H.wait(20000, function()
  return #vim.fn.getqflist() > 0
end, "the quickfix list")
H.answers.quickfix_title = vim.fn.getqflist({ title = 1 }).title
H.answers.quickfix = vim.tbl_map(function(item)
  return { file = vim.api.nvim_buf_get_name(item.bufnr), lnum = item.lnum, text = item.text }
end, vim.fn.getqflist())
H.answers.quickfix_open = vim.fn.getqflist({ winid = 1 }).winid ~= 0
vim.cmd("cclose")

-- K on RetryPolicy shows the server's hover in a float
vim.api.nvim_set_current_buf(buf)
local at
for number, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
  if line:find("RetryPolicy(", 1, true) then
    at = { number, (line:find("RetryPolicy", 1, true)) }
    break
  end
end
if not at then
  H.fail("client.py has no RetryPolicy( line")
end
vim.api.nvim_win_set_cursor(0, at)
vim.api.nvim_feedkeys("K", "x", false)
local hover
H.wait(20000, function()
  for _, win in ipairs(vim.api.nvim_list_wins()) do
    if vim.api.nvim_win_get_config(win).relative ~= "" then
      hover = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false), "\n")
      return true
    end
  end
  return false
end, "the hover float")
H.answers.hover = hover
vim.cmd("fclose!")

-- :CodeAssistReindex
vim.cmd("CodeAssistReindex")
H.wait(120000, function()
  return H.told("codeassist: reindexed")
end, "the reindex message")

-- :checkhealth codeassist
vim.cmd("checkhealth codeassist")
H.answers.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)

H.finish()

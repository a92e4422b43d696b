-- Shared steps of the plugin's end-to-end scripts: load the plugin from clients/neovim,
-- record what it tells the user, open a fixture file, wait for the server, and write the
-- answers to a JSON file. Each script is run as:
--   nvim --headless --clean -l SCRIPT WORKSPACE OUT.json PYTHON
local H = {}

H.root, H.out, H.python = arg[1], arg[2], arg[3]
H.answers = {}
H.messages = {}

local here = vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p"))
H.repo = vim.fs.normalize(here .. "/../../../..")
vim.opt.runtimepath:prepend(H.repo .. "/clients/neovim")

local notify = vim.notify
vim.notify = function(message, level, opts)
  H.messages[#H.messages + 1] = { message = message, level = level }
  return notify(message, level, opts)
end

function H.fail(message)
  io.stderr:write(message .. "\n" .. vim.inspect(H.messages) .. "\n")
  for _, c in ipairs(vim.lsp.get_clients()) do
    c:stop(true)
  end
  os.exit(1)
end

--- Wait for `predicate`, or fail saying `what`.
function H.wait(ms, predicate, what)
  if not vim.wait(ms, predicate, 50) then
    H.fail("timed out waiting for " .. what)
  end
end

--- The server command: this repository's code on the test's Python.
function H.server_cmd()
  return { H.python, "-m", "codeassist_lsp", "serve" }
end

--- setup() the plugin and open `relative` in the workspace.
---@return integer buf
function H.open(options, relative)
  require("codeassist").setup(options)
  vim.cmd.edit(vim.fs.joinpath(H.root, relative))
  return vim.api.nvim_get_current_buf()
end

--- The CodeAssist client of `buf`, initialised.
function H.client(buf)
  local c
  H.wait(30000, function()
    c = vim.lsp.get_clients({ name = "codeassist", bufnr = buf })[1]
    return c ~= nil and c.initialized
  end, "the server to start and initialise")
  return c
end

--- Wait until the server has the workspace's files (keyword search and the graph work then).
function H.wait_indexed(c)
  H.wait(120000, function()
    local response = c:request_sync("codeassist/status", {}, 10000)
    local ws = response and response.result and response.result.workspaces[1]
    return ws ~= nil and (ws.files or 0) > 0 and not ws.indexing
  end, "the workspace to be indexed")
end

--- Whether any message so far contains `text`.
function H.told(text)
  for _, m in ipairs(H.messages) do
    if tostring(m.message):find(text, 1, true) then
      return true
    end
  end
  return false
end

--- Stop every client, write the answers (with the messages) and end.
function H.finish()
  H.answers.messages = H.messages
  local clients = vim.lsp.get_clients()
  for _, c in ipairs(clients) do
    c:stop()
  end
  vim.wait(5000, function()
    for _, c in ipairs(clients) do
      if not c:is_stopped() then
        return false
      end
    end
    return true
  end, 50)
  local file = assert(io.open(H.out, "w"))
  file:write(vim.json.encode(H.answers))
  file:close()
end

return H

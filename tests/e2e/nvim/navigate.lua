-- Drive the CodeAssist server from a real headless Neovim, as a user's editor would:
-- open a file, let the built-in LSP client start the server, wait for the index, then ask
-- for a workspace symbol, a definition, references and a search. Answers go to a JSON file.
-- Usage: nvim --headless --clean -l navigate.lua WORKSPACE OUT.json PYTHON
local root, out, python = arg[1], arg[2], arg[3]

local function fail(message)
  io.stderr:write(message .. "\n")
  os.exit(1)
end

vim.cmd.edit(vim.fs.joinpath(root, "webclient", "client.py"))
local buf = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start({
  name = "codeassist",
  cmd = { python, "-m", "codeassist_lsp", "serve" },
  root_dir = root,
})
if not client_id then
  fail("the language client did not start")
end
local client = vim.lsp.get_client_by_id(client_id)
if not vim.wait(60000, function() return client.initialized end, 100) then
  fail("the server did not initialise")
end

local function request(method, params, timeout)
  local response = client:request_sync(method, params, timeout or 30000, buf)
  if not response then
    fail(method .. ": no response")
  end
  if response.err then
    fail(method .. ": " .. vim.inspect(response.err))
  end
  return response.result
end

local indexed = vim.wait(240000, function()
  local status = request("codeassist/status", {})
  local ws = status.workspaces[1]
  return ws ~= nil and not status.indexing and ws.files > 0
end, 500)
if not indexed then
  fail("the workspace was not indexed in time")
end

-- the cursor on `RetryPolicy` where client.py constructs it
local row
for number, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
  if line:find("RetryPolicy(", 1, true) then
    row = number - 1
    break
  end
end
if row == nil then
  fail("client.py has no RetryPolicy( line")
end
local line = vim.api.nvim_buf_get_lines(buf, row, row + 1, false)[1]
local position = { line = row, character = line:find("RetryPolicy", 1, true) }
local at = { textDocument = vim.lsp.util.make_text_document_params(buf), position = position }

local refs = vim.deepcopy(at)
refs.context = { includeDeclaration = false }
local answers = {
  symbols = request("workspace/symbol", { query = "RetryPolicy" }),
  definition = request("textDocument/definition", at),
  references = request("textDocument/references", refs),
  search = request("codeassist/search", { query = "where do we retry failed HTTP requests", limit = 5 }),
}
client:stop()
vim.wait(5000, function() return client:is_stopped() end, 100)
local file = assert(io.open(out, "w"))
file:write(vim.json.encode(answers))
file:close()

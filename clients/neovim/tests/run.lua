-- A tiny test runner for the plugin's Lua logic in a real headless Neovim.
-- Usage: nvim --headless --clean -l tests/run.lua tests/unit/NAME_spec.lua
-- A spec file returns nothing; it calls test(name, fn) and the assertions below.
local spec = assert(arg[1], "usage: run.lua SPEC")
local plugin = vim.fs.dirname(vim.fs.dirname(vim.fs.normalize(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p"))))
vim.opt.runtimepath:prepend(plugin)

local tests = {}

function _G.test(name, fn)
  tests[#tests + 1] = { name = name, fn = fn }
end

function _G.eq(expected, actual, what)
  if not vim.deep_equal(expected, actual) then
    error(("%sexpected %s, got %s"):format(what and (what .. ": ") or "", vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

function _G.ok(value, what)
  if not value then
    error((what or "expected a true value") .. ", got " .. vim.inspect(value), 2)
  end
end

dofile(spec)
local failed = 0
for _, t in ipairs(tests) do
  local passed, err = xpcall(t.fn, debug.traceback)
  io.stdout:write(("%s %s\n"):format(passed and "ok  " or "FAIL", t.name))
  if not passed then
    failed = failed + 1
    io.stdout:write(err .. "\n")
  end
end
io.stdout:write(("%d passed, %d failed\n"):format(#tests - failed, failed))
os.exit(failed == 0 and 0 or 1)

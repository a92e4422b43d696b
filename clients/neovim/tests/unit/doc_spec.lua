local init = vim.api.nvim_get_runtime_file("lua/codeassist/init.lua", false)[1]
local plugin = vim.fs.dirname(vim.fs.dirname(vim.fs.dirname(init)))
local doc_file = vim.fs.joinpath(plugin, "doc", "codeassist.txt")
local doc = table.concat(vim.fn.readfile(doc_file), "\n")

test("the help file builds tags without duplicates", function()
  local copy = vim.fn.tempname()
  vim.fn.mkdir(copy, "p")
  vim.fn.writefile(vim.fn.readfile(doc_file), copy .. "/codeassist.txt")
  vim.cmd.helptags(copy)
  ok(vim.fn.filereadable(copy .. "/tags") == 1, "tags written")
end)

test("every command is documented", function()
  require("codeassist").setup({ cmd = { "/nonexistent/codeassist", "serve" } })
  local names = vim.tbl_filter(function(name)
    return vim.startswith(name, "CodeAssist")
  end, vim.tbl_keys(vim.api.nvim_get_commands({})))
  ok(#names >= 11, "commands defined")
  for _, name in ipairs(names) do
    ok(doc:find("*:" .. name .. "*", 1, true), ":" .. name .. " has a help tag")
  end
end)

test("every option is documented", function()
  local defaults = require("codeassist.config").defaults
  for key, value in pairs(defaults) do
    ok(doc:find("*codeassist-option-" .. key .. "*", 1, true), key .. " has a help tag")
    if type(value) == "table" and not vim.islist(value) then
      for sub in pairs(value) do
        ok(doc:find(key .. "." .. sub, 1, true), key .. "." .. sub .. " is described")
      end
    end
  end
end)

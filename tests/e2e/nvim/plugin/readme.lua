-- The README's plain-packpath setup: the plugin is a package under the data dir, init.lua
-- says only `require("codeassist").setup({})`, `codeassist` comes from $PATH.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "harness.lua"))

vim.cmd("helptags ALL")
vim.cmd("help codeassist-options")
H.answers.help = vim.fn.expand("%:t")
vim.cmd("close")
vim.cmd.edit(vim.fs.joinpath(H.root, "webclient", "client.py"))
local c = H.client(vim.api.nvim_get_current_buf())
H.answers.cmd = c.config.cmd
H.answers.root_dir = c.root_dir
H.finish()

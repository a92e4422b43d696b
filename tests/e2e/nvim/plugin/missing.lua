-- What a user sees when the server command is missing, or when the configured model is
-- not installed: a readable message and :checkhealth saying what to do.
local H = dofile(vim.fs.joinpath(vim.fs.dirname(debug.getinfo(1, "S").source:sub(2)), "harness.lua"))

local cmd = os.getenv("CODEASSIST_TEST_CMD") == "missing" and { "/nonexistent/bin/codeassist", "serve" }
  or H.server_cmd()
H.open({ cmd = cmd }, "webclient/client.py")
vim.wait(500)
H.answers.clients = #vim.lsp.get_clients({ name = "codeassist" })
H.answers.statusline = require("codeassist").statusline()
vim.cmd("CodeAssistSearch retry")
vim.cmd("checkhealth codeassist")
H.answers.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
H.finish()

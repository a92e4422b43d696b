--- The plugin's options: defaults, and the user's table merged over them once by setup().
local M = {}

M.defaults = {
  -- how to start the server; the first word must be an executable on $PATH or a path
  cmd = { "codeassist", "serve" },
  -- buffers of these filetypes attach to the server (the languages it indexes)
  filetypes = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact",
    "go", "rust", "java", "c", "cpp", "ruby", "markdown",
  },
  -- the workspace root is the nearest folder holding one of these; else the file's folder
  root_markers = { ".git", ".hg", "pyproject.toml", "setup.py", "package.json", "go.mod", "Cargo.toml" },
  -- sent as `initializationOptions` (the server's settings, camelCase as in its README)
  settings = {},
  chat = {
    -- "split" (below), "vsplit" (right) or "float"
    layout = "vsplit",
    -- columns for vsplit, lines for split, fraction of the editor for float
    size = 0.4,
  },
  ghost_text = {
    enabled = true,
    -- "auto": Neovim's vim.lsp.inline_completion where it exists (0.12), else "extmarks"
    implementation = "auto",
    -- accepts the shown suggestion in insert mode; typed through when none is shown
    accept_key = "<Tab>",
    dismiss_key = "<C-]>",
    -- wait this long after the last keystroke before asking (extmark implementation)
    debounce_ms = 150,
  },
  -- define the :CodeAssist* commands
  commands = true,
  -- report progress ($/progress) with vim.notify as well as in the statusline
  notify_progress = false,
  -- seconds a statusline text is reused before `codeassist/status` is asked again
  status_refresh = 5,
}

M.options = vim.deepcopy(M.defaults)

--- Merge the user's options over the defaults; unknown keys are kept (settings are free-form).
---@param user table|nil
---@return table
function M.apply(user)
  M.options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), user or {})
  return M.options
end

--- The `codeassist` command line itself: `cmd` without its final "serve".
---@return string[]
function M.cli()
  local cmd = vim.deepcopy(M.options.cmd)
  if cmd[#cmd] == "serve" then
    cmd[#cmd] = nil
  end
  return cmd
end

return M

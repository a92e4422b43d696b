--- CodeAssist for Neovim: `require("codeassist").setup({})` starts `codeassist serve` for the
--- project's files and defines the :CodeAssist* commands. See :help codeassist.
local client = require("codeassist.client")
local config = require("codeassist.config")
local server = require("codeassist.server")
local status = require("codeassist.status")

local M = {}

--- Handlers for the server's own notifications, given to every client this plugin starts.
local function handlers()
  return {
    ["codeassist/chatDelta"] = function(_, params)
      require("codeassist.chat").on_delta(params)
    end,
  }
end

--- :CodeAssistReindex — rebuild the index through `workspace/executeCommand`.
function M.reindex()
  local c = client.require()
  if not c then
    return
  end
  if not client.has_command(c, "codeassist.reindex") then
    vim.notify("codeassist: this server has no codeassist.reindex command", vim.log.levels.WARN)
    return
  end
  client.request(c, "workspace/executeCommand", { command = "codeassist.reindex", arguments = {} }, function(result)
    local roots = result and result.indexed or {}
    vim.notify("codeassist: reindexed " .. table.concat(roots, ", "), vim.log.levels.INFO)
  end, "reindex")
end

--- For 'statusline' or a statusline plugin: index and model state, or running progress.
---@return string
function M.statusline()
  return status.statusline()
end

local function define_commands()
  local command = vim.api.nvim_create_user_command
  command("CodeAssistSearch", function(o)
    require("codeassist.search").run(o.args)
  end, { nargs = "+", desc = "CodeAssist: search the workspace into the quickfix list" })
  command("CodeAssistReindex", M.reindex, { desc = "CodeAssist: index the workspace again" })
  command("CodeAssistRestart", function()
    server.restart(handlers())
  end, { desc = "CodeAssist: restart the server" })
  command("CodeAssistStatus", function()
    status.refresh(function(text)
      vim.schedule(function()
        vim.notify(text, vim.log.levels.INFO)
      end)
    end)
  end, { desc = "CodeAssist: show index and model status" })
  command("CodeAssistChat", function(o)
    local range = o.range > 0 and { start = o.line1, end_ = o.line2 } or nil
    require("codeassist.chat").open(o.args, range)
  end, { nargs = "*", range = true, desc = "CodeAssist: open the chat, asking a question if given" })
  command("CodeAssistNew", function()
    require("codeassist.chat").new()
  end, { desc = "CodeAssist: start a new conversation" })
  command("CodeAssistHistory", function()
    require("codeassist.history").history()
  end, { desc = "CodeAssist: reopen a past conversation" })
  command("CodeAssistSearchHistory", function(o)
    require("codeassist.history").search_history(o.args)
  end, { nargs = "+", desc = "CodeAssist: search past conversations" })
  command("CodeAssistDeleteConversation", function()
    require("codeassist.history").delete()
  end, { desc = "CodeAssist: delete a past conversation" })
  for _, name in ipairs({ "Explain", "Fix", "Improve" }) do
    command("CodeAssist" .. name, function(o)
      require("codeassist.actions").run(name:lower(), o.line1, o.line2)
    end, { range = true, desc = "CodeAssist: " .. name .. " the selected lines" })
  end
end

--- Configure the plugin and start the server for matching buffers (also those open now).
---@param user table|nil options, see :help codeassist-options
function M.setup(user)
  config.apply(user)
  local group = vim.api.nvim_create_augroup("codeassist", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = config.options.filetypes,
    callback = function(ev)
      server.start(ev.buf, handlers())
    end,
  })
  vim.api.nvim_create_autocmd("LspProgress", {
    group = group,
    callback = function(ev)
      status.on_progress(ev.data)
    end,
  })
  vim.api.nvim_create_autocmd("LspAttach", {
    group = group,
    callback = function(ev)
      local c = vim.lsp.get_client_by_id(ev.data.client_id)
      if c and c.name == client.name then
        require("codeassist.ghost").attach(ev.buf, c)
      end
    end,
  })
  vim.api.nvim_create_autocmd("CmdlineChanged", {
    group = group,
    callback = function()
      require("codeassist.chat").on_cmdline(vim.fn.getcmdtype(), vim.fn.getcmdline())
    end,
  })
  if config.options.commands then
    define_commands()
  end
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(config.options.filetypes, vim.bo[buf].filetype) then
      server.start(buf, handlers())
    end
  end
end

return M

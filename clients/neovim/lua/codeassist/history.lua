--- Past conversations, kept by the server: :CodeAssistHistory, :CodeAssistSearchHistory and
--- :CodeAssistDeleteConversation, each picked with vim.ui.select (so any picker plugin that
--- replaces it works).
local chat = require("codeassist.chat")
local client = require("codeassist.client")

local M = {}

local function load(id)
  local c = client.require()
  if c then
    client.request(c, "codeassist/conversation", { conversationId = id }, chat.show, "conversation")
  end
end

--- "title  (2026-12-02 15:30)" for a `codeassist/conversations` item {id, title, updated}.
---@param item table
---@return string
function M.label(item)
  local updated = tonumber(item.updated)
  return ("%s  (%s)"):format(item.title or item.id, updated and os.date("%Y-%m-%d %H:%M", updated) or "")
end

--- Pick one of the server's conversations and call `on_pick(item)` with it.
local function pick(c, prompt, on_pick)
  client.request(c, "codeassist/conversations", {}, function(list)
    if type(list) ~= "table" or #list == 0 then
      vim.notify("codeassist: no conversations yet", vim.log.levels.INFO)
      return
    end
    vim.ui.select(list, { prompt = prompt, format_item = M.label }, function(choice)
      if choice then
        on_pick(choice)
      end
    end)
  end, "history")
end

--- :CodeAssistHistory — pick a past conversation and reopen it in the chat buffer.
function M.history()
  local c = client.require()
  if c then
    pick(c, "CodeAssist conversations", function(item)
      load(item.id)
    end)
  end
end

--- :CodeAssistSearchHistory {text} — past conversations mentioning `text`.
---@param query string
function M.search_history(query)
  local c = client.require()
  if not c then
    return
  end
  client.request(c, "codeassist/searchConversations", { query = query }, function(hits)
    if type(hits) ~= "table" or #hits == 0 then
      vim.notify("codeassist: no conversation matches " .. query, vim.log.levels.INFO)
      return
    end
    vim.ui.select(hits, {
      prompt = "CodeAssist conversations matching " .. query,
      format_item = function(hit)
        local message = hit.content or (type(hit.message) == "table" and hit.message.content) or ""
        local title = hit.title or hit.conversationId or hit.id
        return (("%s: %s"):format(title, message):gsub("%s+", " ")):sub(1, 120)
      end,
    }, function(choice)
      if choice then
        load(choice.conversationId or choice.id)
      end
    end)
  end, "search history")
end

--- :CodeAssistDeleteConversation — pick a conversation, confirm, delete it for good. When
--- the chat buffer shows it, the buffer is emptied: a follow-up would name a conversation
--- the server no longer has.
function M.delete()
  local c = client.require()
  if not c then
    return
  end
  pick(c, "Delete which CodeAssist conversation?", function(item)
    local prompt = ("delete “%s” and its messages?"):format(item.title or item.id)
    vim.ui.select({ "Delete", "Keep" }, { prompt = prompt }, function(answer)
      if answer ~= "Delete" then
        return
      end
      client.request(c, "codeassist/deleteConversation", { conversationId = item.id }, function(result)
        if type(result) == "table" and result.deleted == false then
          vim.notify("codeassist: that conversation was already gone", vim.log.levels.WARN)
        else
          vim.notify(("codeassist: deleted “%s”"):format(item.title or item.id), vim.log.levels.INFO)
        end
        chat.forget(item.id)
      end, "delete conversation")
    end)
  end)
end

return M

local status = require("codeassist.status")

test("status reads as files, pending vectors and the model", function()
  eq("CodeAssist · 12 files · 3 to embed · qwen2.5-coder-0.5b (idle)", status.format({
    workspaces = { { files = 12, vectors_pending = 3 } },
    indexing = false,
    model = "qwen2.5-coder-0.5b",
    modelActive = false,
    lastError = vim.NIL,
  }))
  eq("CodeAssist · indexing · m", status.format({ workspaces = { { files = 1 } }, indexing = true, model = "m", modelActive = true }))
  eq("CodeAssist · no index · m · error", status.format({ workspaces = {}, model = "m", modelActive = true, lastError = "boom" }))
  eq("", status.format(nil))
end)

test("a progress report reads as title, message and percentage", function()
  eq("Indexing proj 3/10 files 30%", status.progress_text({ title = "Indexing proj", message = "3/10 files", percentage = 30 }))
  eq("Embedding", status.progress_text({ title = "Embedding" }))
end)

// Inline completion in a real VS Code with the real server and model: typing in a function
// body brings a ghost-text suggestion (the language client's inlineCompletion support).
// Run by tests/e2e/test_vscode.py once the server has textDocument/inlineCompletion.
'use strict';

const { test } = require('node:test');
const h = require('./harness');

test('typing brings an inline suggestion', { timeout: 400000 }, async () => {
  const vscode = await h.openVsCode();
  const { page } = vscode;
  try {
    await h.serverUp(page);
    await h.openFile(page, 'webclient/retry.py');
    await h.goTo(page, 34, 1); // the blank line between compute_backoff and parse_retry_after
    await page.keyboard.press('Enter');
    await page.keyboard.type('def jittered_delay(attempt: int) -> float:\n');
    const ghost = page.locator('.ghost-text-decoration, .ghost-text-decoration-preview, .ghost-text').first();
    for (let attempt = 0; attempt < 6; attempt++) {
      if (await ghost.isVisible()) break;
      await h.runCommand(page, 'Trigger Inline Suggestion');
      await ghost.waitFor({ timeout: 40000 }).catch(() => {});
    }
    await ghost.waitFor({ timeout: 1000 });
    await h.screenshot(page, 'inline-completion');
  } catch (error) {
    await h.screenshot(page, 'failure-inline');
    throw error;
  } finally {
    await vscode.close();
  }
});

// Improve Selection in a real VS Code with the real server and model: the change is shown in
// VS Code's diff editor and applied only when the user says so.
// Run by tests/e2e/test_vscode.py once the server has code actions.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert');
const h = require('./harness');

test('Improve shows a diff and applies it on Apply', { timeout: 600000 }, async () => {
  const vscode = await h.openVsCode();
  const { page } = vscode;
  try {
    await h.serverUp(page);
    await h.openFile(page, 'webclient/retry.py');
    await h.goTo(page, 28, 1); // def compute_backoff(...) and its body
    for (let i = 0; i < 5; i++) await page.keyboard.press('Shift+ArrowDown');
    await h.runCommand(page, 'CodeAssist: Improve Selection');
    const toast = await h.notification(page, /apply the Improve|proposed no change|changes nothing/, 300000);
    const text = await toast.innerText();
    assert.match(text, /apply the Improve/, text);
    await page.locator('.monaco-diff-editor').first().waitFor();
    await h.screenshot(page, 'improve-diff');
    await toast.getByRole('button', { name: 'Apply' }).click();
    await page.locator('.tab.active.dirty[aria-label*="retry.py"]').waitFor({ timeout: 15000 });
    assert.strictEqual(await page.locator('.monaco-diff-editor').count(), 0, 'the diff is closed once applied');
  } catch (error) {
    await h.screenshot(page, 'failure-improve');
    throw error;
  } finally {
    await vscode.close();
  }
});

// Improve Selection in a real VS Code with the real server and model: the change is shown in
// VS Code's diff editor and applied only when the user says so.
// Run by tests/e2e/test_vscode.py once the server has code actions.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./harness');

test('Improve shows a diff and applies it on Apply', { timeout: 600000 }, async () => {
  // a clumsy function at the end of the file, written before the editor opens (pasting
  // through the browser's clipboard failed on a loaded machine, and the Improve then
  // rewrote the file's last lines instead)
  const file = path.join(process.env.CODEASSIST_WORKSPACE, 'webclient', 'retry.py');
  const clumsy = 'def total_of(items):\n    total = 0\n    for i in range(0, len(items)):\n        total = total + items[i]\n    return total\n';
  fs.appendFileSync(file, '\n\n' + clumsy);
  const vscode = await h.openVsCode();
  const { page } = vscode;
  try {
    await h.serverUp(page);
    await h.openFile(page, 'webclient/retry.py');
    await h.goTo(page, 1, 1);
    await page.keyboard.press('Control+End');
    for (let i = 0; i < 5; i++) await page.keyboard.press('Shift+ArrowUp');
    await h.runCommand(page, 'CodeAssist: Improve Selection');
    const toast = await h.notification(page, /apply the Improve|suggests no change|changes nothing|no improve/i, 300000);
    const text = await toast.innerText();
    assert.match(text, /apply the Improve/, text);
    await page.locator('.monaco-diff-editor').first().waitFor();
    await h.screenshot(page, 'improve-diff');
    await toast.getByRole('button', { name: 'Apply' }).click();
    await page.locator('.monaco-diff-editor').first().waitFor({ state: 'detached', timeout: 15000 });
    await page.keyboard.press('Control+S');
    let code = '';
    for (let i = 0; i < 20 && !code.includes('def total_of(items):'); i++) {
      await page.waitForTimeout(250);
      code = fs.readFileSync(file, 'utf8');
    }
    assert.ok(code.includes('def total_of(items):'), code);
    assert.ok(!code.includes('range(0, len(items))'), `the Improve is applied:\n${code}`);
    await h.screenshot(page, 'improve-applied');
  } catch (error) {
    await h.screenshot(page, 'failure-improve');
    throw error;
  } finally {
    await vscode.close();
  }
});

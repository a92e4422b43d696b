// End to end in a real VS Code (code-server 4.100.3 = VS Code 1.100.3) with the real server:
// the workbench loads, the .vsix activates, the server indexes the fixture workspace, hover
// shows graph facts and the search command finds code. Run by tests/e2e/test_vscode.py.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { openVsCode, screenshot, runCommand, openFile, goTo } = require('./harness');

const TIMEOUT = 240000;

test('the extension starts the server; hover and search work in a real VS Code', { timeout: TIMEOUT }, async () => {
  const vscode = await openVsCode();
  const { page } = vscode;
  try {
    const status = page.locator('.statusbar-item', { hasText: 'CodeAssist' }).first();
    await status.waitFor({ timeout: 60000 });
    await page.waitForFunction(
      () => [...document.querySelectorAll('.statusbar-item')].some((el) => /CodeAssist: /.test(el.textContent ?? '')),
      null,
      { timeout: 40000 },
    );

    await openFile(page, 'webclient/client.py');
    let hover = '';
    for (let attempt = 0; attempt < 15 && !/defined at/.test(hover); attempt++) {
      await goTo(page, 31, 25); // RetryPolicy in `self._retry = RetryPolicy(config.retry)`
      await runCommand(page, 'Show or Focus Hover');
      await page.locator('.monaco-hover').first().waitFor({ timeout: 5000 }).catch(() => {});
      hover = (await page.locator('.monaco-hover').allInnerTexts()).join('\n');
      if (!/defined at/.test(hover)) await page.waitForTimeout(1000);
    }
    await screenshot(page, 'hover');
    assert.match(hover, /class/i);
    assert.match(hover, /defined at\s+webclient\/retry\.py/);
    await page.keyboard.press('Escape');

    await runCommand(page, 'CodeAssist: Search the Workspace');
    const input = page.locator('.quick-input-widget input');
    await input.fill('how long to wait before retrying a failed request');
    await page.keyboard.press('Enter');
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'retry.py' }).first();
    await row.waitFor({ timeout: 60000 });
    await screenshot(page, 'search');
    await row.click();
    await page.locator('.tab.active[aria-label*="retry.py"]').waitFor({ timeout: 10000 });

    await status.click();
    const menu = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Reindex the Workspace' });
    await menu.waitFor({ timeout: 10000 });
    await screenshot(page, 'status-menu');
    await page.keyboard.press('Escape');
  } catch (error) {
    await screenshot(page, 'failure');
    throw error;
  } finally {
    await vscode.close();
  }
});

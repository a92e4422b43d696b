// End to end in a real VS Code (code-server 4.100.3 = VS Code 1.100.3) with the real server:
// the workbench loads, the .vsix activates, the server indexes the fixture workspace, hover
// shows graph facts, the search command finds code, the status menu opens, a killed server
// is restarted with a message, a missing executable gets a notification with the fix.
// Run by tests/e2e/test_vscode.py.
'use strict';

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const h = require('./harness');

describe('the extension in a real VS Code', { timeout: 400000 }, () => {
  let vscode;
  let page;

  before(async () => {
    vscode = await h.openVsCode();
    page = vscode.page;
  });

  after(async () => {
    if (vscode) await vscode.close();
  });

  const step = (name, fn) =>
    test(name, async () => {
      try {
        await fn();
      } catch (error) {
        await h.screenshot(page, `failure-${name.replace(/\W+/g, '-')}`);
        throw error;
      }
    });

  step('activates and starts the server', async () => {
    await page.locator('.statusbar-item', { hasText: 'CodeAssist' }).first().waitFor({ timeout: 60000 });
    await h.serverUp(page);
  });

  step('hover shows what the code graph knows', async () => {
    await h.openFile(page, 'webclient/client.py');
    let hover = '';
    for (let attempt = 0; attempt < 15 && !/defined at/.test(hover); attempt++) {
      await h.goTo(page, 31, 25); // RetryPolicy in `self._retry = RetryPolicy(config.retry)`
      await h.runCommand(page, 'Show or Focus Hover');
      await page.locator('.monaco-hover').first().waitFor({ timeout: 5000 }).catch(() => {});
      hover = (await page.locator('.monaco-hover').allInnerTexts()).join('\n');
      if (!/defined at/.test(hover)) await page.waitForTimeout(1000);
    }
    await h.screenshot(page, 'hover');
    assert.match(hover, /class RetryPolicy/);
    assert.match(hover, /defined at\s+webclient\/retry\.py/);
    assert.match(hover, /Called by/);
    await page.keyboard.press('Escape');
  });

  step('search finds code and opens it', async () => {
    await h.runCommand(page, 'CodeAssist: Search the Workspace');
    await page.locator('.quick-input-widget input').fill('how long to wait before retrying a failed request');
    await page.keyboard.press('Enter');
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'retry.py' }).first();
    await row.waitFor({ timeout: 60000 });
    await h.screenshot(page, 'search');
    await row.click();
    await page.locator('.tab.active[aria-label*="retry.py"]').waitFor({ timeout: 10000 });
  });

  step('the status item opens a menu of actions', async () => {
    await page.locator('.statusbar-item', { hasText: 'CodeAssist' }).first().click();
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Reindex the Workspace' }).waitFor({ timeout: 10000 });
    await h.screenshot(page, 'status-menu');
    for (const item of ['Switch Model', 'Show Logs', 'Restart the Server', 'Open Chat']) {
      assert.ok(await page.locator('.quick-input-list .monaco-list-row', { hasText: item }).count(), item);
    }
    await page.keyboard.press('Escape');
  });

  step('a killed server is restarted with a visible message', async () => {
    const pid = h.serverPid();
    assert.ok(pid, 'the server process is found');
    process.kill(pid, 'SIGKILL');
    await h.notification(page, 'stopped unexpectedly; restarting');
    await h.serverUp(page);
    const again = h.serverPid();
    assert.ok(again && again !== pid, 'a new server runs');
  });

  step('a missing executable gets a notification with the fix', async () => {
    const original = JSON.parse(fs.readFileSync(vscode.settingsFile, 'utf8'));
    const setPath = async (value) => {
      // as a user would: edit settings.json in the editor and save it
      await h.runCommand(page, 'Preferences: Open User Settings (JSON)');
      await page.locator('.tab.active[aria-label*="settings.json"]').waitFor();
      const text = JSON.stringify({ ...original, 'codeassist.server.path': value }, null, 2);
      await page.evaluate((t) => navigator.clipboard.writeText(t), text);
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Control+V');
      await page.keyboard.press('Control+S');
      await page.waitForTimeout(500);
      await h.runCommand(page, 'View: Close Editor');
    };
    await setPath('/nonexistent/codeassist');
    const toast = await h.notification(page, 'was not found');
    assert.match(await toast.innerText(), /codeassist\.server\.path/);
    await h.screenshot(page, 'missing-executable');
    await setPath(process.env.CODEASSIST_SERVER_PATH);
    await h.serverUp(page);
  });
});

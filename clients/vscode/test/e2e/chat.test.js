// The chat panel in a real VS Code with the real server and model: the sources appear
// before the answer is complete, the answer streams in as Markdown, a source opens its
// file, feedback and history work, and Explain Selection asks about the selected code.
// Run by tests/e2e/test_vscode.py once the server has `codeassist/chat`.
'use strict';

const { describe, test, before, after } = require('node:test');
const assert = require('node:assert');
const h = require('./harness');

describe('the chat panel in a real VS Code', { timeout: 600000 }, () => {
  let vscode;
  let page;
  let panel;

  before(async () => {
    // short answers keep the test's time down on a busy 2-core machine (and check that
    // a setting reaches the server)
    vscode = await h.openVsCode({ settings: { 'codeassist.chat.answerTokens': 96 } });
    page = vscode.page;
    await h.indexReady(page);
    await h.openFile(page, 'webclient/retry.py');
  });

  after(async () => {
    if (vscode) await vscode.close();
  });

  const step = (name, fn) =>
    test(name, async () => {
      try {
        await fn();
      } catch (error) {
        await h.screenshot(page, `failure-chat-${name.replace(/\W+/g, '-')}`);
        throw error;
      }
    });

  step('a question gets its sources first, then a streamed answer', async () => {
    await h.runCommand(page, 'CodeAssist: New Chat');
    panel = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await panel.locator('#input').waitFor({ timeout: 30000 });
    // typed as a user types: each word finished sends the draft the server reads ahead
    await panel.locator('#input').pressSequentially('Where in this code is the delay before a retry computed?', { delay: 20 });
    await panel.locator('#input').press('Enter');
    const answer = panel.locator('.message.assistant').last();
    await answer.locator('.sources a').first().waitFor({ timeout: 60000 });
    const whenSourcesCame = await answer.getAttribute('class');
    assert.match(whenSourcesCame, /pending/, 'the sources arrive while the answer is still being written');
    await answer.locator('.feedback').waitFor({ timeout: 240000 });
    const text = await answer.locator('.content').innerText();
    assert.ok(text.trim().length > 20, `an answer was written: ${text}`);
    await h.screenshot(page, 'chat');
  });

  step('a source opens its file at the cited range', async () => {
    const source = panel.locator('.message.assistant').last().locator('.sources a').first();
    const label = await source.innerText();
    const file = label.replace(/^\[\d+\]\s*/, '').split(':')[0].split('/').pop();
    await source.click();
    await page.locator(`.tab.active[aria-label*="${file}"]`).waitFor({ timeout: 15000 });
  });

  step('feedback and history', async () => {
    const helpful = panel.locator('.message.assistant').last().getByRole('button', { name: 'Helpful', exact: true });
    await helpful.click();
    assert.strictEqual(await helpful.getAttribute('aria-pressed'), 'true');
    await panel.getByRole('button', { name: 'History' }).click();
    await panel.locator('#history-list .history-open').first().waitFor({ timeout: 15000 });
    await h.screenshot(page, 'chat-history');
    await panel.locator('#history-search').press('Escape');
  });

  step('Explain Selection asks about the selected code in the panel', async () => {
    await h.openFile(page, 'webclient/retry.py');
    await h.goTo(page, 28, 1);
    for (let i = 0; i < 5; i++) await page.keyboard.press('Shift+ArrowDown');
    const before = await panel.locator('.message.assistant').count();
    await h.runCommand(page, 'CodeAssist: Explain Selection');
    const answer = panel.locator('.message.assistant').nth(before);
    await answer.locator('.feedback').waitFor({ timeout: 300000 });
    assert.ok((await answer.locator('.content').innerText()).trim().length > 20);
    await h.screenshot(page, 'chat-explain');
  });
});

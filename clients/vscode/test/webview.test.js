// The chat panel's page in headless Chromium with a fake `acquireVsCodeApi`: the same
// HTML, script and CSS the extension serves, driven with the extension's messages.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { chromium } = require('playwright-core');
const { load } = require('./helpers');

const { chatHtml } = load('chat/chatHtml.js');
const MEDIA = path.join(__dirname, '..', 'media');

const DARK = {
  '--vscode-foreground': '#cccccc', '--vscode-sideBar-background': '#181818', '--vscode-editor-background': '#1f1f1f',
  '--vscode-button-background': '#0078d4', '--vscode-button-foreground': '#ffffff',
  '--vscode-button-secondaryBackground': '#313131', '--vscode-button-secondaryForeground': '#cccccc',
  '--vscode-input-background': '#313131', '--vscode-input-foreground': '#cccccc', '--vscode-textLink-foreground': '#4daafc',
  '--vscode-textCodeBlock-background': '#2b2b2b', '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-debugTokenExpression-name': '#c586c0', '--vscode-debugTokenExpression-string': '#ce9178',
  '--vscode-debugTokenExpression-number': '#b5cea8', '--vscode-focusBorder': '#0078d4', '--vscode-errorForeground': '#f85149',
  '--vscode-font-family': 'sans-serif', '--vscode-font-size': '13px', '--vscode-editor-font-family': 'monospace',
};

const LIGHT = {
  ...DARK,
  '--vscode-foreground': '#3b3b3b', '--vscode-sideBar-background': '#f8f8f8', '--vscode-editor-background': '#ffffff',
  '--vscode-button-secondaryBackground': '#e5e5e5', '--vscode-button-secondaryForeground': '#3b3b3b',
  '--vscode-input-background': '#ffffff', '--vscode-input-foreground': '#3b3b3b', '--vscode-textLink-foreground': '#005fb8',
  '--vscode-textCodeBlock-background': '#f0f0f0', '--vscode-descriptionForeground': '#717171',
  '--vscode-debugTokenExpression-name': '#9b46b0', '--vscode-debugTokenExpression-string': '#a31515',
  '--vscode-debugTokenExpression-number': '#098658', '--vscode-input-border': '#cecece',
};

async function openPanel(browser, theme) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ca-webview-'));
  const file = path.join(dir, 'index.html');
  fs.writeFileSync(
    file,
    chatHtml({
      cspSource: 'file:',
      nonce: 'testnonce',
      scriptUri: pathToFileURL(path.join(MEDIA, 'chat.js')).href,
      styleUri: pathToFileURL(path.join(MEDIA, 'chat.css')).href,
    }),
  );
  const context = await browser.newContext({ viewport: { width: 420, height: 720 }, bypassCSP: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript((vars) => {
    window.__posted = [];
    window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState() {}, setState() {} });
    if (vars) {
      document.addEventListener('DOMContentLoaded', () => {
        for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
      });
    }
  }, theme);
  await page.goto(pathToFileURL(file).href);
  // window.postMessage is delivered later: wait until the page's own handler (added first) has run.
  const send = (message) =>
    page.evaluate(
      (m) =>
        new Promise((done) => {
          window.addEventListener('message', () => setTimeout(done, 0), { once: true });
          window.postMessage(m, '*');
        }),
      message,
    );
  const posted = () => page.evaluate(() => window.__posted);
  return { page, send, posted, errors, close: () => context.close().then(() => fs.rmSync(dir, { recursive: true })) };
}

const citation = (uri, line, label) => ({
  uri,
  range: { start: { line, character: 0 }, end: { line: line + 3, character: 0 } },
  label,
});

test('the chat panel streams sources then Markdown, and everything is reachable by keyboard', { timeout: 60000 }, async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'],
  });
  try {
    for (const theme of ['light', 'dark']) {
      const panel = await openPanel(browser, theme === 'dark' ? DARK : LIGHT);
      const { page, send, posted } = panel;
      await page.waitForFunction(() => window.__posted.length > 0);
      assert.deepStrictEqual((await posted())[0], { type: 'ready' });

      await page.focus('#input');
      await page.keyboard.type('How does the client retry?');
      await page.keyboard.press('Enter');
      assert.deepStrictEqual((await posted()).at(-1), { type: 'send', text: 'How does the client retry?' });
      const drafts = (await posted()).filter((m) => m.type === 'draft').map((m) => m.text);
      assert.deepStrictEqual(drafts, ['How ', 'How does ', 'How does the ', 'How does the client '], 'a draft as each word ends');
      assert.strictEqual(await page.inputValue('#input'), '');

      await send({ type: 'context', label: 'webclient/retry.py:28-33' });
      assert.ok(await page.locator('#context').isVisible());
      await send({ type: 'userMessage', text: 'How does the client retry?' });
      assert.ok(!(await page.locator('#context').isVisible()), 'the context chip goes with the question');
      await page.locator('.message.assistant.pending').waitFor();
      assert.ok(await page.locator('#cancel').isVisible());
      assert.ok(!(await page.locator('#send').isVisible()));

      const sources = [citation('file:///ws/webclient/retry.py', 49, 'webclient/retry.py:50-53'), citation('file:///ws/webclient/client.py', 27, 'webclient/client.py:28-31')];
      await send({ type: 'sources', citations: sources });
      await page.locator('.message.assistant .sources a').nth(1).waitFor();
      assert.match(await page.locator('.message.assistant .sources').innerText(), /retry\.py:50-53/);

      for (const piece of ['`RetryPolicy` decides [1]. It waits:\n\n```python\n', 'delay = min(cap, base * 2 ** attempt)\n', '```\n']) {
        await send({ type: 'delta', text: piece });
      }
      await page.locator('.message.assistant .code-block').waitFor();
      await page.keyboard.press('Escape');
      assert.deepStrictEqual((await posted()).at(-1), { type: 'cancel' });

      const answer = '`RetryPolicy` decides [1]. It waits:\n\n```python\ndelay = min(cap, base * 2 ** attempt)\n```\nCalled from `Client.send` [2].';
      await send({ type: 'done', conversationId: 'c1', messageId: 'm1', answer, citations: sources });
      await page.locator('.message.assistant .feedback').waitFor();
      assert.ok(await page.locator('#send').isVisible());
      assert.ok(!(await page.locator('.message.assistant').getAttribute('class')).includes('pending'));

      await page.locator('.content a.cite[data-citation="1"]').click();
      assert.deepStrictEqual((await posted()).at(-1), { type: 'openCitation', citation: sources[1] });
      await page.locator('.sources a').first().click();
      assert.strictEqual((await posted()).at(-1).citation.uri, 'file:///ws/webclient/retry.py');

      for (const [action, label] of [['copy', 'Copy'], ['insert', 'Insert'], ['apply', 'Apply as diff']]) {
        await page.getByRole('button', { name: new RegExp(`^${label === 'Copy' ? 'Copy' : label === 'Insert' ? 'Insert' : 'Apply'} code block 1`) }).click();
        assert.deepStrictEqual((await posted()).at(-1), { type: action, code: 'delay = min(cap, base * 2 ** attempt)' });
      }

      const helpful = page.getByRole('button', { name: 'Helpful', exact: true });
      await helpful.focus();
      await page.keyboard.press('Enter');
      assert.deepStrictEqual((await posted()).at(-1), { type: 'feedback', messageId: 'm1', value: 1 });
      assert.strictEqual(await helpful.getAttribute('aria-pressed'), 'true');
      await page.keyboard.press('Enter');
      assert.deepStrictEqual((await posted()).at(-1), { type: 'feedback', messageId: 'm1', value: 0 });

      await page.screenshot({ path: path.join(process.env.CODEASSIST_SCREENSHOTS || os.tmpdir(), `webview-${theme}.png`) });

      await page.getByRole('button', { name: 'History' }).click();
      assert.strictEqual(await page.getAttribute('#history-toggle', 'aria-expanded'), 'true');
      assert.deepStrictEqual((await posted()).at(-1), { type: 'listConversations' });
      assert.strictEqual(await page.evaluate(() => document.activeElement.id), 'history-search');
      await send({ type: 'conversations', items: [{ id: 'c1', title: 'Retries' }, { id: 'c0', title: 'Auth tokens' }] });
      await page.getByRole('button', { name: 'Delete conversation: Auth tokens' }).click();
      assert.deepStrictEqual((await posted()).at(-1), { type: 'deleteConversation', id: 'c0' });
      await page.getByRole('button', { name: 'Open conversation: Retries' }).click();
      assert.deepStrictEqual((await posted()).at(-1), { type: 'openConversation', id: 'c1' });
      await page.fill('#history-search', 'token');
      await page.waitForFunction(() => window.__posted.at(-1).type === 'searchConversations');
      assert.deepStrictEqual((await posted()).at(-1), { type: 'searchConversations', query: 'token' });
      await send({ type: 'conversations', items: [], query: 'token' });
      await page.getByText('No conversation matches').waitFor();

      await send({
        type: 'conversation',
        id: 'c1',
        title: 'Retries',
        messages: [
          { id: 'u1', role: 'user', content: 'How?', citations: [] },
          { id: 'm1', role: 'assistant', content: 'See [1].', citations: [sources[0]] },
        ],
      });
      await page.locator('#history').waitFor({ state: 'hidden' });
      assert.strictEqual(await page.locator('.message').count(), 2);

      await send({ type: 'userMessage', text: 'again' });
      await send({ type: 'error', message: 'model x is not installed' });
      await page.locator('.message.error[role="alert"]').waitFor();
      await page.getByRole('button', { name: 'New conversation' }).click();
      assert.deepStrictEqual((await posted()).at(-1), { type: 'newConversation' });
      await send({ type: 'cleared' });
      await page.waitForFunction(() => document.querySelectorAll('.message').length === 0);

      const unnamed = await page.evaluate(() =>
        [...document.querySelectorAll('button, a, textarea, input')]
          .filter((el) => !(el.getAttribute('aria-label') || el.textContent.trim() || el.getAttribute('placeholder')))
          .map((el) => el.outerHTML),
      );
      assert.deepStrictEqual(unnamed, [], 'every control has an accessible name');
      assert.deepStrictEqual(panel.errors, []);
      await panel.close();
    }
  } finally {
    await browser.close();
  }
});

// A real VS Code (code-server) driven by Playwright in Debian's Chromium, for end-to-end tests.
// Everything comes from environment variables set by tests/e2e/test_vscode.py:
// CODE_SERVER (its bin), CODEASSIST_VSIX, CODEASSIST_WORKSPACE, CODEASSIST_SERVER_PATH,
// CODEASSIST_SCREENSHOTS, CHROMIUM (default /usr/bin/chromium).
'use strict';

const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run through tests/e2e/test_vscode.py)`);
  return value;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitForHttp(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** Starts code-server with the built .vsix installed and opens the workspace in Chromium. */
async function openVsCode({ settings = {} } = {}) {
  const codeServer = env('CODE_SERVER');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'codeassist-vscode-'));
  const userData = path.join(home, 'user-data');
  const extensions = path.join(home, 'extensions');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'codeassist.server.path': env('CODEASSIST_SERVER_PATH'),
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'security.workspace.trust.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'update.mode': 'none',
      'editor.inlineSuggest.enabled': true,
      'editor.hover.delay': 100,
      ...settings,
    }),
  );
  const common = ['--user-data-dir', userData, '--extensions-dir', extensions];
  execFileSync(codeServer, [...common, '--install-extension', env('CODEASSIST_VSIX')], { stdio: 'pipe' });
  const port = await freePort();
  const log = fs.openSync(path.join(home, 'code-server.log'), 'w');
  const child = spawn(
    codeServer,
    [...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
      '--disable-workspace-trust', '--disable-getting-started-override', env('CODEASSIST_WORKSPACE')],
    { detached: true, stdio: ['ignore', log, log], env: { ...process.env, XDG_CONFIG_HOME: path.join(home, 'config') } },
  );
  const base = `http://127.0.0.1:${port}`;
  let browser;
  try {
    await waitForHttp(`${base}/healthz`, 60000);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    const page = await context.newPage();
    await page.goto(`${base}/?folder=${encodeURIComponent(env('CODEASSIST_WORKSPACE'))}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60000 });
    const settingsFile = path.join(userData, 'User', 'settings.json');
    return { page, browser, child, home, settingsFile, close: () => close({ browser, child, home }) };
  } catch (error) {
    await close({ browser, child, home });
    throw error;
  }
}

async function close({ browser, child, home }) {
  if (browser) await browser.close().catch(() => {});
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  await new Promise((r) => setTimeout(r, 500));
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  if (process.env.CODEASSIST_KEEP_HOME) return;
  const logFile = path.join(home, 'code-server.log');
  if (process.env.CODEASSIST_SCREENSHOTS && fs.existsSync(logFile)) {
    fs.copyFileSync(logFile, path.join(process.env.CODEASSIST_SCREENSHOTS, 'code-server.log'));
  }
  fs.rmSync(home, { recursive: true, force: true });
}

async function screenshot(page, name) {
  const dir = process.env.CODEASSIST_SCREENSHOTS;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

/** Runs a command from the command palette by its title. */
async function runCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await page.keyboard.press('Enter');
}

/** Opens a workspace file through Go to File. */
async function openFile(page, relativePath) {
  await runCommand(page, 'Go to File');
  const input = page.locator('.quick-input-widget input');
  await input.fill(relativePath);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: path.basename(relativePath) }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator(`.tab[aria-label*="${path.basename(relativePath)}"]`).first().waitFor();
  await page.locator('.monaco-editor .view-lines').first().waitFor();
}

/** Puts the cursor of the active editor at a 1-based line and column. */
async function goTo(page, line, column) {
  await runCommand(page, 'Go to Line/Column');
  await page.locator('.quick-input-widget input').fill(`:${line}:${column}`);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** The pid of the language server this test started (found by its own data dir, never by name). */
function serverPid() {
  const marker = `CODEASSIST_DATA_DIR=${env('CODEASSIST_DATA_DIR')}`;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('codeassist_lsp') || !cmdline.includes('serve')) continue;
      if (fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(marker)) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  return undefined;
}

/** Waits for a notification toast whose text matches. */
async function notification(page, pattern, timeout = 60000) {
  const toast = page.locator('.notification-toast', { hasText: pattern }).first();
  await toast.waitFor({ timeout });
  return toast;
}

/** Waits until the status bar item says the server is up (ready or indexing). */
async function serverUp(page, timeout = 120000) {
  await page.waitForFunction(
    () => [...document.querySelectorAll('.statusbar-item')].some((el) => /CodeAssist: /.test(el.textContent ?? '')),
    null,
    { timeout },
  );
}

/** Waits until the index is complete (the status item names the model, not indexing). */
async function indexReady(page, timeout = 300000) {
  await page.waitForFunction(
    () => [...document.querySelectorAll('.statusbar-item')].some((el) => /CodeAssist: (?!indexing|embedding|opening)/.test(el.textContent ?? '')),
    null,
    { timeout },
  );
}

module.exports = { openVsCode, screenshot, runCommand, openFile, goTo, serverPid, notification, serverUp, indexReady };

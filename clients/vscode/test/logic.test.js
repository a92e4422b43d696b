// The extension's logic without VS Code: settings mapping, server lookup, restarts, status,
// edits, action kinds, models and the package's contributions.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { load, packageJson } = require('./helpers');

const settings = load('settings.js');
const { findExecutable, isModelProblem, missingExecutableMessage } = load('executable.js');
const { RestartPolicy } = load('restartPolicy.js');
const { describeStatus } = load('statusView.js');
const { applyEdits } = load('textEdits.js');
const { rewriteKindOf } = load('rewriteKind.js');
const { modelChoices } = load('models.js');

test('only settings the user set are sent, nested the way the server reads them', () => {
  const keys = settings.contributedKeys(packageJson);
  const set = {
    'llm.model': { globalValue: 'qwen2.5-coder-1.5b' },
    'index.exclude': { workspaceValue: ['dist/**'], globalValue: ['x'] },
    'search.limit': { workspaceFolderValue: 5 },
    'server.path': { globalValue: '/opt/codeassist' },
    'dataDir': { globalValue: '' },
  };
  const options = settings.serverOptions(keys, (key) => set[key] ?? {});
  assert.deepStrictEqual(options, {
    llm: { model: 'qwen2.5-coder-1.5b' },
    index: { exclude: ['dist/**'] },
    search: { limit: 5 },
  });
});

test('every server setting in config.py has a contribution with a description and default', () => {
  const props = packageJson.contributes.configuration.properties;
  for (const key of [
    'dataDir', 'index.maxFileBytes', 'index.exclude', 'index.embedder', 'index.embedMaxTokens', 'index.threads',
    'index.debounceMs', 'search.limit', 'search.vectorK', 'search.keywordK', 'search.fusion', 'search.rrfK',
    'search.graphExpansion', 'search.rerank', 'diagnostics.enabled', 'diagnostics.debounceMs', 'llm.backend',
    'llm.model', 'llm.threads', 'llm.contextSize', 'llm.completionContextSize', 'llm.fimPromptTokens',
    'llm.openaiUrl', 'llm.openaiModel', 'llm.openaiApiKey', 'llm.openaiFim', 'llm.requestTimeout',
    'chat.contextTokens', 'chat.historyTokens', 'chat.answerTokens', 'chat.searchLimit', 'chat.selectionTokens',
    'chat.itemLines', 'chat.temperature',
  ]) {
    const prop = props[`codeassist.${key}`];
    assert.ok(prop, `codeassist.${key} is contributed`);
    assert.ok(prop.description, `codeassist.${key} has a description`);
    assert.ok('default' in prop, `codeassist.${key} has a default`);
  }
});

test('a setting that goes back to its default needs a fresh server; a changed value does not', () => {
  assert.strictEqual(settings.needsRestart({ llm: { model: 'a' } }, { llm: { model: 'b' } }), false);
  assert.strictEqual(settings.needsRestart({ llm: { model: 'a' } }, {}), true);
  assert.strictEqual(settings.needsRestart({}, { search: { limit: 3 } }), false);
});

test('the server command is `<path> serve <extra args>`', () => {
  assert.deepStrictEqual(settings.serverCommand('', undefined), { command: 'codeassist', args: ['serve'] });
  assert.deepStrictEqual(settings.serverCommand(' /opt/ca ', ['--tcp', 1]), { command: '/opt/ca', args: ['serve', '--tcp'] });
});

test('the executable is found on PATH or by path, and a missing one says how to fix it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ca-exe-'));
  const exe = path.join(dir, 'codeassist');
  fs.writeFileSync(exe, '#!/bin/sh\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'plain'), '', { mode: 0o644 });
  assert.strictEqual(findExecutable('codeassist', `/nonexistent:${dir}`), exe);
  assert.strictEqual(findExecutable(exe, ''), exe);
  assert.strictEqual(findExecutable('plain', dir), undefined);
  assert.strictEqual(findExecutable('codeassist', '/nonexistent'), undefined);
  assert.match(missingExecutableMessage('codeassist'), /codeassist\.server\.path/);
  assert.ok(isModelProblem('model qwen2.5-coder-0.5b is not installed: run `pip install ...`'));
  assert.ok(!isModelProblem('no index is open'));
  fs.rmSync(dir, { recursive: true });
});

test('a crashing server is restarted 4 times in 3 minutes, then left stopped', () => {
  const policy = new RestartPolicy();
  const t0 = 1_000_000;
  assert.deepStrictEqual([0, 1, 2, 3, 4].map((i) => policy.shouldRestart(t0 + i * 1000)), [true, true, true, true, false]);
  assert.strictEqual(policy.shouldRestart(t0 + 10 * 60 * 1000), true, 'old crashes are forgotten');
});

test('the status item shows indexing, the model, and errors', () => {
  const ready = describeStatus({ model: 'qwen', backend: 'llama_cpp', workspaces: [{ files: 3, chunks: 9 }] });
  assert.strictEqual(ready.kind, 'ready');
  assert.match(ready.text, /qwen/);
  assert.match(ready.tooltip, /3 files, 9 chunks/);
  const indexing = describeStatus({ indexing: true, workspaces: [{ files: 1, vectors_pending: 40 }] });
  assert.strictEqual(indexing.kind, 'indexing');
  assert.match(indexing.text, /indexing \(40 left\)/);
  const opening = describeStatus({ model: 'qwen', workspaces: [] }, true);
  assert.strictEqual(opening.kind, 'indexing', 'a window with folders and no open index is not ready');
  assert.strictEqual(describeStatus({ model: 'qwen', workspaces: [] }, false).kind, 'ready');
  const error = describeStatus({ lastError: 'disk full', workspaces: [] });
  assert.strictEqual(error.kind, 'error');
  assert.match(error.tooltip, /disk full/);
});

test('edits apply from the end, clamp to line ends and refuse overlaps', () => {
  const r = (l1, c1, l2, c2) => ({ start: { line: l1, character: c1 }, end: { line: l2, character: c2 } });
  const text = 'def f(x):\n    return x+1\n';
  assert.strictEqual(
    applyEdits(text, [{ range: r(1, 11, 1, 14), newText: 'x + 1' }, { range: r(0, 0, 0, 0), newText: '# f\n' }]),
    '# f\ndef f(x):\n    return x + 1\n',
  );
  assert.strictEqual(applyEdits('ab', [{ range: r(0, 1, 0, 99), newText: 'c' }]), 'ac');
  assert.throws(() => applyEdits(text, [{ range: r(0, 0, 0, 5), newText: '' }, { range: r(0, 3, 0, 6), newText: '' }]), /overlap/);
});

test('Explain / Fix / Improve are told apart by kind, then command, then title', () => {
  assert.strictEqual(rewriteKindOf('quickfix'), 'fix');
  assert.strictEqual(rewriteKindOf('refactor.rewrite'), 'improve');
  assert.strictEqual(rewriteKindOf('refactor.codeassist.explain'), 'explain');
  assert.strictEqual(rewriteKindOf(undefined, 'codeassist.improve'), 'improve');
  assert.strictEqual(rewriteKindOf(undefined, undefined, 'Explain this code'), 'explain');
  assert.strictEqual(rewriteKindOf('source.organizeImports', undefined, 'Fix imports'), undefined);
});

test('models from `codeassist models list --json` become quick pick entries', () => {
  const json = JSON.stringify({
    models: [
      { name: 'a', role: 'default', installed: 'yes', title: 'A', size_mb: 1, ram_gb: 1 },
      { name: 'b', role: 'quality', installed: 'no', title: 'B', size_mb: 2, ram_gb: 2, install: ['pip install b-part', 'codeassist models install b'] },
      { name: 'c', role: 'pulled', installed: 'no', title: 'C', size_mb: 0, ram_gb: 1 },
    ],
  });
  const choices = modelChoices(json, 'a');
  assert.deepStrictEqual(choices.map((c) => [c.label, c.installed]), [['a', true], ['b', false], ['c', false]]);
  assert.match(choices[0].description, /current/);
  assert.match(choices[1].description, /not installed/);
  assert.deepStrictEqual(choices.map((c) => c.install), [[], ['pip install b-part', 'codeassist models install b'], []]);
  assert.deepStrictEqual(modelChoices('not json', 'a'), []);
});

test('the extension commands never clash with the server executeCommand names the language client registers', () => {
  const serverCommands = ['codeassist.explain', 'codeassist.fix', 'codeassist.improve', 'codeassist.reindex', 'codeassist.newConversation'];
  const ours = packageJson.contributes.commands.map((c) => c.command);
  for (const name of serverCommands) assert.ok(!ours.includes(name), `${name} belongs to the server`);
  const source = fs.readFileSync(path.join(__dirname, '..', 'src', 'extension.ts'), 'utf8');
  for (const match of source.matchAll(/register\('([^']+)'/g)) {
    assert.ok(!serverCommands.includes(match[1]), `${match[1]} belongs to the server`);
  }
  const menus = Object.values(packageJson.contributes.menus).flat().map((m) => m.command).filter(Boolean);
  for (const command of menus) assert.ok(ours.includes(command), `${command} in a menu is declared`);
});

test('the webview code and the chat logic never import vscode (Chromium and Node load them as they are)', () => {
  const src = path.join(__dirname, '..', 'src');
  const files = ['webview/chat.ts', 'webview/markdown.ts', 'chat/protocol.ts', 'chat/chatHtml.ts', 'chat/chatController.ts'];
  for (const file of files) {
    const text = fs.readFileSync(path.join(src, file), 'utf8');
    assert.ok(!/from 'vscode'|require\('vscode'\)/.test(text), `${file} imports vscode`);
  }
  const bundle = fs.readFileSync(path.join(__dirname, '..', 'media', 'chat.js'), 'utf8');
  assert.ok(!bundle.includes('require("vscode")'), 'the webview bundle needs no vscode module');
});

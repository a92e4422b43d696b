// CodeAssist: Switch Model with the stub `vscode` module: a model that is not installed is
// installed in a terminal by the CLI's own commands, then becomes the setting.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { load, vscode } = require('./helpers');

const { switchModel } = load('switchModel.js');

const LIST = JSON.stringify({
  models: [
    { name: 'small', role: 'default', installed: 'yes', title: 'Small', size_mb: 490, ram_gb: 1, install: [] },
    {
      name: 'big',
      role: 'quality',
      installed: 'no',
      title: 'Big',
      size_mb: 1117,
      ram_gb: 2.5,
      install: ["'/venv/bin/python' -m pip install big-part1==0.2.0 big-part2==0.2.0", "'/venv/bin/python' -m codeassist_lsp models install big"],
    },
    { name: 'gone', role: 'pulled', installed: 'no', title: 'http://x/gone.gguf', size_mb: 0, ram_gb: 1, install: [] },
  ],
});

/** Scripts the window and the settings: `pick` is the quick pick's choice, `button` the notification's. */
function scriptedEditor({ pick, button }) {
  const seen = { messages: [], terminals: [], updates: [] };
  const settings = { 'llm.model': 'small' };
  vscode.workspace.getConfiguration = () => ({
    get: (key) => settings[key],
    update: async (key, value, target) => seen.updates.push([key, value, target]),
  });
  vscode.window.showQuickPick = async (items) => {
    seen.items = items;
    return items.find((item) => item.label === pick);
  };
  const message = async (text, ...buttons) => {
    seen.messages.push({ text, buttons });
    return buttons.includes(button) ? button : undefined;
  };
  vscode.window.showInformationMessage = message;
  vscode.window.showWarningMessage = message;
  vscode.window.createTerminal = (options) => {
    const terminal = { options, sent: [], shown: false, sendText: (text) => terminal.sent.push(text), show: () => (terminal.shown = true) };
    seen.terminals.push(terminal);
    return terminal;
  };
  return seen;
}

test('Install on a model that is not installed runs the CLI’s commands in a terminal and switches the setting', async () => {
  const seen = scriptedEditor({ pick: 'big', button: 'Install' });
  await switchModel(async () => LIST);
  assert.deepStrictEqual(seen.items.map((i) => i.description), ['default, current', 'quality, not installed', 'pulled, not installed', 'a pulled model’s name or a GGUF path']);
  assert.strictEqual(seen.messages.length, 1);
  assert.match(seen.messages[0].text, /big .* is not installed/);
  assert.deepStrictEqual(seen.messages[0].buttons, ['Install']);
  assert.strictEqual(seen.terminals.length, 1);
  const [terminal] = seen.terminals;
  assert.ok(terminal.shown, 'the terminal is shown');
  assert.deepStrictEqual(terminal.sent, [
    "'/venv/bin/python' -m pip install big-part1==0.2.0 big-part2==0.2.0 && '/venv/bin/python' -m codeassist_lsp models install big",
  ]);
  assert.deepStrictEqual(seen.updates, [['llm.model', 'big', vscode.ConfigurationTarget.Global]]);
});

test('dismissing the Install message leaves the model and starts nothing', async () => {
  const seen = scriptedEditor({ pick: 'big', button: undefined });
  await switchModel(async () => LIST);
  assert.strictEqual(seen.messages.length, 1);
  assert.deepStrictEqual(seen.terminals, []);
  assert.deepStrictEqual(seen.updates, []);
});

test('an installed model is switched to at once; one without install commands is refused with a warning', async () => {
  let seen = scriptedEditor({ pick: 'small', button: 'Install' });
  await switchModel(async () => LIST);
  assert.deepStrictEqual([seen.messages, seen.terminals], [[], []]);
  assert.deepStrictEqual(seen.updates, [['llm.model', 'small', vscode.ConfigurationTarget.Global]]);

  seen = scriptedEditor({ pick: 'gone', button: 'Install' });
  await switchModel(async () => LIST);
  assert.deepStrictEqual(seen.messages.map((m) => m.buttons), [[]]);
  assert.match(seen.messages[0].text, /gone is not installed .* stays small/);
  assert.deepStrictEqual([seen.terminals, seen.updates], [[], []]);
});

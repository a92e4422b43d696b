/**
 * CodeAssist: Switch Model. A model that is not installed is offered with an Install button:
 * the CLI's own install commands (from `codeassist models list --json`) run in a terminal,
 * where the download's progress and any pip error stay in view, and the setting switches.
 */

import { execFile } from 'child_process';
import * as vscode from 'vscode';
import { ModelChoice, modelChoices } from './models';
import { SECTION, serverCommand } from './settings';

const OTHER = 'Other…';
const INSTALL = 'Install';

/** `codeassist models list --json`, or '' when the executable fails (the picker then asks for a name). */
export function listModels(): Promise<string> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const { command } = serverCommand(config.get('server.path'), []);
  return new Promise((resolve) => {
    execFile(command, ['models', 'list', '--json'], { timeout: 20000 }, (error, stdout) => resolve(error ? '' : stdout));
  });
}

/** True when the model may become the setting: it is installed, or its install now runs in a terminal. */
async function ensureInstalled(choice: ModelChoice, current: string): Promise<boolean> {
  if (choice.installed) return true;
  if (!choice.install.length) {
    void vscode.window.showWarningMessage(
      `CodeAssist: ${choice.label} is not installed and cannot be installed from here; the model stays ${current}.`,
    );
    return false;
  }
  const answer = await vscode.window.showInformationMessage(
    `CodeAssist: ${choice.label} (${choice.detail}) is not installed. Install it in a terminal and switch to it?`,
    INSTALL,
  );
  if (answer !== INSTALL) return false;
  const terminal = vscode.window.createTerminal({ name: `CodeAssist: install ${choice.label}` });
  terminal.show();
  terminal.sendText(choice.install.join(' && '));
  return true;
}

export async function switchModel(list: () => Promise<string> = listModels): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const current = config.get<string>('llm.model') ?? '';
  const choices = modelChoices(await list(), current);
  let model: string | undefined;
  if (choices.length) {
    const other: ModelChoice = {
      label: OTHER,
      description: 'a pulled model’s name or a GGUF path',
      detail: '',
      installed: true,
      install: [],
    };
    const picked = await vscode.window.showQuickPick([...choices, other], { title: 'CodeAssist: Switch Model' });
    if (!picked) return;
    if (picked.label !== OTHER) {
      if (!(await ensureInstalled(picked, current))) return;
      model = picked.label;
    }
  }
  model ??= await vscode.window.showInputBox({ title: 'CodeAssist: model name or GGUF path', value: current });
  if (model) await config.update('llm.model', model, vscode.ConfigurationTarget.Global);
}

/**
 * Starting, restarting and configuring `codeassist serve` through vscode-languageclient.
 * The server command and settings come from the extension's configuration; a missing
 * executable gets a notification with the fix; a crash restarts it with a visible message,
 * unless it keeps crashing.
 */

import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  Middleware,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { findExecutable, missingExecutableMessage } from './executable';
import { RestartPolicy } from './restartPolicy';
import { contributedKeys, needsRestart, SECTION, serverCommand, serverOptions } from './settings';

export interface ServerEvents {
  started(client: LanguageClient): void;
  stopped(reason: string): void;
}

export class ServerClient implements vscode.Disposable {
  client: LanguageClient | undefined;
  private readonly policy = new RestartPolicy();
  private sentOptions: Record<string, unknown> = {};
  private readonly keys: string[];
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    private readonly middleware: Middleware,
    private readonly events: ServerEvents,
  ) {
    this.keys = contributedKeys(context.extension.packageJSON);
    this.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => void this.onConfiguration(e)));
  }

  private options(): Record<string, unknown> {
    const config = vscode.workspace.getConfiguration(SECTION);
    return serverOptions(this.keys, (key) => config.inspect(key));
  }

  async start(): Promise<void> {
    const config = vscode.workspace.getConfiguration(SECTION);
    const { command, args } = serverCommand(config.get('server.path'), config.get('server.extraArgs'));
    const executable = findExecutable(command, process.env.PATH);
    if (!executable) {
      const message = missingExecutableMessage(command);
      this.output.error(message);
      this.events.stopped(`\`${command}\` not found`);
      void vscode.window.showErrorMessage(message, 'Open Settings', 'Show Logs').then((choice) => {
        if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'codeassist.server.path');
        if (choice === 'Show Logs') this.output.show();
      });
      return;
    }
    this.sentOptions = this.options();
    const serverOptions: ServerOptions = { command: executable, args, options: { env: process.env } };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }, { scheme: 'untitled' }],
      initializationOptions: this.sentOptions,
      outputChannel: this.output,
      traceOutputChannel: this.output,
      middleware: this.middleware,
      errorHandler: {
        error: () => ({ action: ErrorAction.Continue }),
        closed: () => this.onClosed(),
      },
    };
    const client = new LanguageClient('codeassist', 'CodeAssist', serverOptions, clientOptions);
    client.registerProposedFeatures();
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) this.events.started(client);
    });
    this.client = client;
    this.output.info(`starting ${executable} ${args.join(' ')}`);
    try {
      await client.start();
    } catch (error) {
      this.output.error(`the server did not start: ${String(error)}`);
      this.events.stopped('the server did not start');
      void vscode.window.showErrorMessage(`CodeAssist: the server did not start (${String(error)}).`, 'Show Logs').then(
        (choice) => choice && this.output.show(),
      );
    }
  }

  private onClosed() {
    if (this.policy.shouldRestart(Date.now())) {
      this.events.stopped('restarting after a crash');
      void vscode.window.showWarningMessage('CodeAssist: the server stopped unexpectedly; restarting it.');
      return { action: CloseAction.Restart, handled: true };
    }
    this.events.stopped('stopped after repeated crashes');
    void vscode.window
      .showErrorMessage('CodeAssist: the server crashed 5 times in 3 minutes and stays stopped.', 'Restart', 'Show Logs')
      .then((choice) => {
        if (choice === 'Restart') void this.restart();
        if (choice === 'Show Logs') this.output.show();
      });
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  async restart(): Promise<void> {
    this.policy.reset();
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client && client.state !== State.Stopped) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.output.warn(`stopping the server: ${String(error)}`);
      }
    }
  }

  private async onConfiguration(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!event.affectsConfiguration(SECTION)) return;
    if (event.affectsConfiguration(`${SECTION}.server`) || !this.client) {
      await this.restart();
      return;
    }
    const next = this.options();
    if (needsRestart(this.sentOptions, next)) {
      this.output.info('a setting went back to its default: restarting the server');
      await this.restart();
      return;
    }
    this.sentOptions = next;
    await this.client.sendNotification('workspace/didChangeConfiguration', { settings: next });
  }

  dispose(): void {
    this.subscriptions.forEach((s) => s.dispose());
  }
}

/** Activation: wires the server client, status bar, chat panel, code actions and commands. */

import * as vscode from 'vscode';
import { ProgressType } from 'vscode-languageclient/node';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ChatViewProvider, editorContext, VIEW_ID } from './chat/chatView';
import type { ChatPiece } from './chat/protocol';
import { CHAT_DELTA, ChatServer } from './chat/chatController';
import {
  codeActionMiddleware,
  EXPLAIN_RANGE_COMMAND,
  PREVIEW_COMMAND,
  previewRewrite,
  rewriteSelection,
} from './codeActions';
import { isModelProblem } from './executable';
import { inlineCompletionMiddleware } from './inlineCompletion';
import { Proposals } from './proposal';
import { ServerClient } from './serverClient';
import { StatusBar } from './statusBar';
import { switchModel } from './switchModel';
import type { ServerStatus } from './statusView';

const EXPLAIN_PROMPT = 'Explain what this code does.';

interface SearchHit {
  uri: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  score?: number;
  symbol?: string | null;
  kind?: string | null;
  why?: string[];
}

let stopServer: (() => Promise<void>) | undefined;

export interface CodeAssistApi {
  server: ServerClient;
  chat: ChatViewProvider;
  proposals: Proposals;
  status: StatusBar;
}

export async function activate(context: vscode.ExtensionContext): Promise<CodeAssistApi> {
  const output = vscode.window.createOutputChannel('CodeAssist', { log: true });
  const status = new StatusBar();
  const proposals = new Proposals();
  let lastEditor = vscode.window.activeTextEditor;
  context.subscriptions.push(
    output,
    status,
    proposals,
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor && editor.document.uri.scheme !== 'codeassist-proposal') lastEditor = editor;
    }),
  );

  const middleware = { ...codeActionMiddleware(() => server.client), ...inlineCompletionMiddleware };
  const server: ServerClient = new ServerClient(context, output, middleware, {
    started: (client) => status.watch(() => client.sendRequest<ServerStatus>('codeassist/status', {})),
    stopped: (reason) => status.stopped(reason),
  });
  context.subscriptions.push(server);
  stopServer = () => server.stop();

  const running = (): LanguageClient => {
    const client = server.client;
    if (!client || !client.isRunning()) throw new Error('the CodeAssist server is not running (see CodeAssist: Show Logs)');
    return client;
  };

  const showError = (message: string) => {
    output.error(message);
    if (isModelProblem(message)) {
      void vscode.window
        .showErrorMessage(`CodeAssist: ${message}`, 'Choose a Model', 'Show Logs')
        .then((choice) => {
          if (choice === 'Choose a Model') void vscode.commands.executeCommand('codeassist.switchModel');
          if (choice === 'Show Logs') output.show();
        });
    } else {
      void vscode.window.showErrorMessage(`CodeAssist: ${message}`);
    }
  };

  const chatServer: ChatServer = {
    request: async <R>(method: string, params: unknown, signal?: AbortSignal): Promise<R> => {
      const source = new vscode.CancellationTokenSource();
      signal?.addEventListener('abort', () => source.cancel());
      try {
        return await running().sendRequest<R>(method, params, source.token);
      } finally {
        source.dispose();
      }
    },
    notify: (method, params) => {
      const client = server.client;
      if (client?.isRunning()) void client.sendNotification(method, params).catch(() => undefined);
    },
    onPartialResult: (token, handler) => running().onProgress(new ProgressType<ChatPiece>(), token, handler),
    onChatDelta: (handler) => running().onNotification(CHAT_DELTA, (piece: ChatPiece) => handler(piece)),
  };

  const editTarget = (): vscode.TextEditor | undefined => {
    const editor = lastEditor ?? vscode.window.visibleTextEditors[0];
    if (!editor) void vscode.window.showWarningMessage('CodeAssist: open a file first.');
    return editor;
  };

  const chat = new ChatViewProvider(context.extensionUri, chatServer, () => lastEditor, {
    insert: (code) => {
      const editor = editTarget();
      if (editor) void editor.edit((edit) => edit.replace(editor.selection, code));
    },
    apply: (code) => {
      const editor = editTarget();
      if (!editor) return;
      const document = editor.document;
      const range = editor.selection.isEmpty
        ? new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length))
        : editor.selection;
      void proposals.propose(document, [vscode.TextEdit.replace(range, code)], 'code from chat');
    },
    showError,
  });
  context.subscriptions.push(
    vscode.window.registerWebviewViewProvider(VIEW_ID, chat, { webviewOptions: { retainContextWhenHidden: true } }),
  );

  const askAbout = async (text?: string, range?: vscode.Range, uri?: vscode.Uri) => {
    let editor = vscode.window.activeTextEditor ?? lastEditor;
    if (uri && editor?.document.uri.toString() !== uri.toString()) {
      editor = await vscode.window.showTextDocument(uri, { preserveFocus: true });
    }
    if (editor && range) editor.selection = new vscode.Selection(range.start, range.end);
    const ctx = editorContext(editor, true);
    await chat.reveal();
    if (ctx) chat.controller.setContext(ctx);
    if (text) await chat.controller.send(text);
  };

  const withEditor = (fn: (editor: vscode.TextEditor) => unknown) => () => {
    const editor = vscode.window.activeTextEditor ?? lastEditor;
    if (!editor) return vscode.window.showWarningMessage('CodeAssist: open a file and select some code first.');
    return fn(editor);
  };

  const guarded =
    <A extends unknown[]>(fn: (...args: A) => unknown) =>
    async (...args: A) => {
      try {
        return await fn(...args);
      } catch (error) {
        showError(error instanceof Error ? error.message : String(error));
        return undefined;
      }
    };

  const register = (id: string, fn: (...args: never[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, guarded(fn)));

  register('codeassist.askAboutSelection', () => askAbout());
  register('codeassist.explainSelection', () => askAbout(EXPLAIN_PROMPT));
  register(EXPLAIN_RANGE_COMMAND, (uri: vscode.Uri, range: vscode.Range) => askAbout(EXPLAIN_PROMPT, range, uri));
  register('codeassist.fixSelection', withEditor((editor) => rewriteSelection(running(), proposals, editor, 'fix')));
  register('codeassist.improveSelection', withEditor((editor) => rewriteSelection(running(), proposals, editor, 'improve')));
  register(PREVIEW_COMMAND, (uri: vscode.Uri, action: never, kind: 'fix' | 'improve') =>
    previewRewrite(running(), proposals, uri, action, kind),
  );
  register('codeassist.applyProposal', () => proposals.apply());
  register('codeassist.discardProposal', () => proposals.discard());
  register('codeassist.newChat', async () => {
    await chat.reveal();
    chat.controller.newConversation();
  });
  register('codeassist.showLogs', () => output.show());
  register('codeassist.restartServer', () => server.restart());
  register('codeassist.reindexWorkspace', async () => {
    await running().sendRequest('workspace/executeCommand', { command: 'codeassist.reindex', arguments: [] });
    status.refresh();
  });
  register('codeassist.searchWorkspace', () => searchWorkspace(running()));
  register('codeassist.switchModel', () => switchModel());
  register('codeassist.statusMenu', () => statusMenu(status, output));

  await server.start();
  return { server, chat, proposals, status };
}

async function searchWorkspace(client: LanguageClient): Promise<void> {
  const query = await vscode.window.showInputBox({
    title: 'CodeAssist: Search the Workspace',
    prompt: 'Describe the code in plain English, or name it',
    placeHolder: 'where is the config loaded',
  });
  if (!query?.trim()) return;
  const hits = await client.sendRequest<SearchHit[]>('codeassist/search', { query });
  if (!hits.length) {
    void vscode.window.showInformationMessage(`CodeAssist: nothing found for “${query}”.`);
    return;
  }
  const picked = await vscode.window.showQuickPick(
    hits.map((hit) => {
      const path = vscode.workspace.asRelativePath(vscode.Uri.parse(hit.uri), false);
      const line = hit.range.start.line + 1;
      return {
        label: hit.symbol ?? path,
        description: hit.symbol ? `${path}:${line}` : `line ${line}`,
        detail: hit.why?.length ? `found by ${hit.why.join(', ')}` : undefined,
        hit,
      };
    }),
    { title: `CodeAssist: ${query}`, matchOnDescription: true },
  );
  if (!picked) return;
  const { start, end } = picked.hit.range;
  await vscode.window.showTextDocument(vscode.Uri.parse(picked.hit.uri), {
    selection: new vscode.Range(start.line, start.character, end.line, end.character),
  });
}

async function statusMenu(status: StatusBar, output: vscode.LogOutputChannel): Promise<void> {
  const items: (vscode.QuickPickItem & { command: string })[] = [
    { label: '$(comment-discussion) Open Chat', command: `${VIEW_ID}.focus` },
    { label: '$(search) Search the Workspace', command: 'codeassist.searchWorkspace' },
    { label: '$(refresh) Reindex the Workspace', command: 'codeassist.reindexWorkspace' },
    { label: '$(hubot) Switch Model', command: 'codeassist.switchModel' },
    { label: '$(output) Show Logs', command: 'codeassist.showLogs' },
    { label: '$(debug-restart) Restart the Server', command: 'codeassist.restartServer' },
    { label: '$(settings-gear) Settings', command: 'codeassist.openSettings' },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: status.view.tooltip.split('\n')[0],
    placeHolder: status.view.tooltip.split('\n').slice(1).join(' · '),
  });
  if (!picked) return;
  if (picked.command === 'codeassist.openSettings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', '@ext:codeassist.codeassist');
    return;
  }
  output.debug(`status menu: ${picked.command}`);
  await vscode.commands.executeCommand(picked.command);
}

/** VS Code waits for this promise: the server gets `shutdown` and `exit`, its index stays consistent. */
export function deactivate(): Promise<void> | undefined {
  return stopServer?.();
}

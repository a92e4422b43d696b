/** The chat panel: a webview view in CodeAssist's activity-bar container. */

import * as crypto from 'crypto';
import * as vscode from 'vscode';
import { chatHtml } from './chatHtml';
import { ChatController, ChatContext, ChatHost, ChatServer } from './chatController';
import type { Citation, FromWebview, ToWebview } from './protocol';

export const VIEW_ID = 'codeassist.chat';

export interface EditorActions {
  insert(code: string): void;
  apply(code: string): void;
  showError(message: string): void;
}

export function citationLabel(citation: Citation): string {
  const path = vscode.workspace.asRelativePath(vscode.Uri.parse(citation.uri), false);
  const start = citation.range.start.line + 1;
  const end = citation.range.end.line + 1;
  return end > start ? `${path}:${start}-${end}` : `${path}:${start}`;
}

export function editorContext(editor: vscode.TextEditor | undefined, withSelection: boolean): ChatContext | undefined {
  if (!editor || editor.document.uri.scheme !== 'file') return undefined;
  const path = vscode.workspace.asRelativePath(editor.document.uri, false);
  const selection = editor.selection;
  if (!withSelection || selection.isEmpty) return { textDocument: { uri: editor.document.uri.toString() }, label: path };
  const range = {
    start: { line: selection.start.line, character: selection.start.character },
    end: { line: selection.end.line, character: selection.end.character },
  };
  return {
    textDocument: { uri: editor.document.uri.toString() },
    range,
    label: `${path}:${selection.start.line + 1}-${selection.end.line + 1}`,
  };
}

export class ChatViewProvider implements vscode.WebviewViewProvider {
  readonly controller: ChatController;
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private queued: ToWebview[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    server: ChatServer,
    lastEditor: () => vscode.TextEditor | undefined,
    actions: EditorActions,
  ) {
    const host: ChatHost = {
      post: (message) => this.post(message),
      label: citationLabel,
      activeContext: () => {
        // the selected code goes with the question; a whole file would fill the context budget
        const editor = lastEditor();
        return editor && !editor.selection.isEmpty ? editorContext(editor, true) : undefined;
      },
      openCitation: (citation) => void this.openCitation(citation),
      copy: (code) => void vscode.env.clipboard.writeText(code),
      insert: actions.insert,
      apply: actions.apply,
      showError: actions.showError,
    };
    this.controller = new ChatController(server, host);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [media] };
    view.webview.html = chatHtml({
      cspSource: view.webview.cspSource,
      nonce: crypto.randomBytes(16).toString('base64'),
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(media, 'chat.css')).toString(),
    });
    view.webview.onDidReceiveMessage((message: FromWebview) => {
      if (message.type === 'ready') this.flush();
      void this.controller.handle(message);
    });
    view.onDidDispose(() => {
      this.view = undefined;
      this.ready = false;
    });
  }

  /** Opens the panel (the view resolves and says `ready` if it was never shown). */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${VIEW_ID}.focus`);
    this.post({ type: 'focusInput' });
  }

  private post(message: ToWebview): void {
    if (this.view && this.ready) void this.view.webview.postMessage(message);
    else this.queued.push(message);
  }

  private flush(): void {
    this.ready = true;
    const queued = this.queued;
    this.queued = [];
    for (const message of queued) void this.view?.webview.postMessage(message);
  }

  private async openCitation(citation: Citation): Promise<void> {
    const range = new vscode.Range(
      citation.range.start.line,
      citation.range.start.character,
      citation.range.end.line,
      citation.range.end.character,
    );
    await vscode.window.showTextDocument(vscode.Uri.parse(citation.uri), { selection: range, preview: true });
  }
}

/**
 * Explain / Fix / Improve. The server lists them as ordinary code actions and computes
 * Fix and Improve in `codeAction/resolve`. VS Code would apply a resolved edit at once, so
 * the middleware swaps each of them for a command that resolves it, shows the diff and
 * applies only on the user's word; Explain goes to the chat panel, where it streams.
 */

import * as vscode from 'vscode';
import type { BaseLanguageClient, Middleware } from 'vscode-languageclient';
import { CodeActionResolveRequest, CodeActionRequest, CodeActionTriggerKind } from 'vscode-languageserver-protocol';
import type { CodeActionParams } from 'vscode-languageclient';
import type { CodeAction as LspCodeAction } from 'vscode-languageclient';
import { rewriteKindOf, RewriteKind } from './rewriteKind';
import { Proposals } from './proposal';

export const PREVIEW_COMMAND = 'codeassist.previewRewrite';
export const EXPLAIN_RANGE_COMMAND = 'codeassist.explainRange';

/** The code action middleware; `client()` is the running client (it changes on restart). */
export function codeActionMiddleware(client: () => BaseLanguageClient | undefined): Middleware {
  const swapped = new WeakSet<vscode.CodeAction>();
  return {
    async provideCodeActions(document, range, context, token, next) {
      const items = await next(document, range, context, token);
      const current = client();
      if (!items || !current) return items;
      return items.map((item) => {
        if (!(item instanceof vscode.CodeAction) || item.edit) return item;
        const kind = rewriteKindOf(item.kind?.value, item.command?.command, item.title);
        if (!kind) return item;
        const action = new vscode.CodeAction(item.title, item.kind);
        action.diagnostics = item.diagnostics;
        action.isPreferred = item.isPreferred;
        if (kind === 'explain') {
          action.command = { title: item.title, command: EXPLAIN_RANGE_COMMAND, arguments: [document.uri, range] };
        } else {
          const protocol = current.code2ProtocolConverter.asCodeActionSync(item);
          action.command = { title: item.title, command: PREVIEW_COMMAND, arguments: [document.uri, protocol, kind] };
        }
        swapped.add(action);
        return action;
      });
    },
    async resolveCodeAction(item, token, next) {
      if (swapped.has(item)) return item;
      return next(item, token);
    },
  };
}

/** Resolves a Fix / Improve with the server, then shows its diff. */
export async function previewRewrite(
  client: BaseLanguageClient,
  proposals: Proposals,
  uri: vscode.Uri,
  action: LspCodeAction,
  kind: RewriteKind,
): Promise<boolean> {
  const document = await vscode.workspace.openTextDocument(uri);
  const title = kind === 'fix' ? 'Fix' : 'Improve';
  const resolved = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `CodeAssist: ${action.title}…`, cancellable: true },
    (_progress, token) => client.sendRequest(CodeActionResolveRequest.type, action, token),
  );
  if (!resolved?.edit) {
    // the server has said why (window/showMessage); a disabled action carries its reason
    const why = resolved?.disabled?.reason;
    if (why) void vscode.window.showWarningMessage(`CodeAssist: ${action.title}: ${why}.`);
    else vscode.window.setStatusBarMessage(`CodeAssist: ${action.title}: nothing to apply`, 5000);
    return false;
  }
  const edit = await client.protocol2CodeConverter.asWorkspaceEdit(resolved.edit);
  const edits = edit?.get(uri) ?? [];
  if (!edits.length) {
    void vscode.window.showWarningMessage(`CodeAssist: ${action.title} changes another file; nothing applied.`);
    return false;
  }
  return proposals.propose(document, edits, title);
}

/** The context-menu Fix / Improve: asks the server for that action on the selection. */
export async function rewriteSelection(
  client: BaseLanguageClient,
  proposals: Proposals,
  editor: vscode.TextEditor,
  kind: 'fix' | 'improve',
): Promise<boolean> {
  const document = editor.document;
  const range = editor.selection;
  const diagnostics = vscode.languages
    .getDiagnostics(document.uri)
    .filter((d) => d.range.intersection(range) !== undefined);
  const params: CodeActionParams = {
    textDocument: { uri: document.uri.toString() },
    range: client.code2ProtocolConverter.asRange(range),
    context: {
      diagnostics: client.code2ProtocolConverter.asDiagnosticsSync(diagnostics),
      only: [kind === 'fix' ? 'quickfix' : 'refactor.rewrite'],
      triggerKind: CodeActionTriggerKind.Invoked,
    },
  };
  const items = (await client.sendRequest(CodeActionRequest.type, params)) ?? [];
  const action = items
    .filter((item): item is LspCodeAction => typeof item.command !== 'string')
    .find((item) => rewriteKindOf(item.kind, item.command?.command, item.title) === kind);
  if (!action) {
    void vscode.window.showInformationMessage(
      `CodeAssist: the server offers no ${kind === 'fix' ? 'Fix' : 'Improve'} for this selection.`,
    );
    return false;
  }
  if (action.edit) {
    const edit = await client.protocol2CodeConverter.asWorkspaceEdit(action.edit);
    return proposals.propose(document, edit?.get(document.uri) ?? [], kind === 'fix' ? 'Fix' : 'Improve');
  }
  return previewRewrite(client, proposals, document.uri, action, kind);
}

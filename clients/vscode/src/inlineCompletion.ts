/**
 * Inline completion goes through vscode-languageclient 9's own `textDocument/inlineCompletion`
 * support, which sends VS Code's trigger kind as is (Invoke 0, Automatic 1) where LSP 3.18
 * counts from 1 (Invoked 1, Automatic 2), and the selected suggestion's `vscode.Range`
 * (which serialises as an array). The server refuses both, so the middleware fixes the
 * context before it is sent.
 */

import type * as vscode from 'vscode';
import type { Middleware } from 'vscode-languageclient';

interface PlainRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

function plainRange(range: vscode.Range): PlainRange {
  return {
    start: { line: range.start.line, character: range.start.character },
    end: { line: range.end.line, character: range.end.character },
  };
}

/** VS Code's context with LSP's numbering and plain ranges. */
export function protocolInlineContext(context: vscode.InlineCompletionContext): vscode.InlineCompletionContext {
  const selected = context.selectedCompletionInfo;
  return {
    triggerKind: (context.triggerKind + 1) as vscode.InlineCompletionTriggerKind,
    selectedCompletionInfo: selected
      ? ({ range: plainRange(selected.range), text: selected.text } as unknown as vscode.SelectedCompletionInfo)
      : undefined,
  };
}

export const inlineCompletionMiddleware: Middleware = {
  provideInlineCompletionItems(document, position, context, token, next) {
    return next(document, position, protocolInlineContext(context), token);
  },
};

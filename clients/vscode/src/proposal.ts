/**
 * A proposed change shown in VS Code's diff editor before it is applied: the left side is
 * the document, the right side a read-only virtual copy with the edits. Apply / Discard
 * are in the diff's title bar and in a notification.
 */

import * as vscode from 'vscode';
import { applyEdits } from './textEdits';

export const SCHEME = 'codeassist-proposal';
const CONTEXT_KEY = 'codeassist.proposalOpen';

interface Proposal {
  document: vscode.TextDocument;
  version: number;
  edits: vscode.TextEdit[];
  proposedUri: vscode.Uri;
  title: string;
}

export class Proposals implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private current: Proposal | undefined;
  private counter = 0;
  private readonly registration: vscode.Disposable;

  constructor() {
    this.registration = vscode.workspace.registerTextDocumentContentProvider(SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  /** Opens the diff of `edits` over `document`; resolves once applied (true) or discarded. */
  async propose(document: vscode.TextDocument, edits: vscode.TextEdit[], title: string): Promise<boolean> {
    const proposed = applyEdits(document.getText(), edits);
    if (proposed === document.getText()) {
      void vscode.window.showInformationMessage(`CodeAssist: ${title} changes nothing.`);
      return false;
    }
    const name = document.uri.path.split('/').pop() ?? 'proposal';
    const proposedUri = vscode.Uri.from({ scheme: SCHEME, path: `/${++this.counter}/${name}` });
    this.texts.set(proposedUri.toString(), proposed);
    this.current = { document, version: document.version, edits, proposedUri, title };
    await vscode.commands.executeCommand('setContext', CONTEXT_KEY, true);
    await vscode.commands.executeCommand(
      'vscode.diff',
      document.uri,
      proposedUri,
      `${name} ↔ CodeAssist: ${title}`,
      { preview: true },
    );
    const choice = await vscode.window.showInformationMessage(
      `CodeAssist: apply the ${title} to ${name}?`,
      'Apply',
      'Discard',
    );
    if (this.current?.proposedUri !== proposedUri) return false;
    return choice === 'Apply' ? this.apply() : (await this.discard(), false);
  }

  async apply(): Promise<boolean> {
    const proposal = this.current;
    if (!proposal) return false;
    if (proposal.document.version !== proposal.version) {
      void vscode.window.showWarningMessage(
        `CodeAssist: ${proposal.document.uri.path.split('/').pop()} changed since the ${proposal.title} was proposed; nothing applied.`,
      );
      await this.discard();
      return false;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.set(proposal.document.uri, proposal.edits);
    const applied = await vscode.workspace.applyEdit(edit);
    await this.close(proposal);
    if (applied) await vscode.window.showTextDocument(proposal.document);
    return applied;
  }

  async discard(): Promise<void> {
    if (this.current) await this.close(this.current);
  }

  private async close(proposal: Proposal): Promise<void> {
    this.current = undefined;
    this.texts.delete(proposal.proposedUri.toString());
    await vscode.commands.executeCommand('setContext', CONTEXT_KEY, false);
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        const input = tab.input;
        if (input instanceof vscode.TabInputTextDiff && input.modified.toString() === proposal.proposedUri.toString()) {
          await vscode.window.tabGroups.close(tab);
        }
      }
    }
  }

  dispose(): void {
    this.registration.dispose();
  }
}

/** The status bar item: indexing, model and errors from `codeassist/status`; a click opens the menu. */

import * as vscode from 'vscode';
import { describeStatus, ServerStatus, StatusView, startingView, stoppedView } from './statusView';

const BUSY_POLL_MS = 2000;
const IDLE_POLL_MS = 15000;

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('codeassist.status', vscode.StatusBarAlignment.Right, 100);
  private timer: ReturnType<typeof setTimeout> | undefined;
  private fetchStatus: (() => Promise<ServerStatus>) | undefined;
  view: StatusView = startingView();

  constructor() {
    this.item.name = 'CodeAssist';
    this.item.command = 'codeassist.statusMenu';
    this.show(startingView());
    this.item.show();
  }

  show(view: StatusView): void {
    this.view = view;
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.accessibilityInformation = { label: view.tooltip.split('\n').join('. ') };
    this.item.backgroundColor =
      view.kind === 'error' || view.kind === 'stopped' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }

  /** Polls the server while it runs: often while indexing, rarely when idle. */
  watch(fetchStatus: () => Promise<ServerStatus>): void {
    this.fetchStatus = fetchStatus;
    this.show(startingView());
    this.schedule(0);
  }

  stopped(reason: string): void {
    this.fetchStatus = undefined;
    this.clear();
    this.show(stoppedView(reason));
  }

  refresh(): void {
    if (this.fetchStatus) this.schedule(0);
  }

  private schedule(delay: number): void {
    this.clear();
    this.timer = setTimeout(() => void this.poll(), delay);
  }

  private async poll(): Promise<void> {
    const fetchStatus = this.fetchStatus;
    if (!fetchStatus) return;
    try {
      this.show(describeStatus(await fetchStatus(), (vscode.workspace.workspaceFolders?.length ?? 0) > 0));
    } catch (error) {
      this.show({ kind: 'error', text: '$(error) CodeAssist', tooltip: `CodeAssist: status failed: ${String(error)}` });
    }
    if (this.fetchStatus === fetchStatus) {
      this.schedule(this.view.kind === 'indexing' ? BUSY_POLL_MS : IDLE_POLL_MS);
    }
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.clear();
    this.item.dispose();
  }
}

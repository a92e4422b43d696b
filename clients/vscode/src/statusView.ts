/** What the status bar item says, from a `codeassist/status` answer (pure). */

export interface WorkspaceStatus {
  root?: string;
  files?: number;
  chunks?: number;
  symbols?: number;
  vectors_pending?: number;
  indexing?: boolean;
}

export interface ServerStatus {
  version?: string;
  workspaces?: WorkspaceStatus[];
  indexing?: boolean;
  model?: string;
  backend?: string;
  modelActive?: boolean;
  lastError?: string | null;
}

export type StatusKind = 'starting' | 'indexing' | 'ready' | 'error' | 'stopped';

export interface StatusView {
  kind: StatusKind;
  text: string;
  tooltip: string;
}

function sum(workspaces: WorkspaceStatus[], field: 'files' | 'chunks' | 'vectors_pending'): number {
  return workspaces.reduce((total, w) => total + (w[field] ?? 0), 0);
}

/** `hasFolders`: the window has folders, so a status without workspaces means the index is not open yet. */
export function describeStatus(status: ServerStatus, hasFolders = false): StatusView {
  const workspaces = status.workspaces ?? [];
  const files = sum(workspaces, 'files');
  const chunks = sum(workspaces, 'chunks');
  const pending = sum(workspaces, 'vectors_pending');
  const model = status.model ?? 'no model';
  const lines = [
    `CodeAssist ${status.version ?? ''}`.trim(),
    `Model: ${model}${status.backend ? ` (${status.backend})` : ''}${status.modelActive ? ', loaded' : ', loads on first use'}`,
    `Index: ${files} files, ${chunks} chunks${pending ? `, ${pending} vectors pending` : ''}`,
  ];
  if (status.lastError) {
    lines.push(`Last error: ${status.lastError}`);
    return { kind: 'error', text: '$(error) CodeAssist', tooltip: lines.join('\n') };
  }
  if (hasFolders && workspaces.length === 0) {
    return { kind: 'indexing', text: '$(sync~spin) CodeAssist: opening the index', tooltip: lines.join('\n') };
  }
  if (status.indexing || pending > 0) {
    const what = status.indexing ? 'indexing' : 'embedding';
    const detail = pending > 0 ? ` (${pending} left)` : '';
    return { kind: 'indexing', text: `$(sync~spin) CodeAssist: ${what}${detail}`, tooltip: lines.join('\n') };
  }
  return { kind: 'ready', text: `$(check) CodeAssist: ${model}`, tooltip: lines.join('\n') };
}

export function startingView(): StatusView {
  return { kind: 'starting', text: '$(loading~spin) CodeAssist', tooltip: 'CodeAssist: starting the server' };
}

export function stoppedView(reason: string): StatusView {
  return { kind: 'stopped', text: '$(debug-stop) CodeAssist', tooltip: `CodeAssist: ${reason}` };
}

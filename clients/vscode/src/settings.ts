/**
 * The extension's settings mapped to the server's (`codeassist_lsp/config.py`).
 *
 * Only values the user set explicitly are sent: the server layers them over its own
 * defaults and the user's `~/.config/codeassist/config.json`, so sending VS Code's
 * defaults would hide that file.
 */

export const SECTION = 'codeassist';

/** Settings the extension itself reads; the server never sees them. */
const CLIENT_ONLY = ['server.', 'trace.'];

export interface Inspected {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

export type Inspect = (key: string) => Inspected | undefined;

/** The contributed keys, relative to the section (`index.maxFileBytes`). */
export function contributedKeys(packageJson: {
  contributes?: { configuration?: { properties?: Record<string, unknown> } };
}): string[] {
  const props = packageJson.contributes?.configuration?.properties ?? {};
  return Object.keys(props)
    .filter((key) => key.startsWith(SECTION + '.'))
    .map((key) => key.slice(SECTION.length + 1));
}

function explicitValue(inspected: Inspected | undefined): unknown {
  if (!inspected) return undefined;
  return inspected.workspaceFolderValue ?? inspected.workspaceValue ?? inspected.globalValue;
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** The server's options object (`{index: {maxFileBytes}, llm: {model}, ...}`). */
export function serverOptions(keys: string[], inspect: Inspect): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const key of keys) {
    if (CLIENT_ONLY.some((prefix) => key.startsWith(prefix))) continue;
    const value = explicitValue(inspect(key));
    if (isEmpty(value)) continue;
    const parts = key.split('.');
    let node = options;
    for (const part of parts.slice(0, -1)) {
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return options;
}

export interface ServerCommand {
  command: string;
  args: string[];
}

/** How to start the server: `<server.path> serve <server.extraArgs...>`. */
export function serverCommand(path: unknown, extraArgs: unknown): ServerCommand {
  const command = typeof path === 'string' && path.trim() ? path.trim() : 'codeassist';
  const extra = Array.isArray(extraArgs) ? extraArgs.filter((a) => typeof a === 'string') : [];
  return { command, args: ['serve', ...extra] };
}

function leaves(node: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (typeof node !== 'object' || node === null || Array.isArray(node)) {
    out.set(prefix, JSON.stringify(node));
    return out;
  }
  for (const [key, value] of Object.entries(node)) {
    for (const [path, json] of leaves(value, prefix ? `${prefix}.${key}` : key)) out.set(path, json);
  }
  return out;
}

/**
 * True when a setting sent before is no longer set: the server only layers values over
 * what it has, so going back to the default (or the config file) needs a fresh server.
 */
export function needsRestart(previous: Record<string, unknown>, next: Record<string, unknown>): boolean {
  const now = leaves(next);
  for (const path of leaves(previous).keys()) if (path && !now.has(path)) return true;
  return false;
}

/** The models `codeassist models list --json` knows, as quick pick entries (pure). */

export interface ModelChoice {
  label: string;
  description: string;
  detail: string;
  installed: boolean;
  /** Shell commands that install it, from the CLI (which knows the packages); empty when none are needed or known. */
  install: string[];
}

function commands(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((c): c is string => typeof c === 'string') : [];
}

export function modelChoices(json: string, current: string): ModelChoice[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  const models = (parsed as { models?: unknown }).models;
  if (!Array.isArray(models)) return [];
  return models
    .filter((m): m is Record<string, unknown> => typeof m === 'object' && m !== null && typeof m.name === 'string')
    .map((m) => {
      const installed = m.installed === 'yes';
      const tags = [String(m.role ?? ''), m.name === current ? 'current' : '', installed ? '' : 'not installed']
        .filter(Boolean)
        .join(', ');
      return {
        label: String(m.name),
        description: tags,
        detail: `${String(m.title ?? '')} · ${String(m.size_mb ?? '?')} MB, ${String(m.ram_gb ?? '?')} GB RAM`,
        installed,
        install: installed ? [] : commands(m.install),
      };
    });
}

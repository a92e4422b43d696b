/** Which of CodeAssist's actions a server code action is (pure). */

export type RewriteKind = 'explain' | 'fix' | 'improve';

/**
 * From the action's kind (`quickfix`, `refactor.rewrite`, `refactor.codeassist.explain`),
 * else from its command (`codeassist.fix` …), else from its title.
 */
export function rewriteKindOf(kind: string | undefined, command?: string, title?: string): RewriteKind | undefined {
  const k = kind ?? '';
  if (/explain/i.test(k) || command === 'codeassist.explain') return 'explain';
  if (k === 'quickfix' || k.startsWith('quickfix.') || command === 'codeassist.fix') return 'fix';
  if (k.startsWith('refactor.rewrite') || command === 'codeassist.improve') return 'improve';
  if (!k && title) {
    if (/^explain/i.test(title)) return 'explain';
    if (/^fix/i.test(title)) return 'fix';
    if (/^improve/i.test(title)) return 'improve';
  }
  return undefined;
}

/** Applying LSP-style text edits to a string (pure), for the diff of a proposed change. */

import type { Range } from './chat/protocol';

export interface PlainEdit {
  range: Range;
  newText: string;
}

/** Offsets of each line start, so positions become string offsets. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

export function offsetAt(text: string, starts: number[], line: number, character: number): number {
  if (line >= starts.length) return text.length;
  const lineEnd = line + 1 < starts.length ? starts[line + 1] - 1 : text.length;
  return Math.min(starts[line] + character, lineEnd);
}

/** The text after the edits (applied from the last to the first; overlapping edits are refused). */
export function applyEdits(text: string, edits: PlainEdit[]): string {
  const starts = lineStarts(text);
  const spans = edits
    .map((e) => ({
      start: offsetAt(text, starts, e.range.start.line, e.range.start.character),
      end: offsetAt(text, starts, e.range.end.line, e.range.end.character),
      newText: e.newText,
    }))
    .sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].start < spans[i - 1].end) throw new Error('the proposed edits overlap');
  }
  let out = text;
  for (const span of spans.reverse()) out = out.slice(0, span.start) + span.newText + out.slice(span.end);
  return out;
}

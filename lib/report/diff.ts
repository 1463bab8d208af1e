// The one line diff of the project (--diff in the plain reporter, the UI's scroll-back and the
// ops' FileDiff rendering), on jsdiff's structuredPatch: hunks with `context` lines around each
// change, rendered in `diff -u`'s format.
import { structuredPatch } from 'diff';
import type { FileDiff } from '../ops/types.ts';

export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** ' x', '-x', '+x', or '\ No newline at end of file'. */
  lines: string[];
}

export function diffHunks(before: string, after: string, context = 3): Hunk[] {
  if (before === after) return [];
  return structuredPatch('before', 'after', before, after, '', '', { context }).hunks;
}

/** `diff -u` range: a zero-length range names the line before it; a count of 1 is implied. */
function range(start: number, count: number): string {
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}

/** Unified diff lines with ---/+++ headers; [] when the texts are equal. */
export function unifiedDiffLines(before: string, after: string, path = 'file', context = 3): string[] {
  const hunks = diffHunks(before, after, context);
  if (!hunks.length) return [];
  const out = [`--- ${path} (before)`, `+++ ${path} (after)`];
  for (const h of hunks) out.push(`@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`, ...h.lines);
  return out;
}

/** Unified diff as text ('' when equal). */
export function unifiedDiff(before: string, after: string, options: { path?: string; context?: number } = {}): string {
  const lines = unifiedDiffLines(before, after, options.path, options.context);
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** Render a FileDiff (as ops return them) for display. */
export function renderFileDiff(d: FileDiff, context?: number): string {
  return unifiedDiff(d.before, d.after, { path: d.path, context });
}

export type DiffLine = { kind: 'add' | 'del' | 'ctx'; text: string } | { kind: 'gap'; count: number };

function lineCount(text: string): number {
  if (text === '') return 0;
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

/**
 * The same hunks as typed lines for the UI: unchanged lines between hunks fold into one
 * `gap`, and past `maxLines` the rest folds into a final gap.
 */
export function diffLines(before: string, after: string, opts: { context?: number; maxLines?: number } = {}): DiffLine[] {
  const maxLines = opts.maxLines ?? 200;
  const hunks = diffHunks(before, after, opts.context ?? 3);
  const out: DiffLine[] = [];
  let nextOld = 1;
  for (const h of hunks) {
    // jsdiff's oldStart is the first old line the hunk touches (for a pure insertion, the
    // line it goes before), so the lines before it are unchanged.
    const first = h.oldStart;
    if (first > nextOld) out.push({ kind: 'gap', count: first - nextOld });
    for (const l of h.lines) {
      if (l.startsWith('\\')) continue;
      out.push({ kind: l[0] === '+' ? 'add' : l[0] === '-' ? 'del' : 'ctx', text: l.slice(1) });
    }
    nextOld = first + h.oldLines;
  }
  const total = lineCount(before);
  if (hunks.length && total >= nextOld) out.push({ kind: 'gap', count: total - nextOld + 1 });
  if (out.length <= maxLines) return out;
  const kept = out.slice(0, maxLines);
  const rest = out.slice(maxLines).reduce((sum, l) => sum + (l.kind === 'gap' ? l.count : 1), 0);
  kept.push({ kind: 'gap', count: rest });
  return kept;
}

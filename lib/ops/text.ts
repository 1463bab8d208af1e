// A small unified line diff (LCS) for --diff output. No dependency: config files are small,
// and the O(n*m) table is bounded by a size cap with a plain "changed" fallback.
import type { FileDiff } from './types.ts';

/** Largest before*after line product diffed exactly (about 16 MB of table). */
const MAX_CELLS = 4_000_000;

type Edit = { op: ' ' | '-' | '+'; line: string; a: number; b: number };

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function editScript(a: string[], b: string[]): Edit[] {
  // Trim the common prefix and suffix first: most config edits touch a few lines.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const edits: Edit[] = [];
  for (let i = 0; i < start; i++) edits.push({ op: ' ', line: a[i]!, a: i, b: i });
  const n = endA - start;
  const m = endB - start;
  if (n * m > MAX_CELLS) {
    for (let i = start; i < endA; i++) edits.push({ op: '-', line: a[i]!, a: i, b: start });
    for (let j = start; j < endB; j++) edits.push({ op: '+', line: b[j]!, a: endA, b: j });
  } else {
    // lcs[i][j] = LCS length of a[start+i..endA) and b[start+j..endB)
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] =
          a[start + i] === b[start + j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[start + i] === b[start + j]) {
        edits.push({ op: ' ', line: a[start + i]!, a: start + i, b: start + j });
        i++;
        j++;
      } else if (i < n && (j === m || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) {
        // Deletions before insertions, as diff(1) prints them.
        edits.push({ op: '-', line: a[start + i]!, a: start + i, b: start + j });
        i++;
      } else {
        edits.push({ op: '+', line: b[start + j]!, a: start + i, b: start + j });
        j++;
      }
    }
  }
  for (let i = endA, j = endB; i < a.length; i++, j++) edits.push({ op: ' ', line: a[i]!, a: i, b: j });
  return edits;
}

function range(start: number, count: number): string {
  // Unified format: a zero-length range names the line before it.
  const s = count === 0 ? start : start + 1;
  return count === 1 ? `${s}` : `${s},${count}`;
}

/**
 * Unified diff of two texts ('' when equal). Headers use the path as `--- before` and
 * `+++ after` labels; `context` lines of context around each hunk (default 3).
 */
export function unifiedDiff(before: string, after: string, options: { path?: string; context?: number } = {}): string {
  if (before === after) return '';
  const context = options.context ?? 3;
  const path = options.path ?? 'file';
  const edits = editScript(splitLines(before), splitLines(after));
  const out: string[] = [`--- ${path} (before)`, `+++ ${path} (after)`];
  const changedIdx = edits.map((e, i) => (e.op === ' ' ? -1 : i)).filter((i) => i >= 0);
  if (changedIdx.length === 0) {
    // Only the final newline differs.
    out.push('\\ final newline changed');
    return out.join('\n') + '\n';
  }
  let k = 0;
  while (k < changedIdx.length) {
    const first = changedIdx[k]!;
    let last = first;
    // Merge changes closer than 2*context into one hunk.
    while (k + 1 < changedIdx.length && changedIdx[k + 1]! - last <= 2 * context) last = changedIdx[++k]!;
    k++;
    const from = Math.max(0, first - context);
    const to = Math.min(edits.length - 1, last + context);
    const hunk = edits.slice(from, to + 1);
    const aCount = hunk.filter((e) => e.op !== '+').length;
    const bCount = hunk.filter((e) => e.op !== '-').length;
    const aStart = hunk[0]!.a;
    const bStart = hunk[0]!.b;
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`);
    for (const e of hunk) out.push(`${e.op}${e.line}`);
  }
  return out.join('\n') + '\n';
}

/** Render a FileDiff (as ops return them) for display. */
export function renderFileDiff(d: FileDiff, context?: number): string {
  return unifiedDiff(d.before, d.after, { path: d.path, context });
}

/** Text worth diffing: no NUL byte. */
export function isText(content: string | Buffer): boolean {
  return typeof content === 'string' ? !content.includes('\0') : !content.includes(0);
}

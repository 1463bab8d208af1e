// A line diff for --diff output: unchanged lines far from any change fold into one "gap"
// line, like a unified diff's hunks. Presentation only; the ops decide what changed.

export type DiffLine =
  | { kind: 'add' | 'del' | 'ctx'; text: string }
  | { kind: 'gap'; count: number };

export interface DiffOptions {
  /** Unchanged lines kept around each change. Default 3. */
  context?: number;
  /** Cap on lines returned; the rest folds into a final gap. Default 200. */
  maxLines?: number;
}

// Above this many cells the LCS table would cost too much: show the middle as replaced.
const MAX_CELLS = 1_000_000;

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

type Op = { kind: 'add' | 'del' | 'ctx'; text: string };

function middleOps(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_CELLS) return [...a.map((text) => ({ kind: 'del' as const, text })), ...b.map((text) => ({ kind: 'add' as const, text }))];
  // lcs[i][j] = LCS length of a[i..] and b[j..], flattened.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? (lcs[(i + 1) * w + j + 1] ?? 0) + 1 : Math.max(lcs[(i + 1) * w + j] ?? 0, lcs[i * w + j + 1] ?? 0);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: 'ctx', text: a[i] ?? '' });
      i++;
      j++;
    } else if ((lcs[(i + 1) * w + j] ?? 0) >= (lcs[i * w + j + 1] ?? 0)) {
      ops.push({ kind: 'del', text: a[i++] ?? '' });
    } else {
      ops.push({ kind: 'add', text: b[j++] ?? '' });
    }
  }
  while (i < n) ops.push({ kind: 'del', text: a[i++] ?? '' });
  while (j < m) ops.push({ kind: 'add', text: b[j++] ?? '' });
  return ops;
}

export function diffLines(before: string, after: string, opts: DiffOptions = {}): DiffLine[] {
  const context = opts.context ?? 3;
  const maxLines = opts.maxLines ?? 200;
  const a = splitLines(before);
  const b = splitLines(after);
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const ops: Op[] = [
    ...a.slice(0, pre).map((text) => ({ kind: 'ctx' as const, text })),
    ...middleOps(a.slice(pre, a.length - suf), b.slice(pre, b.length - suf)),
    ...a.slice(a.length - suf).map((text) => ({ kind: 'ctx' as const, text })),
  ];
  // Keep context lines within `context` of a change; fold the others.
  const near = new Array<boolean>(ops.length).fill(false);
  ops.forEach((op, k) => {
    if (op.kind === 'ctx') return;
    for (let d = Math.max(0, k - context); d <= Math.min(ops.length - 1, k + context); d++) near[d] = true;
  });
  const out: DiffLine[] = [];
  let gap = 0;
  ops.forEach((op, k) => {
    if (op.kind === 'ctx' && !near[k]) {
      gap++;
      return;
    }
    if (gap > 0) out.push({ kind: 'gap', count: gap });
    gap = 0;
    out.push(op);
  });
  if (gap > 0 && out.length > 0) out.push({ kind: 'gap', count: gap });
  if (out.length <= maxLines) return out;
  const kept = out.slice(0, maxLines);
  const rest = out.slice(maxLines).reduce((sum, l) => sum + (l.kind === 'gap' ? l.count : 1), 0);
  kept.push({ kind: 'gap', count: rest });
  return kept;
}

// A small unified diff (line based, 3 lines of context) for --diff output. Common prefix and
// suffix are trimmed first; the middle uses an LCS table unless it is too large, in which
// case the whole middle is shown as removed-then-added (still correct, just less minimal).

const MAX_CELLS = 4_000_000;

type Op = { kind: ' ' | '-' | '+'; line: string };

function splitLines(s: string): string[] {
  if (s === '') return [];
  const lines = s.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function middleOps(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_CELLS) return [...a.map((line) => ({ kind: '-' as const, line })), ...b.map((line) => ({ kind: '+' as const, line }))];
  // lcs[i][j] = LCS length of a[i..] and b[j..]
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) ops.push({ kind: '-', line: a[i++]! });
    else ops.push({ kind: '+', line: b[j++]! });
  }
  while (i < n) ops.push({ kind: '-', line: a[i++]! });
  while (j < m) ops.push({ kind: '+', line: b[j++]! });
  return ops;
}

/** Unified diff lines (with ---/+++ headers); empty when the texts are equal. */
export function unifiedDiff(before: string, after: string, path: string, context = 3): string[] {
  if (before === after) return [];
  const a = splitLines(before);
  const b = splitLines(after);
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const ops: Op[] = [
    ...a.slice(0, pre).map((line) => ({ kind: ' ' as const, line })),
    ...middleOps(a.slice(pre, a.length - suf), b.slice(pre, b.length - suf)),
    ...a.slice(a.length - suf).map((line) => ({ kind: ' ' as const, line })),
  ];
  const out = [`--- ${path} (before)`, `+++ ${path} (after)`];
  // Group changes with their context into hunks.
  const changed = ops.map((o, k) => (o.kind !== ' ' ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) {
    out.push('@@ whitespace/newline at end of file differs @@');
    return out;
  }
  let h = 0;
  while (h < changed.length) {
    const start = Math.max(0, changed[h]! - context);
    let end = changed[h]!;
    while (h + 1 < changed.length && changed[h + 1]! - end <= context * 2) end = changed[++h]!;
    end = Math.min(ops.length - 1, end + context);
    h++;
    // Line numbers of the hunk in before/after.
    let la = 1;
    let lb = 1;
    for (let k = 0; k < start; k++) {
      if (ops[k]!.kind !== '+') la++;
      if (ops[k]!.kind !== '-') lb++;
    }
    const slice = ops.slice(start, end + 1);
    const ca = slice.filter((o) => o.kind !== '+').length;
    const cb = slice.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${ca ? la : la - 1},${ca} +${cb ? lb : lb - 1},${cb} @@`);
    for (const o of slice) out.push(o.kind + o.line);
  }
  return out;
}

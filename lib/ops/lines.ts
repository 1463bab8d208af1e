// Pure line and block editing (lineInFile, blockInFile, sysctl/modules persistence).
// Content is split on '\n' only, so CRLF files keep their '\r'. An unchanged edit returns
// the original string exactly, so "no change" never rewrites a file.

export type Pattern = RegExp | string;

export interface LineEdit {
  /** The wanted line (required for present). */
  line?: string;
  /** Lines matching this are replaced (present: the last match) or removed (absent). */
  regexp?: Pattern;
  state?: 'present' | 'absent';
  /** Insert after the last line matching this (or 'EOF'); when no line matches: at EOF. */
  insertAfter?: Pattern | 'EOF';
  /** Insert before the last line matching this (or 'BOF'); when no line matches: at EOF. */
  insertBefore?: Pattern | 'BOF';
  /** insertAfter/insertBefore use the first match instead of the last. */
  firstMatch?: boolean;
}

export interface EditResult {
  content: string;
  /** What happened, for the op message; null when nothing changed. */
  action: 'added' | 'replaced' | 'removed' | null;
}

/** A string pattern is a JS regular expression source; g/y flags are dropped (stateful test()). */
export function toRegExp(p: Pattern): RegExp {
  if (typeof p === 'string') return new RegExp(p);
  return p.global || p.sticky ? new RegExp(p.source, p.flags.replace(/[gy]/g, '')) : p;
}

export function splitLines(content: string): string[] {
  if (content === '') return [];
  const lines = content.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function joinLines(lines: readonly string[]): string {
  return lines.length ? lines.join('\n') + '\n' : '';
}

function lastIndex(lines: readonly string[], re: RegExp, first = false): number {
  if (first) return lines.findIndex((l) => re.test(l));
  for (let i = lines.length - 1; i >= 0; i--) if (re.test(lines[i]!)) return i;
  return -1;
}

/** Index to insert at, per insertAfter/insertBefore (default EOF). */
function insertIndex(lines: readonly string[], o: Pick<LineEdit, 'insertAfter' | 'insertBefore' | 'firstMatch'>): number {
  if (o.insertBefore !== undefined) {
    if (o.insertBefore === 'BOF') return 0;
    const i = lastIndex(lines, toRegExp(o.insertBefore), o.firstMatch);
    return i >= 0 ? i : lines.length;
  }
  if (o.insertAfter !== undefined && o.insertAfter !== 'EOF') {
    const i = lastIndex(lines, toRegExp(o.insertAfter), o.firstMatch);
    return i >= 0 ? i + 1 : lines.length;
  }
  return lines.length;
}

/** Ansible lineinfile semantics, pure. */
export function editLine(content: string, e: LineEdit): EditResult {
  const lines = splitLines(content);
  const re = e.regexp === undefined ? undefined : toRegExp(e.regexp);
  if ((e.state ?? 'present') === 'absent') {
    const keep = lines.filter((l) => !(re ? re.test(l) : l === e.line));
    return keep.length === lines.length ? { content, action: null } : { content: joinLines(keep), action: 'removed' };
  }
  if (e.line === undefined) throw new Error('lineInFile: `line` is required for state present');
  if (re) {
    const i = lastIndex(lines, re);
    if (i >= 0) {
      if (lines[i] === e.line) return { content, action: null };
      lines[i] = e.line;
      return { content: joinLines(lines), action: 'replaced' };
    }
  }
  if (lines.includes(e.line)) return { content, action: null };
  lines.splice(insertIndex(lines, e), 0, e.line);
  return { content: joinLines(lines), action: 'added' };
}

export interface BlockEdit {
  begin: string;
  end: string;
  /** Block body (without markers); one trailing newline is ignored. */
  block: string;
  state?: 'present' | 'absent';
  insertAfter?: Pattern | 'EOF';
  insertBefore?: Pattern | 'BOF';
  firstMatch?: boolean;
}

/** Ansible blockinfile semantics, pure: the block sits between two exact marker lines. */
export function editBlock(content: string, b: BlockEdit): EditResult {
  const lines = splitLines(content);
  const bi = lines.lastIndexOf(b.begin);
  const ei = bi >= 0 ? lines.indexOf(b.end, bi + 1) : -1;
  const found = bi >= 0 && ei > bi;
  if ((b.state ?? 'present') === 'absent') {
    if (!found) return { content, action: null };
    lines.splice(bi, ei - bi + 1);
    return { content: joinLines(lines), action: 'removed' };
  }
  const body = b.block.endsWith('\n') ? b.block.slice(0, -1) : b.block;
  const wanted = [b.begin, ...(body === '' ? [] : body.split('\n')), b.end];
  if (found) {
    const current = lines.slice(bi, ei + 1);
    if (current.length === wanted.length && current.every((l, i) => l === wanted[i])) return { content, action: null };
    lines.splice(bi, ei - bi + 1, ...wanted);
    return { content: joinLines(lines), action: 'replaced' };
  }
  lines.splice(insertIndex(lines, b), 0, ...wanted);
  return { content: joinLines(lines), action: 'added' };
}

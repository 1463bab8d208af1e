// The part of kubectl's JSONPath templates roles use: {.a.b}, [*], [n], ['x'], ..x, filters
// [?(@.k=="v")] / != / existence, {range ...}{end}, string literals {"\n"}. Missing keys print
// nothing (kubectl get's --allow-missing-template-keys=true default). Results of one
// expression are separated by spaces, as kubectl prints them.
type Seg =
  | { t: 'field'; name: string; recursive: boolean }
  | { t: 'wild'; recursive: boolean }
  | { t: 'index'; i: number }
  | { t: 'filter'; path: Seg[]; op: '==' | '!=' | 'exists'; value?: unknown };

export class JsonPathError extends Error {}

function parsePath(src: string): Seg[] {
  let s = src.trim();
  if (s.startsWith('$') || s.startsWith('@')) s = s.slice(1);
  const segs: Seg[] = [];
  let i = 0;
  while (i < s.length) {
    if (s.startsWith('..', i)) {
      i += 2;
      const m = /^[^.[\]]+/.exec(s.slice(i));
      if (!m) throw new JsonPathError(`invalid path ${src}`);
      segs.push(m[0] === '*' ? { t: 'wild', recursive: true } : { t: 'field', name: m[0], recursive: true });
      i += m[0].length;
    } else if (s[i] === '.') {
      i++;
      const m = /^[^.[\]]+/.exec(s.slice(i));
      if (!m) continue;
      segs.push(m[0] === '*' ? { t: 'wild', recursive: false } : { t: 'field', name: m[0], recursive: false });
      i += m[0].length;
    } else if (s[i] === '[') {
      const close = findClose(s, i);
      const inner = s.slice(i + 1, close).trim();
      i = close + 1;
      if (inner === '*') segs.push({ t: 'wild', recursive: false });
      else if (/^-?\d+$/.test(inner)) segs.push({ t: 'index', i: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) segs.push({ t: 'field', name: inner.slice(1, -1), recursive: false });
      else if (inner.startsWith('?(') && inner.endsWith(')')) segs.push(parseFilter(inner.slice(2, -1)));
      else throw new JsonPathError(`unsupported JSONPath segment [${inner}]`);
    } else throw new JsonPathError(`invalid path ${src}`);
  }
  return segs;
}

function findClose(s: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  throw new JsonPathError(`unclosed [ in ${s}`);
}

function parseFilter(expr: string): Seg {
  const m = /^(@[^=!<>]*?)\s*(==|!=)\s*(.+)$/.exec(expr.trim());
  if (!m) return { t: 'filter', path: parsePath(expr.trim()), op: 'exists' };
  const raw = m[3]!.trim();
  let value: unknown;
  if (/^".*"$|^'.*'$/.test(raw)) value = raw.slice(1, -1);
  else if (raw === 'true' || raw === 'false') value = raw === 'true';
  else if (!Number.isNaN(Number(raw))) value = Number(raw);
  else value = raw;
  return { t: 'filter', path: parsePath(m[1]!), op: m[2] as '==' | '!=', value };
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object') return Object.values(v);
  return [];
}

function descend(v: unknown, acc: unknown[]): void {
  acc.push(v);
  for (const c of children(v)) descend(c, acc);
}

export function evalPath(root: unknown, segs: Seg[]): unknown[] {
  let cur: unknown[] = [root];
  for (const seg of segs) {
    const next: unknown[] = [];
    for (const v of cur) {
      const pool: unknown[] = [];
      if ('recursive' in seg && seg.recursive) descend(v, pool);
      else pool.push(v);
      for (const p of pool) {
        if (seg.t === 'field') {
          if (p && typeof p === 'object' && !Array.isArray(p) && seg.name in (p as object)) next.push((p as Record<string, unknown>)[seg.name]);
        } else if (seg.t === 'wild') next.push(...children(p));
        else if (seg.t === 'index') {
          if (Array.isArray(p)) {
            const x = p[seg.i < 0 ? p.length + seg.i : seg.i];
            if (x !== undefined) next.push(x);
          }
        } else if (seg.t === 'filter') {
          for (const el of Array.isArray(p) ? p : [p]) {
            const got = evalPath(el, seg.path);
            const keep = seg.op === 'exists' ? got.length > 0 : seg.op === '==' ? got.some((g) => g === seg.value) : got.every((g) => g !== seg.value);
            if (keep) next.push(el);
          }
        }
      }
    }
    cur = next;
  }
  return cur;
}

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

type Node = { t: 'text'; s: string } | { t: 'expr'; path: Seg[] } | { t: 'range'; path: Seg[]; body: Node[] };

function unescape(s: string): string {
  return s.replace(/\\(.)/g, (_m, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

function parseTemplate(tpl: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  const ranges: { path: Seg[]; body: Node[] }[] = [];
  let i = 0;
  while (i < tpl.length) {
    const open = tpl.indexOf('{', i);
    if (open < 0) {
      stack[stack.length - 1]!.push({ t: 'text', s: tpl.slice(i) });
      break;
    }
    if (open > i) stack[stack.length - 1]!.push({ t: 'text', s: tpl.slice(i, open) });
    let close = open + 1;
    let quote: string | undefined;
    for (; close < tpl.length; close++) {
      const c = tpl[close]!;
      if (quote) {
        if (c === '\\') close++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '}') break;
    }
    if (close >= tpl.length) throw new JsonPathError(`unclosed action in template ${tpl}`);
    const inner = tpl.slice(open + 1, close).trim();
    i = close + 1;
    if (inner.startsWith('range ')) {
      const r = { path: parsePath(inner.slice(6)), body: [] as Node[] };
      stack[stack.length - 1]!.push({ t: 'range', ...r });
      ranges.push(r);
      stack.push(r.body);
    } else if (inner === 'end') {
      if (stack.length < 2) throw new JsonPathError('not in range, nothing to end');
      stack.pop();
      ranges.pop();
    } else if (/^".*"$/s.test(inner) || /^'.*'$/s.test(inner)) stack[stack.length - 1]!.push({ t: 'text', s: unescape(inner.slice(1, -1)) });
    else stack[stack.length - 1]!.push({ t: 'expr', path: parsePath(inner) });
  }
  return root;
}

function render(nodes: Node[], data: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.s;
    else if (n.t === 'expr') out += evalPath(data, n.path).map(show).join(' ');
    else for (const el of evalPath(data, n.path)) out += render(n.body, el);
  }
  return out;
}

/** Render a kubectl -o jsonpath template (the part inside quotes) against data. */
export function jsonpath(template: string, data: unknown): string {
  let tpl = template;
  if (!tpl.includes('{')) tpl = `{${tpl}}`;
  return render(parseTemplate(tpl), data);
}

// The filters and tests an Ansible inventory or vars file uses, with Jinja2/Ansible's
// behaviour where nunjucks' built-in of the same name differs (int of "abc" is 0, join and
// string write Python's True/None, to_json spaces its separators like Python's json.dumps).
// Anything not listed here (and not a nunjucks built-in Ansible shares) is an unknown filter:
// jinja-env.ts refuses it before rendering anything.
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { pyRepr, pyStr, pyTruthy } from './jinja-python.ts';

/** nunjucks passes keyword arguments as a last object marked __keywords. */
type Kw = Record<string, unknown> & { __keywords?: true };
export type FilterFn = (value: unknown, ...args: unknown[]) => unknown;
export type TestFn = (value: unknown, ...args: unknown[]) => boolean;

/** A filter's positional and keyword arguments, by Python parameter names. */
function args(raw: unknown[], names: string[]): Record<string, unknown> {
  const last = raw.at(-1) as Kw | undefined;
  const kw = last && typeof last === 'object' && last.__keywords ? (raw.pop() as Kw) : {};
  const out: Record<string, unknown> = {};
  names.forEach((n, i) => {
    if (i < raw.length) out[n] = raw[i];
  });
  for (const [k, v] of Object.entries(kw)) if (k !== '__keywords') out[k] = v;
  return out;
}

export class FilterError extends Error {}

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function toList(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isMapping(v)) return Object.keys(v);
  if (v === undefined || v === null) return [];
  throw new FilterError(`${pyStr(v)} is not a list`);
}

/** Python's int(): "42" -> 42, "3.7" -> 3 (via float, as Jinja's int filter), else the default. */
function toInt(v: unknown, dflt: unknown = 0, base = 10): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : dflt;
  if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    if (base === 10 && /^[-+]?\d+$/.test(s)) return Number(s);
    if (base !== 10) {
      const body = s.replace(/^[-+]?(0[xob])?/i, '');
      const n = parseInt(body, base);
      if (!Number.isNaN(n) && /^[0-9a-z]+$/i.test(body)) return s.startsWith('-') ? -n : n;
      return dflt;
    }
    const f = Number(s);
    return s !== '' && Number.isFinite(f) ? Math.trunc(f) : dflt;
  }
  return dflt;
}

function toFloat(v: unknown, dflt: unknown = 0): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v.trim()))) return Number(v.trim());
  return dflt;
}

/** Ansible's bool filter. */
export function ansibleBool(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return false;
  const s = typeof v === 'string' ? v.trim().toLowerCase() : v;
  return s === 'yes' || s === 'on' || s === '1' || s === 'true' || s === 1;
}

/** json.dumps with Python's default separators (", " and ": "), or indented. */
export function pyJson(v: unknown, indent?: number, sortKeys = false, level = 0): string {
  if (v === undefined) return 'null';
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    if (indent === undefined) return '[' + v.map((x) => pyJson(x, indent, sortKeys)).join(', ') + ']';
    const pad = ' '.repeat(indent * (level + 1));
    return '[\n' + v.map((x) => pad + pyJson(x, indent, sortKeys, level + 1)).join(',\n') + '\n' + ' '.repeat(indent * level) + ']';
  }
  if (isMapping(v)) {
    const keys = Object.keys(v);
    if (sortKeys) keys.sort();
    if (!keys.length) return '{}';
    const item = (k: string, l: number) => JSON.stringify(k) + ': ' + pyJson(v[k], indent, sortKeys, l);
    if (indent === undefined) return '{' + keys.map((k) => item(k, 0)).join(', ') + '}';
    const pad = ' '.repeat(indent * (level + 1));
    return '{\n' + keys.map((k) => pad + item(k, level + 1)).join(',\n') + '\n' + ' '.repeat(indent * level) + '}';
  }
  // Python's json.dumps escapes non-ASCII by default (ensure_ascii).
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** A Python `re` pattern as a JS RegExp: (?P<n>..) groups, inline (?i), \A and \Z. */
export function pyRegExp(pattern: string, flags = ''): RegExp {
  let src = pattern.replace(/\(\?P<(\w+)>/g, '(?<$1>').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  src = src.replace(/\\A/g, '^').replace(/\\Z/g, '$');
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    for (const f of inline[1]!) if ('ims'.includes(f) && !flags.includes(f)) flags += f;
  }
  try {
    return new RegExp(src, flags);
  } catch (e) {
    throw new FilterError(`invalid regular expression ${pyRepr(pattern)}: ${(e as Error).message}`);
  }
}

/** Python's replacement syntax (\1, \g<1>, \g<name>) in JS's ($1, $<name>). */
function pyReplacement(r: string): string {
  return r.replace(/\$/g, '$$$$').replace(/\\g<(\d+)>|\\g<(\w+)>|\\(\d+)|\\(.)/g, (_m, gNum, gName, num, ch) => {
    if (gNum !== undefined) return `$${gNum}`;
    if (gName !== undefined) return `$<${gName}>`;
    if (num !== undefined) return `$${num}`;
    return ch === 'n' ? '\n' : ch === 't' ? '\t' : ch === '\\' ? '\\' : '\\' + ch;
  });
}

function reFlags(a: Record<string, unknown>, global: boolean): string {
  return (global ? 'g' : '') + (a.ignorecase ? 'i' : '') + (a.multiline ? 'm' : '');
}

/** shlex.quote, as Ansible's quote filter. */
export function shlexQuote(s: string): string {
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return "'" + s.replace(/'/g, `'"'"'`) + "'";
}

/** Ansible's merge_hash: list_merge applies to lists met at any merged key. */
function combine(...raw: unknown[]): unknown {
  const a = args(raw, []);
  const recursive = Boolean(a.recursive);
  const listMerge = String(a.list_merge ?? 'replace');
  const mergeHash = (x: Record<string, unknown>, y: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...x };
    for (const [k, v] of Object.entries(y)) {
      const old = out[k];
      if (recursive && isMapping(old) && isMapping(v)) out[k] = mergeHash(old, v);
      else if (Array.isArray(old) && Array.isArray(v) && listMerge !== 'replace') {
        out[k] = listMerge === 'append' ? [...old, ...v] : listMerge === 'prepend' ? [...v, ...old] : listMerge === 'keep' ? old : [...old, ...v];
      } else out[k] = v;
    }
    return out;
  };
  let out: Record<string, unknown> = {};
  for (const d of raw.flat()) {
    if (!isMapping(d)) throw new FilterError(`combine expects mappings, got ${pyStr(d)}`);
    out = mergeHash(out, d);
  }
  return out;
}

function flatten(v: unknown, levels?: number, skipNulls = true): unknown[] {
  const out: unknown[] = [];
  for (const x of toList(v)) {
    if (Array.isArray(x) && (levels === undefined || levels > 0)) out.push(...flatten(x, levels === undefined ? undefined : levels - 1, skipNulls));
    else if (!(skipNulls && (x === null || x === undefined))) out.push(x);
  }
  return out;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function unique(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const x of list) if (!out.some((y) => same(x, y))) out.push(x);
  return out;
}

function attrOf(item: unknown, attribute: string): unknown {
  let cur: unknown = item;
  for (const part of attribute.split('.')) {
    if (cur === null || cur === undefined) return undefined;
    cur = Array.isArray(cur) && /^\d+$/.test(part) ? cur[Number(part)] : (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** LooseVersion-like comparison: numbers numerically, words as text. */
export function compareVersions(a: string, b: string): number {
  const parts = (s: string) => s.split(/(\d+)|[._+-]/).filter((p) => p !== undefined && p !== '');
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) {
      const d = Number(x) - Number(y);
      if (d) return Math.sign(d);
    } else if (x !== y) return nx ? 1 : ny ? -1 : x < y ? -1 : 1;
  }
  return 0;
}

const VERSION_OPS: Record<string, (c: number) => boolean> = {
  '<': (c) => c < 0, lt: (c) => c < 0,
  '<=': (c) => c <= 0, le: (c) => c <= 0,
  '>': (c) => c > 0, gt: (c) => c > 0,
  '>=': (c) => c >= 0, ge: (c) => c >= 0,
  '==': (c) => c === 0, '=': (c) => c === 0, eq: (c) => c === 0,
  '!=': (c) => c !== 0, '<>': (c) => c !== 0, ne: (c) => c !== 0,
};

function versionTest(value: unknown, ...raw: unknown[]): boolean {
  const a = args(raw, ['version', 'operator', 'strict']);
  const op = String(a.operator ?? 'eq');
  const cmp = VERSION_OPS[op];
  if (!cmp) throw new FilterError(`version test: unknown operator ${pyRepr(op)}`);
  return cmp(compareVersions(pyStr(value), pyStr(a.version)));
}

function hashOf(algo: string, v: unknown): string {
  const names: Record<string, string> = { md5: 'md5', sha1: 'sha1', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };
  const a = names[algo];
  if (!a) throw new FilterError(`hash: unsupported algorithm ${pyRepr(algo)}`);
  return createHash(a).update(pyStr(v)).digest('hex');
}

/**
 * Filters by name. `applyFilter` lets map()/select() call other filters and tests by name.
 */
export function ansibleFilters(applyFilter: (name: string, value: unknown, args: unknown[]) => unknown, applyTest: (name: string, value: unknown, args: unknown[]) => boolean): Record<string, FilterFn> {
  const f: Record<string, FilterFn> = {
    default: (v, ...raw) => {
      const a = args(raw, ['default_value', 'boolean']);
      const dflt = 'default_value' in a ? a.default_value : '';
      return v === undefined || (a.boolean && !pyTruthy(v)) ? dflt : v;
    },
    int: (v, ...raw) => {
      const a = args(raw, ['default', 'base']);
      return toInt(v, a.default ?? 0, Number(a.base ?? 10));
    },
    float: (v, ...raw) => toFloat(v, args(raw, ['default']).default ?? 0),
    string: (v) => pyStr(v),
    bool: (v) => ansibleBool(v),
    lower: (v) => pyStr(v).toLowerCase(),
    upper: (v) => pyStr(v).toUpperCase(),
    join: (v, ...raw) => {
      const a = args(raw, ['d', 'attribute']);
      const items = toList(v).map((x) => (a.attribute !== undefined ? attrOf(x, String(a.attribute)) : x));
      return items.map(pyStr).join(pyStr(a.d ?? ''));
    },
    length: (v) => (typeof v === 'string' || Array.isArray(v) ? v.length : isMapping(v) ? Object.keys(v).length : 0),
    unique: (v) => unique(toList(v)),
    min: (v, ...raw) => {
      const a = args(raw, ['case_sensitive', 'attribute']);
      const xs = toList(v).map((x) => (a.attribute ? attrOf(x, String(a.attribute)) : x)) as never[];
      return xs.length ? xs.reduce((m, x) => (x < m ? x : m)) : undefined;
    },
    max: (v, ...raw) => {
      const a = args(raw, ['case_sensitive', 'attribute']);
      const xs = toList(v).map((x) => (a.attribute ? attrOf(x, String(a.attribute)) : x)) as never[];
      return xs.length ? xs.reduce((m, x) => (x > m ? x : m)) : undefined;
    },
    items: (v) => (isMapping(v) ? Object.entries(v) : []),
    map: (v, ...raw) => {
      const list = toList(v);
      const last = raw.at(-1) as Kw | undefined;
      if (last && typeof last === 'object' && last.__keywords && 'attribute' in last) {
        return list.map((x) => {
          const got = attrOf(x, String(last.attribute));
          return got === undefined && 'default' in last ? last.default : got;
        });
      }
      const [name, ...rest] = raw;
      if (typeof name !== 'string') throw new FilterError('map needs a filter name or attribute=');
      return list.map((x) => applyFilter(name, x, [...rest]));
    },
    select: (v, ...raw) => {
      const [test, ...rest] = raw;
      return toList(v).filter((x) => (test === undefined ? pyTruthy(x) : applyTest(String(test), x, [...rest])));
    },
    reject: (v, ...raw) => {
      const [test, ...rest] = raw;
      return toList(v).filter((x) => !(test === undefined ? pyTruthy(x) : applyTest(String(test), x, [...rest])));
    },
    selectattr: (v, ...raw) => {
      const [attr, test, ...rest] = raw;
      return toList(v).filter((x) => {
        const got = attrOf(x, String(attr));
        return test === undefined ? pyTruthy(got) : applyTest(String(test), got, [...rest]);
      });
    },
    rejectattr: (v, ...raw) => {
      const [attr, test, ...rest] = raw;
      return toList(v).filter((x) => {
        const got = attrOf(x, String(attr));
        return !(test === undefined ? pyTruthy(got) : applyTest(String(test), got, [...rest]));
      });
    },
    extract: (item, ...raw) => {
      const a = args(raw, ['container', 'morekeys']);
      let out = (a.container as Record<string, unknown> | undefined)?.[String(item)];
      const more = a.morekeys === undefined ? [] : Array.isArray(a.morekeys) ? a.morekeys : [a.morekeys];
      for (const k of more) out = (out as Record<string, unknown> | undefined)?.[String(k)];
      return out;
    },
    to_json: (v) => pyJson(v),
    to_nice_json: (v, ...raw) => pyJson(v, Number(args(raw, ['indent']).indent ?? 4), true),
    tojson: (v, ...raw) => {
      const indent = args(raw, ['indent']).indent;
      return pyJson(v, indent === undefined || indent === null ? undefined : Number(indent), true)
        .replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/'/g, '\\u0027');
    },
    from_json: (v) => {
      try {
        return JSON.parse(pyStr(v)) as unknown;
      } catch (e) {
        throw new FilterError(`from_json: ${(e as Error).message}`);
      }
    },
    to_yaml: (v) => toYaml(v, { indent: 2 }),
    to_nice_yaml: (v, ...raw) => toYaml(v, { indent: Number(args(raw, ['indent']).indent ?? 4) }),
    from_yaml: (v) => parseYaml(pyStr(v), { version: '1.1' }) as unknown,
    ternary: (v, ...raw) => {
      const a = args(raw, ['true_val', 'false_val', 'none_val']);
      if (v === null && a.none_val !== undefined) return a.none_val;
      return pyTruthy(v) ? a.true_val : a.false_val;
    },
    regex_replace: (v, ...raw) => {
      const a = args(raw, ['pattern', 'replacement', 'ignorecase', 'multiline', 'count']);
      const re = pyRegExp(pyStr(a.pattern ?? ''), reFlags(a, true));
      const rep = pyReplacement(pyStr(a.replacement ?? ''));
      const count = Number(a.count ?? 0);
      if (!count) return pyStr(v).replace(re, rep);
      let n = 0;
      return pyStr(v).replace(re, (...m) => (n++ < count ? m[0].replace(pyRegExp(pyStr(a.pattern ?? ''), reFlags(a, false)), rep) : m[0]));
    },
    regex_search: (v, ...raw) => {
      const last = raw.at(-1) as Kw | undefined;
      const kw = last && typeof last === 'object' && last.__keywords ? (raw.pop() as Kw) : {};
      const [pattern, ...groups] = raw;
      const m = pyRegExp(pyStr(pattern), reFlags(kw, false)).exec(pyStr(v));
      if (!m) return null;
      if (!groups.length) return m[0];
      return groups.map((g) => {
        const s = pyStr(g);
        const num = /^\\(\d+)$/.exec(s);
        const named = /^\\g<(\w+)>$/.exec(s);
        return num ? m[Number(num[1])] : named ? m.groups?.[named[1]!] : undefined;
      });
    },
    regex_findall: (v, ...raw) => {
      const a = args(raw, ['regex', 'multiline', 'ignorecase']);
      const re = pyRegExp(pyStr(a.regex), reFlags(a, true));
      return [...pyStr(v).matchAll(re)].map((m) => (m.length > 2 ? m.slice(1) : m.length === 2 ? m[1] : m[0]));
    },
    regex_escape: (v) => pyStr(v).replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'),
    b64encode: (v) => Buffer.from(pyStr(v), 'utf8').toString('base64'),
    b64decode: (v) => Buffer.from(pyStr(v), 'base64').toString('utf8'),
    basename: (v) => posix.basename(pyStr(v)),
    dirname: (v) => posix.dirname(pyStr(v)),
    splitext: (v) => {
      const s = pyStr(v);
      const ext = posix.extname(s);
      return [s.slice(0, s.length - ext.length), ext];
    },
    quote: (v) => shlexQuote(pyStr(v)),
    combine: (v, ...raw) => combine(v, ...raw),
    dict2items: (v, ...raw) => {
      const a = args(raw, ['key_name', 'value_name']);
      if (!isMapping(v)) throw new FilterError('dict2items requires a mapping');
      return Object.entries(v).map(([k, x]) => ({ [String(a.key_name ?? 'key')]: k, [String(a.value_name ?? 'value')]: x }));
    },
    items2dict: (v, ...raw) => {
      const a = args(raw, ['key_name', 'value_name']);
      const out: Record<string, unknown> = {};
      for (const it of toList(v)) out[pyStr(attrOf(it, String(a.key_name ?? 'key')))] = attrOf(it, String(a.value_name ?? 'value'));
      return out;
    },
    flatten: (v, ...raw) => {
      const a = args(raw, ['levels', 'skip_nulls']);
      return flatten(v, a.levels === undefined || a.levels === null ? undefined : Number(a.levels), a.skip_nulls === undefined ? true : Boolean(a.skip_nulls));
    },
    union: (v, other) => unique([...toList(v), ...toList(other)]),
    intersect: (v, other) => unique(toList(v).filter((x) => toList(other).some((y) => same(x, y)))),
    difference: (v, other) => unique(toList(v).filter((x) => !toList(other).some((y) => same(x, y)))),
    symmetric_difference: (v, other) => {
      const a = toList(v);
      const b = toList(other);
      return unique([...a.filter((x) => !b.some((y) => same(x, y))), ...b.filter((x) => !a.some((y) => same(x, y)))]);
    },
    zip: (v, ...others) => {
      const lists = [toList(v), ...others.map(toList)];
      const n = Math.min(...lists.map((l) => l.length));
      return Array.from({ length: n }, (_, i) => lists.map((l) => l[i]));
    },
    split: (v, ...raw) => {
      const a = args(raw, ['sep', 'maxsplit']);
      const s = pyStr(v);
      if (a.sep === undefined || a.sep === null) return s.trim() ? s.trim().split(/\s+/) : [];
      return s.split(pyStr(a.sep));
    },
    mandatory: (v, ...raw) => {
      if (v === undefined) throw new FilterError(String(args(raw, ['msg']).msg ?? 'Mandatory variable not defined.'));
      return v;
    },
    type_debug: (v) =>
      v === null || v === undefined ? 'NoneType' : typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : typeof v === 'string' ? 'str' : Array.isArray(v) ? 'list' : 'dict',
    hash: (v, algo) => hashOf(pyStr(algo ?? 'sha1'), v),
    checksum: (v) => hashOf('sha1', v),
    md5: (v) => hashOf('md5', v),
    sha1: (v) => hashOf('sha1', v),
    version_compare: (v, ...raw) => versionTest(v, ...raw),
  };
  f.d = f.default!;
  f.count = f.length!;
  return f;
}

export function ansibleTests(): Record<string, TestFn> {
  const t: Record<string, TestFn> = {
    none: (v) => v === null,
    boolean: (v) => typeof v === 'boolean',
    true: (v) => v === true,
    false: (v) => v === false,
    integer: (v) => typeof v === 'number' && Number.isInteger(v),
    float: (v) => typeof v === 'number' && !Number.isInteger(v),
    sequence: (v) => Array.isArray(v) || typeof v === 'string' || isMapping(v),
    in: (v, seq) => (typeof seq === 'string' ? seq.includes(pyStr(v)) : toList(seq).some((x) => same(x, v))),
    contains: (seq, v) => toList(seq).some((x) => same(x, v)),
    match: (v, ...raw) => {
      const a = args(raw, ['pattern', 'ignorecase', 'multiline']);
      const m = pyRegExp(pyStr(a.pattern), reFlags(a, false)).exec(pyStr(v));
      return m !== null && m.index === 0;
    },
    search: (v, ...raw) => {
      const a = args(raw, ['pattern', 'ignorecase', 'multiline']);
      return pyRegExp(pyStr(a.pattern), reFlags(a, false)).test(pyStr(v));
    },
    regex: (v, ...raw) => {
      const a = args(raw, ['pattern', 'ignorecase', 'multiline', 'match_type']);
      const m = pyRegExp(pyStr(a.pattern), reFlags(a, false)).exec(pyStr(v));
      return a.match_type === 'match' ? m !== null && m.index === 0 : m !== null;
    },
    version: versionTest,
    version_compare: versionTest,
    subset: (v, other) => toList(v).every((x) => toList(other).some((y) => same(x, y))),
    superset: (v, other) => toList(other).every((x) => toList(v).some((y) => same(x, y))),
  };
  return t;
}

/** Ansible's own filters and tests are also reachable by their ansible.builtin.* names. */
export const FQCN_PREFIX = 'ansible.builtin.';

/** Python str methods Ansible users call on strings ('a,b'.split(','), x.startswith('k3s')). */
export const STRING_METHODS: Record<string, (s: string, ...a: unknown[]) => unknown> = {
  startswith: (s, p) => (Array.isArray(p) ? p.some((x) => s.startsWith(pyStr(x))) : s.startsWith(pyStr(p))),
  endswith: (s, p) => (Array.isArray(p) ? p.some((x) => s.endsWith(pyStr(x))) : s.endsWith(pyStr(p))),
  split: (s, sep, max) => {
    if (sep === undefined || sep === null) return s.trim() ? s.trim().split(/\s+/) : [];
    const parts = s.split(pyStr(sep));
    const m = max === undefined ? -1 : Number(max);
    return m >= 0 && parts.length > m + 1 ? [...parts.slice(0, m), parts.slice(m).join(pyStr(sep))] : parts;
  },
  strip: (s, chars) => (chars === undefined ? s.trim() : stripChars(s, pyStr(chars), true, true)),
  lstrip: (s, chars) => (chars === undefined ? s.trimStart() : stripChars(s, pyStr(chars), true, false)),
  rstrip: (s, chars) => (chars === undefined ? s.trimEnd() : stripChars(s, pyStr(chars), false, true)),
  lower: (s) => s.toLowerCase(),
  upper: (s) => s.toUpperCase(),
  replace: (s, a, b) => s.split(pyStr(a)).join(pyStr(b)),
  join: (s, list) => toList(list).map(pyStr).join(s),
  splitlines: (s) => s.split(/\r?\n/).filter((_, i, all) => i < all.length - 1 || all[i] !== ''),
  capitalize: (s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(),
  title: (s) => s.replace(/\w\S*/g, (w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()),
  find: (s, sub) => s.indexOf(pyStr(sub)),
  count: (s, sub) => s.split(pyStr(sub)).length - 1,
  isdigit: (s) => /^\d+$/.test(s),
  format: (s, ...a) => {
    let i = 0;
    return s.replace(/\{(\d*)\}/g, (_m, n: string) => pyStr(a[n === '' ? i++ : Number(n)]));
  },
};

function stripChars(s: string, chars: string, left: boolean, right: boolean): string {
  let a = 0;
  let b = s.length;
  while (left && a < b && chars.includes(s[a]!)) a++;
  while (right && b > a && chars.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

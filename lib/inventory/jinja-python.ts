// How Jinja (Python) turns values into text, so `--flag={{ enabled }}` gives "--flag=True"
// and `{{ groups['web'] }}` inside a string gives "['web1', 'web2']", as in Ansible, rather
// than JavaScript's "true" and "web1,web2".

/** Python's repr() of a string: single quotes unless the text has ' and no ". */
export function pyReprString(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const c of s) {
    if (c === '\\') out += '\\\\';
    else if (c === q) out += '\\' + c;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else out += c;
  }
  return q + out + q;
}

export function pyRepr(v: unknown): string {
  if (typeof v === 'string') return pyReprString(v);
  if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
  if (v !== null && typeof v === 'object') {
    return '{' + Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyReprString(k)}: ${pyRepr(x)}`).join(', ') + '}';
  }
  return pyStr(v);
}

/** Python's str(). */
export function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'inf' : v < 0 ? '-inf' : 'nan';
  if (Array.isArray(v) || typeof v === 'object') return pyRepr(v);
  return String(v);
}

/** Python truthiness: empty lists and mappings are false too. */
export function pyTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

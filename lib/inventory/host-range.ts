// Host entries as Ansible reads them: an optional port (`host:2222`, `[::1]:2222`) and
// numeric or alphabetic ranges (`web[01:03]`, `db-[a:c]`, `node[0:10:2]`).

export interface HostEntry {
  names: string[];
  port?: number;
}

/** Refuse absurd ranges rather than allocate millions of hosts from a typo. */
const MAX_EXPANSION = 10_000;

export function parseHostEntry(entry: string): HostEntry {
  const { host, port } = splitPort(entry);
  const names = expandRanges(host);
  return port === undefined ? { names } : { names, port };
}

function splitPort(entry: string): { host: string; port?: number } {
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(entry);
  if (v6) return { host: v6[1]!, port: toPort(v6[2]!) };
  // Colons outside brackets: one means host:port; more is a bare IPv6 address.
  const outside: number[] = [];
  let depth = 0;
  for (let i = 0; i < entry.length; i++) {
    const c = entry[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === ':' && depth === 0) outside.push(i);
  }
  if (outside.length === 1) {
    const at = outside[0]!;
    const p = entry.slice(at + 1);
    if (!/^\d+$/.test(p)) throw new Error(`"${p}" after ":" is not a port number`);
    return { host: entry.slice(0, at), port: toPort(p) };
  }
  return { host: entry };
}

function toPort(p: string): number {
  const n = Number(p);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`port ${p} is not from 1 to 65535`);
  return n;
}

function expandRanges(host: string): string[] {
  const m = /^(.*?)\[([^\]]*:[^\]]*)\](.*)$/.exec(host);
  if (!m) return [host];
  const [, head, body, tail] = m as unknown as [string, string, string, string];
  const parts = body.split(':');
  if (parts.length > 3) throw new Error(`range [${body}] is not [start:end] or [start:end:step]`);
  const [beg = '', end = '', stepText] = parts;
  const step = stepText === undefined || stepText === '' ? 1 : Number(stepText);
  if (!Number.isInteger(step) || step < 1) throw new Error(`range step "${stepText}" must be a positive integer`);
  let items: string[];
  if (/^\d*$/.test(beg) && /^\d+$/.test(end)) {
    const b = beg === '' ? 0 : Number(beg);
    const e = Number(end);
    if (b > e) throw new Error(`range [${body}] starts after it ends`);
    if ((e - b) / step >= MAX_EXPANSION) throw new Error(`range [${body}] has more than ${MAX_EXPANSION} hosts`);
    // A leading zero asks for fixed-width numbers, as in Ansible.
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    if (width && end.length !== width) throw new Error(`range [${body}] must give start and end with the same width`);
    items = [];
    for (let i = b; i <= e; i += step) items.push(String(i).padStart(width, '0'));
  } else if (/^[a-zA-Z]$/.test(beg) && /^[a-zA-Z]$/.test(end)) {
    const b = beg.charCodeAt(0);
    const e = end.charCodeAt(0);
    if (b > e) throw new Error(`range [${body}] starts after it ends`);
    items = [];
    for (let i = b; i <= e; i += step) items.push(String.fromCharCode(i));
  } else {
    throw new Error(`range [${body}] must be numbers ([01:10]) or single letters ([a:f])`);
  }
  const rest = expandRanges(tail);
  const out: string[] = [];
  for (const it of items) for (const r of rest) out.push(head + it + r);
  return out;
}

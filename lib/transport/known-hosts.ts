// OpenSSH known_hosts parsing and matching: plain and hashed (|1|salt|hash) host fields,
// comma lists with wildcards and negation, [host]:port for non-22 ports, @revoked and
// @cert-authority markers. Pure functions: reading/appending files is done by host-key.ts.
import { createHash, createHmac, randomBytes } from 'node:crypto';

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in file. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The raw host field: a comma list of patterns, or one |1|salt|hash. */
  hosts: string;
  keyType: string;
  /** Base64 key blob, as written in the file. */
  key: string;
}

export type HostKeyCheck =
  | { status: 'match'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry }
  /** The host is known, but with other keys: never accept (possible MITM). */
  | { status: 'mismatch'; known: KnownHostEntry[] }
  | { status: 'unknown' };

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostId(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue; // unknown marker: ignore the line, as OpenSSH does
    }
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key) continue;
    out.push({ file, line: i + 1, ...(marker ? { marker } : {}), hosts, keyType, key });
  }
  return out;
}

/** OpenSSH-style glob (only * and ?), case-insensitive. */
function globMatch(pattern: string, value: string): boolean {
  // Most entries are plain names: compare them without building a RegExp (this runs for
  // every line of known_hosts on every connection).
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern.toLowerCase() === value;
  const re = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}

export function hashedHostMatches(field: string, hostId: string): boolean {
  const parts = field.split('|');
  // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2]!, 'base64');
  const want = parts[3]!;
  const got = createHmac('sha1', salt).update(hostId).digest('base64');
  return got === want;
}

/** Does the entry's host field name hostId (`host` or `[host]:port`)? */
export function hostFieldMatches(field: string, hostId: string): boolean {
  if (field.startsWith('|')) return hashedHostMatches(field, hostId);
  const id = hostId.toLowerCase();
  let positive = false;
  for (const p of field.split(',')) {
    if (!p) continue;
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), id)) return false; // a negated match wins over everything
    } else if (globMatch(p, id)) positive = true;
  }
  return positive;
}

/** Key types recorded for this host (to prefer them in the handshake, as OpenSSH does). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const id = knownHostId(host, port);
  const types: string[] = [];
  for (const e of entries) {
    if (e.marker) continue;
    if (hostFieldMatches(e.hosts, id) && !types.includes(e.keyType)) types.push(e.keyType);
  }
  return types;
}

/**
 * Check a presented key. @revoked applies to the key whatever the host field says (safer
 * than OpenSSH's host-scoped reading); @cert-authority lines are ignored (no certificates).
 */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  keyType: string,
  keyBase64: string,
): HostKeyCheck {
  for (const e of entries) {
    if (e.marker === 'revoked' && e.key === keyBase64) return { status: 'revoked', entry: e };
  }
  const id = knownHostId(host, port);
  const known: KnownHostEntry[] = [];
  for (const e of entries) {
    if (e.marker) continue;
    if (!hostFieldMatches(e.hosts, id)) continue;
    if (e.keyType === keyType && e.key === keyBase64) return { status: 'match', entry: e };
    known.push(e);
  }
  return known.length ? { status: 'mismatch', known } : { status: 'unknown' };
}

/** Split an SSH wire-format public key blob into its type and base64 form. */
export function parseKeyBlob(blob: Buffer): { type: string; base64: string } {
  if (blob.length < 4) throw new Error('host key blob too short');
  const len = blob.readUInt32BE(0);
  if (len <= 0 || 4 + len > blob.length) throw new Error('malformed host key blob');
  return { type: blob.subarray(4, 4 + len).toString('latin1'), base64: blob.toString('base64') };
}

/** `SHA256:...` as ssh-keygen -l prints it. */
export function fingerprint(keyBase64: string): string {
  const d = createHash('sha256').update(Buffer.from(keyBase64, 'base64')).digest('base64');
  return `SHA256:${d.replace(/=+$/, '')}`;
}

/** `|1|salt|hash` for a host id (HashKnownHosts form). */
export function hashHostId(hostId: string, salt: Buffer = randomBytes(20)): string {
  const h = createHmac('sha1', salt).update(hostId).digest('base64');
  return `|1|${salt.toString('base64')}|${h}`;
}

export function formatKnownHostsLine(
  host: string,
  port: number,
  keyType: string,
  keyBase64: string,
  options: { hash?: boolean } = {},
): string {
  const id = knownHostId(host, port);
  return `${options.hash ? hashHostId(id) : id} ${keyType} ${keyBase64}`;
}

// Host key policy for one SSH hop: verify the offered key against known_hosts files,
// record a new key only when the user opted in, and refuse loudly on a mismatch.
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { HostKeyError } from '../errors.ts';
import {
  checkHostKey,
  fingerprint,
  formatKnownHostsLine,
  knownHostId,
  knownKeyTypes,
  parseKeyBlob,
  parseKnownHosts,
  type KnownHostEntry,
} from './known-hosts.ts';

export interface HostKeyPolicy {
  /** known_hosts files; the first one receives new keys. */
  files: readonly string[];
  acceptNew: boolean;
}

export function defaultKnownHostsFiles(files: readonly string[]): string[] {
  return files.length ? [...files] : [`${homedir()}/.ssh/known_hosts`];
}

/**
 * Parsed files, reused while the file is unchanged: every connection reads known_hosts twice,
 * and with one line per host a fleet of N hosts would parse N lines 2N times.
 */
const parsed = new Map<string, { stamp: string; entries: KnownHostEntry[] }>();

export function loadKnownHosts(files: readonly string[]): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const f of files) {
    let stamp: string;
    try {
      const st = statSync(f);
      stamp = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch {
      parsed.delete(f);
      continue; // a missing file is simply empty, as for OpenSSH
    }
    let hit = parsed.get(f);
    if (hit?.stamp !== stamp) {
      let text: string;
      try {
        text = readFileSync(f, 'utf8');
      } catch {
        continue;
      }
      hit = { stamp, entries: parseKnownHosts(text, f) };
      parsed.set(f, hit);
    }
    out.push(...hit.entries);
  }
  return out;
}

// ssh2 negotiates algorithm names; known_hosts stores key types. RSA keys are offered
// with SHA-2 signatures first.
const ALGOS_FOR_TYPE: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
const DEFAULT_HOST_KEY_ALGOS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * Host key algorithms in preference order: the types known for this host first, so a
 * server with several keys shows the one we can check (what OpenSSH does too).
 */
export function preferredHostKeyAlgorithms(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const first: string[] = [];
  for (const t of knownKeyTypes(entries, host, port)) {
    for (const a of ALGOS_FOR_TYPE[t] ?? [t]) if (DEFAULT_HOST_KEY_ALGOS.includes(a) && !first.includes(a)) first.push(a);
  }
  return [...first, ...DEFAULT_HOST_KEY_ALGOS.filter((a) => !first.includes(a))];
}

export type HostKeyDecision = { ok: true; recorded?: string } | { ok: false; error: HostKeyError };

/**
 * Decide about one presented key. `name` is the inventory name used in messages;
 * host/port are what we connected to (the known_hosts lookup key).
 */
export function decideHostKey(
  name: string,
  host: string,
  port: number,
  keyBlob: Buffer,
  policy: HostKeyPolicy,
): HostKeyDecision {
  const files = policy.files;
  const id = knownHostId(host, port);
  let key: { type: string; base64: string };
  try {
    key = parseKeyBlob(keyBlob);
  } catch (e) {
    return { ok: false, error: new HostKeyError(name, `unreadable host key from ${id}: ${(e as Error).message}`) };
  }
  const fp = fingerprint(key.base64);
  const res = checkHostKey(loadKnownHosts(files), host, port, key.type, key.base64);
  switch (res.status) {
    case 'match':
      return { ok: true };
    case 'revoked':
      return {
        ok: false,
        error: new HostKeyError(
          name,
          `host key of ${id} (${key.type} ${fp}) is marked @revoked in ${res.entry.file}:${res.entry.line}; refusing to connect.`,
        ),
      };
    case 'mismatch': {
      // OpenSSH's wording and fix, so what people search for and paste works.
      const offending = res.known.map((e) => `${keyTypeLabel(e.keyType)} key ${fingerprint(e.key)} in ${e.file}:${e.line}`).join('; ');
      const first = res.known[0]!;
      return {
        ok: false,
        error: new HostKeyError(
          name,
          `WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for ${id}! Someone could be eavesdropping ` +
            `on you right now (man-in-the-middle attack), or the host key has just been changed. ` +
            `The fingerprint for the ${keyTypeLabel(key.type)} key sent by the remote host is ${fp}. ` +
            `Offending ${offending}. Refusing to connect (never overridden by --accept-new-host-keys). ` +
            `If the change is expected, remove the old entry with: ssh-keygen -f "${first.file}" -R "${id}" ` +
            `and connect again with --accept-new-host-keys (or add the new key yourself).`,
        ),
      };
    }
    case 'unknown': {
      if (!policy.acceptNew) {
        return {
          ok: false,
          error: new HostKeyError(
            name,
            `host key of ${id} is unknown: the fingerprint for the ${keyTypeLabel(key.type)} key sent by the remote host is ${fp}; ` +
              `not found in ${files.join(', ')}. Check the fingerprint and add it (ssh-keyscan -p ${port} ${host} >> ${files[0]}), ` +
              `or trust it on first use with --accept-new-host-keys (acceptNewHostKeys; records the key, never overrides a changed one).`,
          ),
        };
      }
      const file = files[0]!;
      try {
        recordHostKey(file, formatKnownHostsLine(host, port, key.type, key.base64));
      } catch (e) {
        return { ok: false, error: new HostKeyError(name, `cannot record host key of ${id} in ${file}: ${(e as Error).message}`) };
      }
      return { ok: true, recorded: `${file}: ${id} ${key.type} ${fp}` };
    }
  }
}

/** The key type as OpenSSH names it in messages (ED25519, ECDSA, RSA). */
export function keyTypeLabel(type: string): string {
  if (type === 'ssh-ed25519') return 'ED25519';
  if (type.startsWith('ecdsa-sha2-')) return 'ECDSA';
  if (type === 'ssh-rsa') return 'RSA';
  return type;
}

/** Append one line (O_APPEND: concurrent first connections do not clobber each other). */
function recordHostKey(file: string, line: string): void {
  const dir = dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fresh = !existsSync(file);
  let prefix = '';
  if (!fresh) {
    const cur = readFileSync(file, 'utf8');
    if (cur.length && !cur.endsWith('\n')) prefix = '\n';
  }
  appendFileSync(file, `${prefix}${line}\n`, { mode: 0o600 });
  if (fresh) chmodSync(file, 0o600);
}

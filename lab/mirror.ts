// The machine's own apt mirror(s), read at run time (never hard-coded), and the socat pair that
// bridges the lab to each of them through a Unix socket (no routing out of the lab).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface AptSourceFile {
  /** Path relative to /etc/apt (e.g. sources.list.d/debian.sources). */
  relPath: string;
  content: string;
}

export interface AptUri {
  uri: string;
  scheme: 'http' | 'https';
  host: string;
  port: number;
  suites: string[];
}

export interface AptSources {
  files: AptSourceFile[];
  uris: AptUri[];
}

const APT_DIR = '/etc/apt';

function parseUri(uri: string, suites: string[]): AptUri | undefined {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  const scheme = u.protocol === 'http:' ? 'http' : 'https';
  const port = u.port ? Number(u.port) : scheme === 'http' ? 80 : 443;
  return { uri: uri.replace(/\/+$/, ''), scheme, host: u.hostname, port, suites };
}

/** deb822 (.sources): stanzas separated by blank lines; `Enabled: no` stanzas skipped. */
export function parseDeb822(text: string): AptUri[] {
  const out: AptUri[] = [];
  const stanzas = text
    .split(/\n\s*\n/)
    .map((s) => s.split('\n').filter((l) => !l.trimStart().startsWith('#')));
  for (const lines of stanzas) {
    const fields = new Map<string, string>();
    let last = '';
    for (const line of lines) {
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last) ?? ''} ${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m?.[1]) {
        last = m[1].toLowerCase();
        fields.set(last, m[2] ?? '');
      }
    }
    const types = (fields.get('types') ?? '').split(/\s+/);
    if (!types.includes('deb') || fields.get('enabled')?.trim().toLowerCase() === 'no') continue;
    const suites = (fields.get('suites') ?? '').split(/\s+/).filter(Boolean);
    for (const uri of (fields.get('uris') ?? '').split(/\s+/).filter(Boolean)) {
      const p = parseUri(uri, suites);
      if (p) out.push(p);
    }
  }
  return out;
}

/** One-line format: `deb [opts] uri suite components...`. */
export function parseSourcesList(text: string): AptUri[] {
  const out: AptUri[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (!m?.[1] || !m[2]) continue;
    const p = parseUri(m[1], [m[2]]);
    if (p) out.push(p);
  }
  return out;
}

/** Read the controller machine's apt sources now. */
export function readAptSources(aptDir = APT_DIR): AptSources {
  const files: AptSourceFile[] = [];
  const uris: AptUri[] = [];
  const list = join(aptDir, 'sources.list');
  if (existsSync(list)) {
    const content = readFileSync(list, 'utf8');
    files.push({ relPath: 'sources.list', content });
    uris.push(...parseSourcesList(content));
  }
  const dDir = join(aptDir, 'sources.list.d');
  if (existsSync(dDir)) {
    for (const f of readdirSync(dDir).sort()) {
      const content = readFileSync(join(dDir, f), 'utf8');
      if (f.endsWith('.sources')) uris.push(...parseDeb822(content));
      else if (f.endsWith('.list')) uris.push(...parseSourcesList(content));
      else continue;
      files.push({ relPath: `sources.list.d/${f}`, content });
    }
  }
  if (uris.length === 0) throw new Error(`no http(s) apt source found under ${aptDir}`);
  return { files, uris };
}

/** The URI debootstrap should use for `suite` (the first that serves it). */
export function debootstrapMirror(src: AptSources, suite: string): string {
  const hit = src.uris.find((u) => u.suites.includes(suite)) ?? src.uris[0];
  if (!hit) throw new Error('no apt mirror');
  return hit.uri;
}

export interface MirrorEndpoint {
  host: string;
  port: number;
}

/** Distinct host:port pairs the hosts' apt will connect to. */
export function mirrorEndpoints(src: AptSources): MirrorEndpoint[] {
  const seen = new Map<string, MirrorEndpoint>();
  for (const u of src.uris) seen.set(`${u.host}:${u.port}`, { host: u.host, port: u.port });
  return [...seen.values()];
}

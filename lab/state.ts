// Records of what the lab started, on disk so `down`/`status` work from any process.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { HOSTS_DIR, MIRRORS_STATE, hostPaths } from './paths.ts';
import type { ProcRef } from './procs.ts';

export interface HostState {
  name: string;
  address: string;
  python: boolean;
  /** The systemd-nspawn process. */
  proc: ProcRef;
  /** The host's own cgroups (one per hierarchy) that nspawn was started in. */
  cgroups: string[];
  /** The one of them that accounts memory, if any. */
  memoryCgroup?: string;
  /** Lower layers of the overlay, top first. */
  lowers: string[];
  startedAt: string;
  /** Milliseconds from start to sshd + systemd ready; absent until ready. */
  bootMs?: number;
}

export interface MirrorState {
  host: string;
  port: number;
  /** Address inside the lab that the hosts' /etc/hosts maps `host` to. */
  listen: string;
  socket: string;
  /** socat in the machine's namespace (unix socket -> mirror). */
  outer: ProcRef;
  /** socat in the lab namespace (listen -> unix socket). */
  inner: ProcRef;
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export const readHostState = (name: string) => readJson<HostState>(hostPaths(name).state);
export const writeHostState = (s: HostState) => writeJson(hostPaths(s.name).state, s);

/** Every host the lab has a directory for (running or not). */
export function knownHostNames(): string[] {
  return existsSync(HOSTS_DIR) ? readdirSync(HOSTS_DIR).sort() : [];
}

export const readMirrors = () => readJson<MirrorState[]>(MIRRORS_STATE) ?? [];
export const writeMirrors = (m: MirrorState[]) => writeJson(MIRRORS_STATE, m);

// apt for the hosts without any route out: per mirror endpoint, socat in the lab namespace
// listens on a lab address and hands each connection over a Unix socket to a socat in the
// machine's namespace, which connects to the real mirror (recipe section 5).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAB_NETNS, RUN_DIR, STATE_DIR } from './paths.ts';
import { findProcesses, isAlive, stopProcess, spawnDaemon } from './procs.ts';
import { readMirrors, writeMirrors, type MirrorState } from './state.ts';
import type { MirrorEndpoint } from './mirror.ts';

export function socketPath(e: MirrorEndpoint): string {
  return join(RUN_DIR, `mirror-${e.host}-${e.port}.sock`);
}

/** Is this argv one of the lab's socat processes (found by its socket path under RUN_DIR)? */
export function isLabSocat(argv: readonly string[]): boolean {
  return argv.some((a) => a.includes('socat')) && argv.some((a) => a.includes(`${RUN_DIR}/mirror-`));
}

async function waitFor(path: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > end) throw new Error(`socat did not create ${path}`);
    await sleep(50);
  }
}

/**
 * Make sure one socat pair runs per endpoint; `listenFor(host)` says which lab address
 * answers for that mirror name. Pairs already running are kept.
 */
export async function ensureMirrorBridge(
  endpoints: readonly MirrorEndpoint[],
  listenFor: (host: string) => string,
): Promise<MirrorState[]> {
  const old = readMirrors();
  const out: MirrorState[] = [];
  for (const e of endpoints) {
    const listen = listenFor(e.host);
    const prev = old.find((m) => m.host === e.host && m.port === e.port && m.listen === listen);
    if (prev && isAlive(prev.outer) && isAlive(prev.inner) && existsSync(prev.socket)) {
      out.push(prev);
      continue;
    }
    const socket = socketPath(e);
    for (const p of findProcesses((argv) => isLabSocat(argv) && argv.some((a) => a.includes(socket)))) {
      await stopProcess(p, 2000);
    }
    rmSync(socket, { force: true });
    const log = join(STATE_DIR, 'mirror-bridge.log');
    const outer = spawnDaemon(['socat', `UNIX-LISTEN:${socket},fork,mode=600`, `TCP:${e.host}:${e.port}`], log);
    await waitFor(socket, 5000);
    const inner = spawnDaemon(
      [
        'ip',
        'netns',
        'exec',
        LAB_NETNS,
        'socat',
        `TCP-LISTEN:${e.port},bind=${listen},fork,reuseaddr`,
        `UNIX-CONNECT:${socket}`,
      ],
      log,
    );
    out.push({ host: e.host, port: e.port, listen, socket, outer, inner });
  }
  // Pairs no longer wanted (mirror changed) are stopped.
  for (const m of old) {
    if (!out.some((o) => o.socket === m.socket && o.inner.pid === m.inner.pid)) {
      await stopProcess(m.inner, 2000);
      await stopProcess(m.outer, 2000);
    }
  }
  writeMirrors(out);
  return out;
}

/** Stop every lab socat: recorded ones, and any found by command line (lost records). */
export async function stopMirrorBridge(): Promise<void> {
  const refs = readMirrors().flatMap((m) => [m.inner, m.outer]);
  refs.push(...findProcesses(isLabSocat));
  await Promise.all(refs.map((r) => stopProcess(r, 2000)));
  for (const m of readMirrors()) rmSync(m.socket, { force: true });
  writeMirrors([]);
}

// A host is up when sshd answers with the key in the lab's known_hosts and systemd says
// the boot finished (running, or degraded: some unit failed but the system is usable).
// While hosts boot, one bash in the lab namespace watches every sshd port (a connect is a
// bash builtin redirection: no process per attempt); each host then gets one ssh that waits
// for systemd. Polling with ssh alone cost a process storm when many hosts booted at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { run, shell } from './exec.ts';
import { sshArgs } from './keys.ts';
import { LAB_NETNS } from './paths.ts';

export interface Ready {
  /** `running` or `degraded`. */
  state: string;
}

const debug = (msg: string) => {
  if (process.env.DROVER_LAB_DEBUG) console.error(`[lab] ${msg}`);
};

/** ssh until systemd reports the boot finished. */
export async function waitReady(address: string, timeoutMs: number): Promise<Ready> {
  const end = Date.now() + timeoutMs;
  const start = Date.now();
  let last = '';
  while (Date.now() < end) {
    // --wait blocks until boot is done, so once ssh connects one call usually suffices.
    const r = await run(
      ['ip', 'netns', 'exec', LAB_NETNS, ...sshArgs(address), 'systemctl is-system-running --wait'],
      { check: false, timeoutMs: Math.max(1000, Math.min(60_000, end - Date.now())) },
    );
    const state = r.stdout.trim().split('\n').pop() ?? '';
    if (state === 'running' || state === 'degraded') return { state };
    last = state || r.stderr.trim();
    debug(`${address} +${Date.now() - start} ms: ${last}`);
    // Strict checking is the point: a wrong key is a failure, not something to wait out.
    if (/host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(r.stderr)) {
      throw new Error(`${address}: ${r.stderr.trim()}`);
    }
    await sleep(300);
  }
  throw new Error(`${address}: not ready after ${timeoutMs} ms (last: ${last || 'no answer'})`);
}

const WATCH_SCRIPT = `
deadline=$((SECONDS + $1)); shift
pending=" $* "
while [ "$pending" != " " ] && [ $SECONDS -lt $deadline ]; do
  for a in $pending; do
    if { true 3<>"/dev/tcp/$a/22"; } 2>/dev/null; then echo "$a"; pending="\${pending/ $a / }"; fi
  done
  [ "$pending" != " " ] && sleep 0.2
done
true`;

/** Per address, a promise that resolves when the host is ready (port open, then systemd). */
export function watchReady(addresses: readonly string[], timeoutMs: number): Map<string, Promise<Ready>> {
  const out = new Map<string, Promise<Ready>>();
  if (addresses.length === 0) return out;
  const end = Date.now() + timeoutMs;
  const opened = new Map<string, () => void>();
  const portOpen = new Map<string, Promise<boolean>>();
  for (const a of addresses) portOpen.set(a, new Promise<boolean>((res) => opened.set(a, () => res(true))));
  const watcher = (async () => {
    const p = shell()`ip netns exec ${LAB_NETNS} bash -c ${WATCH_SCRIPT} watch ${String(Math.ceil(timeoutMs / 1000))} ${[...addresses]}`;
    for await (const line of p) opened.get(line.trim())?.();
  })();
  for (const a of addresses) {
    out.set(
      a,
      Promise.race([portOpen.get(a)!, watcher.then(() => false)]).then((open) => {
        // Port seen: one ssh normally. Watcher ended first (timeout): ssh polling decides.
        debug(`${a}: sshd port ${open ? 'open' : 'not seen by watcher'}`);
        return waitReady(a, Math.max(1000, end - Date.now()));
      }),
    );
  }
  return out;
}

/**
 * Cheap liveness for hosts already up: one bash in the lab namespace reads each sshd's
 * banner (no login, no key exchange), all in parallel. Returns the addresses that answered.
 */
export async function sshBanners(addresses: readonly string[], timeoutSec = 3): Promise<Set<string>> {
  if (addresses.length === 0) return new Set();
  const probe =
    'for a in "$@"; do ( if timeout ' +
    String(timeoutSec) +
    ` bash -c 'exec 3<>/dev/tcp/$0/22 && IFS= read -r -t 2 l <&3 && case $l in SSH-*) exit 0;; esac; exit 1' "$a"; ` +
    'then echo "$a"; fi ) & done; wait';
  const r = await run(['ip', 'netns', 'exec', LAB_NETNS, 'bash', '-c', probe, 'probe', ...addresses], { check: false });
  return new Set(r.stdout.split('\n').filter(Boolean));
}

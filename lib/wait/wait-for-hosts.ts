// Wait until every host of a pattern accepts SSH and, where cloud-init is installed, has
// finished it: what a freshly created VM needs before a playbook can run on it (Terraform's
// local-exec starts as soon as the hypervisor says "created", long before sshd is up).
//
// Each host is tried on its own every `intervalMs` (a new connection each time, bounded by
// `attemptTimeoutMs`) until it is ready or `timeoutMs` has passed since the start. Output is
// plain lines: one per host when it becomes ready, and every `reportEveryMs` one line per host
// still waiting with the last reason (connection refused, host key unknown, cloud-init
// running...); at the timeout one line per host that never became ready.
import type { Inventory, InventoryHost } from '../inventory/types.ts';
import type { ConnectionInput } from '../transport/connection.ts';
import type { Transport } from '../transport/types.ts';

/** Prints `done` (boot-finished), `running`, `error: ...` or `none` (no cloud-init on the host). */
export const CLOUD_INIT_PROBE = [
  'if [ -e /var/lib/cloud/instance/boot-finished ]; then echo done',
  'elif command -v cloud-init >/dev/null 2>&1; then',
  '  s=$(cloud-init status 2>/dev/null | tr "\\n" " ")',
  '  case "$s" in *running*|*"not started"*|*"not run"*) echo running ;; *error*) echo "error: $s" ;; *) echo done ;; esac',
  'else echo none; fi',
].join('\n');

export interface WaitOptions {
  /** Give up on hosts not ready after this long (default 300 s). */
  timeoutMs?: number;
  /** Pause between two tries of one host (default 2 s). */
  intervalMs?: number;
  /** Bound of one try: connect + probe (default 10 s). */
  attemptTimeoutMs?: number;
  /** How often the still-waiting hosts are listed (default 10 s). */
  reportEveryMs?: number;
  /** Also wait for cloud-init where it is installed (default true). */
  cloudInit?: boolean;
  /** A transport to a host, not yet connected (the runner's connectionFor + createTransport). */
  connect: (host: InventoryHost, attemptTimeoutMs: number) => Transport | Promise<Transport>;
  /** Where the lines go. */
  out: (line: string) => void;
  signal?: AbortSignal;
  /** For tests: the clock. */
  now?: () => number;
}

export interface WaitResult {
  ready: string[];
  /** Never ready before the timeout, with the last reason. */
  waiting: { host: string; reason: string }[];
  /** cloud-init finished with an error. */
  failed: { host: string; reason: string }[];
}

type Outcome = { state: 'ready'; detail: string } | { state: 'wait'; reason: string } | { state: 'failed'; reason: string };

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

async function tryHost(host: InventoryHost, opts: Required<Pick<WaitOptions, 'attemptTimeoutMs' | 'cloudInit'>> & Pick<WaitOptions, 'connect'>): Promise<Outcome> {
  let t: Transport | undefined;
  const bound = <T>(p: Promise<T>, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${opts.attemptTimeoutMs / 1000}s`)), opts.attemptTimeoutMs);
    });
    return Promise.race([p, limit]).finally(() => clearTimeout(timer));
  };
  try {
    t = await opts.connect(host, opts.attemptTimeoutMs);
    await bound(t.connect(), 'ssh connect');
    if (!opts.cloudInit) return { state: 'ready', detail: 'ssh ok' };
    const r = await bound(t.exec(CLOUD_INIT_PROBE, { timeoutMs: opts.attemptTimeoutMs }), 'the cloud-init check');
    const said = oneLine(r.stdout);
    if (r.code !== 0) return { state: 'wait', reason: `the cloud-init check exited ${r.code}: ${oneLine(r.stderr) || said}` };
    if (said === 'done') return { state: 'ready', detail: 'ssh ok, cloud-init done' };
    if (said === 'none') return { state: 'ready', detail: 'ssh ok, no cloud-init' };
    if (said === 'running') return { state: 'wait', reason: 'ssh ok, cloud-init still running' };
    if (said.startsWith('error:')) return { state: 'failed', reason: `cloud-init finished with an error (${said.slice(6).trim()})` };
    return { state: 'wait', reason: `unexpected answer from the cloud-init check: ${said}` };
  } catch (e) {
    return { state: 'wait', reason: oneLine(e instanceof Error ? e.message : String(e)).replace(new RegExp(`^${host.name}: `), '') };
  } finally {
    await t?.close().catch(() => undefined);
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Wait for `hosts` (inventory names); see the top of this file. Never throws for a host. */
export async function waitForHosts(inv: Inventory, hosts: readonly string[], options: WaitOptions): Promise<WaitResult> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const intervalMs = options.intervalMs ?? 2_000;
  const reportEveryMs = options.reportEveryMs ?? 10_000;
  const attemptTimeoutMs = Math.min(options.attemptTimeoutMs ?? 10_000, timeoutMs);
  const cloudInit = options.cloudInit ?? true;
  const now = options.now ?? Date.now;
  const start = now();
  const deadline = start + timeoutMs;
  const last = new Map<string, string>(hosts.map((h) => [h, 'not tried yet']));
  const result: WaitResult = { ready: [], waiting: [], failed: [] };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      options.signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });

  const report = setInterval(() => {
    for (const [h, why] of last) options.out(`waiting  ${h}  ${seconds(now() - start)}: ${why}`);
  }, reportEveryMs);
  report.unref?.();

  try {
    await Promise.all(
      hosts.map(async (name) => {
        const host = inv.hosts.get(name)!;
        for (;;) {
          const o = await tryHost(host, { connect: options.connect, attemptTimeoutMs, cloudInit });
          if (o.state === 'ready') {
            last.delete(name);
            result.ready.push(name);
            options.out(`ready    ${name}  ${seconds(now() - start)} (${o.detail})`);
            return;
          }
          if (o.state === 'failed') {
            last.delete(name);
            result.failed.push({ host: name, reason: o.reason });
            options.out(`failed   ${name}  ${seconds(now() - start)}: ${o.reason}`);
            return;
          }
          last.set(name, o.reason);
          if (options.signal?.aborted || now() + intervalMs >= deadline) {
            last.delete(name);
            result.waiting.push({ host: name, reason: o.reason });
            options.out(`timeout  ${name}  not ready after ${seconds(now() - start)}: ${o.reason}`);
            return;
          }
          await sleep(intervalMs);
        }
      }),
    );
  } finally {
    clearInterval(report);
  }
  return result;
}

/**
 * The usual `connect` for waitForHosts: SSH from each host's inventory variables, with
 * `defaults` as a playbook's command-line options (-u, --private-key, ...). Before a playbook:
 *   plays: async ({ inventory }) => {
 *     const r = await waitForHosts(inventory, selectHosts(inventory, 'k3s_cluster').hosts,
 *       { connect: await sshConnector({ acceptNewHostKeys: true }), out: console.log });
 *     if (r.waiting.length || r.failed.length) throw new Error('hosts not ready');
 *     return plays;
 *   }
 */
export async function sshConnector(defaults: Partial<ConnectionInput> = {}): Promise<WaitOptions['connect']> {
  const [{ connectionFor }, { createTransport }] = await Promise.all([import('../inventory/connection.ts'), import('../transport/index.ts')]);
  return (host, attemptTimeoutMs) => {
    const conn = connectionFor(host, defaults);
    return createTransport({ ...conn, connectTimeoutMs: Math.min(conn.connectTimeoutMs, attemptTimeoutMs) });
  };
}

// `drover wait-for-hosts` / playbooks/wait-for-hosts.ts: wait until every host of a pattern
// accepts SSH and has finished cloud-init (lib/wait/wait-for-hosts.ts), then exit:
//   0 all ready · 4 some not ready before --timeout · 2 cloud-init failed somewhere · 6 both
//   64 bad usage · 65 invalid inventory
// Typical use right before a playbook, e.g. in Terraform's local-exec:
//   drover wait-for-hosts -i hosts.ini --timeout 600 --accept-new-host-keys && drover run site.ts -i hosts.ini
import { EXIT, UsageError } from '../errors.ts';
import { connectionFor } from '../inventory/connection.ts';
import { loadInventory } from '../inventory/load.ts';
import { selectHosts } from '../inventory/patterns.ts';
import type { OutStream } from '../report/format.ts';
import { redact } from '../secrets/redact.ts';
import { parseCommandArgs, reportCommandError } from './command-error.ts';
import type { ConnectionInput } from '../transport/connection.ts';
import type { Transport } from '../transport/types.ts';
import { waitForHosts } from '../wait/wait-for-hosts.ts';
import { parseExtraVars } from './extra-vars.ts';

export const WAIT_USAGE = `Usage: drover wait-for-hosts -i INVENTORY [PATTERN] [options]

Wait until every host of PATTERN (default all) accepts SSH and, where cloud-init is
installed, has finished it (/var/lib/cloud/instance/boot-finished, cloud-init status).

  -i, --inventory SRC        inventory (repeatable), as for a playbook
  -l, --limit PATTERN        same as giving PATTERN
      --timeout SECONDS      give up after this long (default 300)
      --interval SECONDS     pause between two tries of a host (default 2)
      --attempt-timeout S    bound of one try, connect + check (default 10)
      --report-every S       list the hosts still waiting this often (default 10)
      --no-cloud-init        only wait for SSH
  -e, --extra-vars VARS      extra vars (they also reach the inventory's templates)
  -u, --user USER            login user (inventory variables win)
      --private-key FILE     private key file (repeatable)
      --known-hosts FILE     known_hosts file (repeatable)
      --accept-new-host-keys record unknown host keys (fresh VMs have new keys; a changed key is refused)
  -h, --help                 this help

Output: one line per host when ready; every --report-every seconds one line per host still
waiting, with why; at the timeout one line per host not ready. Exit codes: 0 all ready,
4 some not ready in time, 2 cloud-init failed on some, 6 both, 64 bad usage, 65 invalid inventory.
`;

const OPTIONS = {
  inventory: { type: 'string', short: 'i', multiple: true },
  limit: { type: 'string', short: 'l' },
  timeout: { type: 'string' },
  interval: { type: 'string' },
  'attempt-timeout': { type: 'string' },
  'report-every': { type: 'string' },
  'no-cloud-init': { type: 'boolean' },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  user: { type: 'string', short: 'u' },
  'private-key': { type: 'string', multiple: true },
  'known-hosts': { type: 'string', multiple: true },
  'accept-new-host-keys': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface WaitIO {
  stdout?: OutStream;
  stderr?: OutStream;
  cwd?: string;
  signal?: AbortSignal;
  /** For tests: how a host is reached (default: ssh from its inventory variables). */
  connect?: (conn: ReturnType<typeof connectionFor>) => Transport | Promise<Transport>;
}

function secondsFlag(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt * 1000;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(n > 0)) throw new UsageError(`--${name} needs a positive number of seconds, got "${v}"`);
  return Math.round(n * 1000);
}

export async function runWaitCommand(argv: readonly string[], io: WaitIO = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const cwd = io.cwd ?? process.cwd();
  try {
    const parsed = parseCommandArgs(argv, OPTIONS);
    const { values: v, positionals } = parsed;
    if (v.help) {
      stdout.write(WAIT_USAGE);
      return EXIT.ok;
    }
    if (!v.inventory?.length) throw new UsageError('no inventory: pass -i INVENTORY');
    if (positionals.length > 1 || (positionals.length && v.limit)) throw new UsageError('give one host pattern (PATTERN or --limit)');
    const pattern = v.limit ?? positionals[0] ?? 'all';
    const timeoutMs = secondsFlag('timeout', v.timeout, 300);
    const intervalMs = secondsFlag('interval', v.interval, 2);
    const attemptTimeoutMs = secondsFlag('attempt-timeout', v['attempt-timeout'], 10);
    const reportEveryMs = secondsFlag('report-every', v['report-every'], 10);

    const extra = parseExtraVars(v['extra-vars'] ?? [], cwd);
    const inv = await loadInventory(v.inventory, { cwd, extraVars: extra.vars });
    const sel = selectHosts(inv, pattern);
    for (const w of [...(inv.warnings ?? []), ...sel.warnings]) stderr.write(redact(`warning: ${w}`) + '\n');
    if (!sel.hosts.length) throw new UsageError(`no host matches "${pattern}"`);

    const defaults: Partial<ConnectionInput> = {
      ...(v.user ? { user: v.user } : {}),
      ...(v['private-key']?.length ? { privateKeyFiles: v['private-key'] } : {}),
      ...(v['known-hosts']?.length ? { knownHostsFiles: v['known-hosts'] } : {}),
      ...(v['accept-new-host-keys'] ? { acceptNewHostKeys: true } : {}),
    };
    // Every host's connection settings are checked before waiting (a bad port is exit 65 now).
    const conns = new Map(sel.hosts.map((h) => [h, connectionFor(inv.hosts.get(h)!, defaults)]));
    const connect =
      io.connect ??
      (async (conn: ReturnType<typeof connectionFor>) => (await import('../transport/index.ts')).createTransport(conn));

    const write = (line: string) => stdout.write(redact(line) + '\n');
    write(`waiting for ${sel.hosts.length} host${sel.hosts.length === 1 ? '' : 's'} (${pattern}): ssh${v['no-cloud-init'] ? '' : ' and cloud-init'}, timeout ${timeoutMs / 1000}s`);
    const started = Date.now();
    const res = await waitForHosts(inv, sel.hosts, {
      timeoutMs,
      intervalMs,
      attemptTimeoutMs,
      reportEveryMs,
      cloudInit: !v['no-cloud-init'],
      connect: (host, attempt) => connect({ ...conns.get(host.name)!, connectTimeoutMs: Math.min(conns.get(host.name)!.connectTimeoutMs, attempt) }),
      out: write,
      ...(io.signal ? { signal: io.signal } : {}),
    });
    const took = ((Date.now() - started) / 1000).toFixed(1);
    if (!res.waiting.length && !res.failed.length) {
      write(`all ${res.ready.length} hosts ready in ${took}s`);
      return EXIT.ok;
    }
    const bad = [...res.waiting.map((w) => w.host), ...res.failed.map((f) => f.host)];
    write(`${bad.length} of ${sel.hosts.length} hosts not ready after ${took}s: ${bad.join(', ')}`);
    return (res.waiting.length ? EXIT.unreachable : 0) | (res.failed.length ? EXIT.failedHosts : 0);
  } catch (e) {
    return reportCommandError(e, stderr, 'wait-for-hosts');
  }
}

// Starting K3s and waiting for it, bounded. The units are Type=notify with TimeoutStartSec=0
// (install.sh's): a plain `systemctl start` would block until READY, forever when the server
// has no etcd quorum or an agent cannot reach the VIP. So the roles start and restart with
// --no-block, then poll on the host (one exec) until ready or the deadline, and a timeout fails
// with the reason and the end of the unit's journal.
import { describeFailure } from '../../lib/ops/shell.ts';
import { changed, failed, ok, wouldWait, type OpContext, type OpResult } from '../../lib/ops/types.ts';

function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}
import { parseProbe } from '../../lib/ops/probe.ts';
import { K3S_BIN, SERVER_TOKEN } from './templates.ts';

export interface UnitState {
  /** ActiveState: active, activating, inactive, failed, deactivating ... ('' when unknown). */
  active: string;
  /** The unit's last start (epoch seconds), when active. */
  since?: number;
  /** Files given to the probe modified after that start. */
  newer: string[];
}

/**
 * One probe: the unit's state and start time, and which of `files` (binary, config, env, unit)
 * changed after it started, so a restart that an earlier run missed (interrupted between the
 * write and the restart) is still made.
 */
export const UNIT_STATE_SCRIPT = [
  'u=$1; shift',
  'echo "active=$(systemctl show -p ActiveState --value "$u" 2>/dev/null)"',
  'ts=$(systemctl show -p ActiveEnterTimestamp --value "$u" 2>/dev/null)',
  'since=; if [ -n "$ts" ]; then since=$(date -d "$ts" +%s 2>/dev/null); fi',
  'echo "since=$since"',
  'for f in "$@"; do if [ -e "$f" ]; then echo "mtime=$(stat -L -c %Y "$f") $f"; fi; done',
].join('\n');

export function parseUnitState(stdout: string): UnitState {
  const { kv } = parseProbe(stdout);
  const since = Number(kv.get('since'));
  const s: UnitState = { active: kv.get('active') ?? '', newer: [], ...(Number.isFinite(since) && since > 0 ? { since } : {}) };
  for (const line of stdout.split('\n')) {
    const m = /^mtime=(\d+) (.+)$/.exec(line);
    if (m && s.since !== undefined && Number(m[1]) > s.since) s.newer.push(m[2]!);
  }
  return s;
}

export type StartAction = { action: 'none'; msg: string } | { action: 'start' | 'restart'; msg: string };

const RUNNING = new Set(['active', 'activating', 'reloading']);

/**
 * Start a stopped unit; restart a running one only when something it reads changed (in this
 * run, or after its last start); otherwise leave it alone (k3s-ansible#485: re-runs must not
 * restart servers).
 */
export function decideStart(s: UnitState, unit: string, changedNow: readonly string[]): StartAction {
  const why = [...new Set([...changedNow, ...s.newer])];
  if (!RUNNING.has(s.active)) return { action: 'start', msg: `start ${unit} (was ${s.active || 'unknown'})` };
  if (why.length) return { action: 'restart', msg: `restart ${unit}: ${why.join(', ')} changed` };
  return { action: 'none', msg: `${unit} is ${s.active}, nothing it reads changed since it started` };
}

/** Probe, decide, then `systemctl start|restart --no-block` (the wait is the next task's). */
export async function startOrRestart(ctx: OpContext, unit: string, files: readonly string[], changedNow: readonly string[]): Promise<OpResult> {
  const probe = await ctx.$.read`sh -c ${UNIT_STATE_SCRIPT} k3s-unit-state ${unit} ${[...files]}`.nothrow();
  if (!probe.ok) return failed(`cannot read the state of ${unit}: ${describeFailure(probe)}`);
  const d = decideStart(parseUnitState(probe.stdout), unit, changedNow);
  if (d.action === 'none') return ok(d.msg);
  if (ctx.check) return changed(`would ${d.msg}`);
  const r = await ctx.$`systemctl ${d.action} --no-block ${unit}`.nothrow();
  if (!r.ok) return failed(`${d.msg}: ${describeFailure(r)}`, { stderr: r.stderr, rc: r.exitCode });
  return changed(d.msg, { data: { action: d.action } });
}

/** The end of a failed wait: why, then the unit's last journal lines. */
const FAIL_TAIL = [
  'fail() {',
  '  printf "%s\\n" "$1" >&2',
  '  printf "%s\\n" "--- journalctl -u $u (last 15 lines) ---" >&2',
  '  journalctl -u "$u" -n 15 --no-pager -o cat >&2 2>&1',
  '  exit 124',
  '}',
];

/**
 * Server gate ($1 unit, $2 seconds, $3 node name, $4 1 = must be an etcd voter, $5 k3s, $6 token file):
 * unit active (READY sent: apiserver up and local etcd ready), the token file written,
 * `k3s kubectl get --raw /readyz` ok (authenticated: an anonymous one is a 401), and for a
 * joining server EtcdIsVoter=True on its Node (promoted from learner). Never the Node's Ready:
 * without a CNI (flannel-backend none, before Cilium) it stays NotReady.
 */
export const SERVER_READY_SCRIPT = [
  'u=$1; limit=$2; node=$3; voter=$4; k3s=$5; tokenf=$6',
  ...FAIL_TAIL,
  'end=$(( $(date +%s) + limit )); why=',
  'while :; do',
  '  st=$(systemctl show -p ActiveState --value "$u" 2>/dev/null)',
  '  if [ "$st" != active ]; then why="unit $u is ${st:-unknown} (not active: no READY yet)"',
  '  elif [ ! -s "$tokenf" ]; then why="$tokenf not written yet"',
  '  elif ! r=$("$k3s" kubectl get --raw /readyz --request-timeout=5s 2>&1); then why="k3s kubectl get --raw /readyz: $r"',
  '  elif [ "$voter" = 1 ]; then',
  `    v=$("$k3s" kubectl get node "$node" --request-timeout=5s -o 'jsonpath={.status.conditions[?(@.type=="EtcdIsVoter")].status}' 2>&1)`,
  '    if [ "$v" = True ]; then echo "ready: $u active, /readyz ok, $node is an etcd voter"; exit 0; fi',
  '    why="$node is not an etcd voter yet (EtcdIsVoter: ${v:-not set})"',
  '  else echo "ready: $u active, /readyz ok"; exit 0',
  '  fi',
  '  if [ "$(date +%s)" -ge "$end" ]; then fail "$why"; fi',
  '  sleep 1',
  'done',
].join('\n');

/** Agent gate ($1 unit, $2 seconds): the unit active (READY: token and CA accepted, node configured). */
export const AGENT_READY_SCRIPT = [
  'u=$1; limit=$2',
  ...FAIL_TAIL,
  'end=$(( $(date +%s) + limit )); why=',
  'while :; do',
  '  st=$(systemctl show -p ActiveState --value "$u" 2>/dev/null)',
  '  if [ "$st" = active ]; then echo "ready: $u active"; exit 0; fi',
  '  why="unit $u is ${st:-unknown} (no READY: the agent has not joined)"',
  '  if [ "$(date +%s)" -ge "$end" ]; then fail "$why"; fi',
  '  sleep 1',
  'done',
].join('\n');

/**
 * Run a gate script on the host (`args(limit)`: its arguments with that time limit); its exit
 * 124 is a timeout whose stderr says why.
 */
export async function runGate(ctx: OpContext, what: string, script: string, args: (limitSec: number) => Array<string | number>, limitSec: number): Promise<OpResult> {
  if (ctx.check) {
    // One look, never a wait (a read): ready now is ok; not yet is what a real run would wait for.
    const r = await ctx.$.read`sh -c ${script} k3s-gate ${args(0)}`.fresh().timeout(60_000).nothrow();
    if (r.ok) return ok(r.stdout.trim() || what);
    return wouldWait(`would wait for ${what} (not yet: ${firstLine(r.stderr) || describeFailure(r)}; check mode does not wait)`);
  }
  const t0 = Date.now();
  const r = await ctx.$`sh -c ${script} k3s-gate ${args(limitSec)}`.timeout((limitSec + 60) * 1000).nothrow();
  // The message says what was found, not how long it took (runs compare their results).
  if (r.ok) return ok(r.stdout.trim() || what, { data: { elapsedMs: Date.now() - t0 } });
  const reason = r.stderr.trim() || describeFailure(r) || `rc ${r.exitCode}`;
  // The reason and the journal are in the message; stderr is not repeated.
  return failed(r.exitCode === 124 ? `${what}: timed out after ${limitSec}s: ${reason}` : `${what}: ${reason}`, { rc: r.exitCode });
}

export function serverGate(ctx: OpContext, a: { unit: string; node: string; voter: boolean; limitSec: number }): Promise<OpResult> {
  const what = a.voter ? `${a.unit} ready and ${a.node} an etcd voter` : `${a.unit} ready`;
  return runGate(ctx, what, SERVER_READY_SCRIPT, (limit) => [a.unit, limit, a.node, a.voter ? 1 : 0, K3S_BIN, SERVER_TOKEN], a.limitSec);
}

export function agentGate(ctx: OpContext, a: { unit: string; limitSec: number }): Promise<OpResult> {
  return runGate(ctx, `${a.unit} active`, AGENT_READY_SCRIPT, (limit) => [a.unit, limit], a.limitSec);
}

/**
 * Registered on the first server ($1 k3s, $2 node, $3 seconds): the agent's Node exists. Its
 * Ready condition is not waited for (no CNI yet).
 */
export const NODE_REGISTERED_SCRIPT = [
  'k3s=$1; node=$2; limit=$3',
  'end=$(( $(date +%s) + limit ))',
  'while :; do',
  '  if r=$("$k3s" kubectl get node "$node" --request-timeout=5s -o name 2>&1); then echo "registered: $r"; exit 0; fi',
  '  if [ "$(date +%s)" -ge "$end" ]; then printf "%s\\n" "node $node not registered: $r" >&2; exit 124; fi',
  '  sleep 1',
  'done',
].join('\n');

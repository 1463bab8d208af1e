// net.bridge.bridge-nf-call-ip{,6}tables exist only while br_netfilter is in the running
// kernel. When they are missing (a container whose host kernel lacks the module, or a kernel
// without it) the lines are still persisted (they apply once the module loads at boot from
// modules-load.d) and the live part is reported skipped with that reason, never failed and
// never faked. In check mode on a host that will load br_netfilter first, the keys are
// reported as "would set".
import { applyDecision, mustFail } from '../../lib/ops/decision.ts';
import { defineOp } from '../../lib/ops/exec.ts';
import { ops } from '../../lib/ops/index.ts';
import { parseProbe } from '../../lib/ops/probe.ts';
import { skipped, type Op, type OpContext, type OpResult } from '../../lib/ops/types.ts';

export type BridgePlan = { kind: 'apply' } | { kind: 'persist-only'; reason: string };

export interface BridgeState {
  /** /proc/sys/net/bridge exists (br_netfilter is in the running kernel). */
  exists: boolean;
  hasModprobe: boolean;
}

export function planBridgeSysctls(s: BridgeState, a: { container: string | null; check: boolean; loadsBrNetfilter: boolean }): BridgePlan {
  if (s.exists) return { kind: 'apply' };
  // Check mode: the module task before this one would have loaded it, so the keys would exist.
  if (a.check && !a.container && a.loadsBrNetfilter && s.hasModprobe) return { kind: 'apply' };
  const reason = a.container
    ? `br_netfilter is not loaded in the host kernel and a container (${a.container}) cannot load it`
    : a.loadsBrNetfilter
      ? 'br_netfilter is still not loaded (modprobe did not make it appear: this kernel lacks it?)'
      : 'br_netfilter is not loaded and k3s_prereqs_modules does not load it';
  return { kind: 'persist-only', reason: `live value not set: net.bridge.* does not exist (no such key): ${reason}` };
}

export function parseBridgeState(stdout: string): BridgeState {
  const { kv } = parseProbe(stdout);
  return { exists: kv.has('exists'), hasModprobe: kv.has('has_modprobe') };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Only the persisted line, as ops.sysctl would write it (`name = value`). */
function persistLine(path: string, name: string, value: string): Op {
  return ops.lineInFile(path, { line: `${name} = ${value}`, regexp: new RegExp(`^\\s*${escape(name)}\\s*=`), create: true, mode: '0644' });
}

export function bridgeSysctls(values: Readonly<Record<string, string>>, opts: { file: string; path: string; loadsBrNetfilter: boolean }): Op {
  return defineOp(async (ctx: OpContext): Promise<OpResult> => {
    const r = await ctx.$.read`if [ -d /proc/sys/net/bridge ]; then echo exists=1; fi; if command -v modprobe >/dev/null 2>&1; then echo has_modprobe=1; fi`;
    const plan = planBridgeSysctls(parseBridgeState(r.stdout), { container: ctx.facts.container, check: ctx.check, loadsBrNetfilter: opts.loadsBrNetfilter });
    const entries = Object.entries(values);
    if (!entries.length) return applyDecision(ctx, mustFail('no bridge sysctls given'));
    if (plan.kind === 'apply') return ops.seq(...entries.map(([k, v]) => ops.sysctl(k, v, { file: opts.file })))(ctx);
    const res = await ops.seq(...entries.map(([k, v]) => persistLine(opts.path, k, v)))(ctx);
    if (res.status === 'failed') return res;
    if (res.status === 'changed') return { ...res, msg: `${res.msg ?? 'persisted'}; ${plan.reason}` };
    return skipped(plan.reason, { ...(res.diff ? { diff: res.diff } : {}) });
  });
}

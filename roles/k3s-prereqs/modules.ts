// Loading the kernel modules K3s needs. One probe exec tells, per module, whether the
// running kernel already provides it: listed in /proc/modules or /sys/module, or built in
// without parameters (then only its effect shows: overlay in /proc/filesystems,
// /proc/sys/net/bridge for br_netfilter). The decision is pure.
// A container cannot load modules: that is reported as skipped with the reason, and what
// the host kernel provides is said in the same message (never pretended loaded by us).
import { sh } from '../../lib/ops/shell.ts';
import { applyDecision, type Decision } from '../../lib/ops/decision.ts';
import { defineOp } from '../../lib/ops/exec.ts';
import { parseProbe } from '../../lib/ops/probe.ts';
import type { Op } from '../../lib/ops/types.ts';

export interface ModulesState {
  /** module -> available in the running kernel */
  present: Map<string, boolean>;
  hasModprobe: boolean;
}

const key = (m: string) => m.replace(/-/g, '_');

export function parseModulesState(stdout: string, modules: readonly string[]): ModulesState {
  const { kv } = parseProbe(stdout);
  return { present: new Map(modules.map((m) => [m, kv.get(`mod_${key(m)}`) === '1'])), hasModprobe: kv.has('has_modprobe') };
}

export function decideModules(s: ModulesState, a: { modules: readonly string[]; container: string | null; check: boolean }): Decision {
  const missing = a.modules.filter((m) => !s.present.get(m));
  const have = a.modules.filter((m) => s.present.get(m));
  if (a.container) {
    const state = [have.length ? `the host kernel provides ${have.join(', ')}` : '', missing.length ? `the host kernel lacks ${missing.join(', ')} (load it on the host)` : '']
      .filter(Boolean)
      .join('; ');
    return { change: false, commands: [], msg: '', skip: `cannot load kernel modules in a container (${a.container}): ${state}` };
  }
  if (!missing.length) return { change: false, commands: [], msg: `${have.join(', ')} loaded` };
  if (!s.hasModprobe && !a.check) return { change: false, commands: [], msg: 'no modprobe', fail: `cannot load ${missing.join(', ')}: modprobe not found (install kmod)` };
  return { change: true, commands: missing.map((m) => sh`modprobe ${m}`), msg: `load ${missing.join(', ')}` };
}

export function loadModules(modules: readonly string[]): Op {
  return defineOp(async (ctx) => {
    // Per module: /sys/module first (a builtin test: no grep process when it answers), then
    // /proc/modules, then signs of a built-in module without parameters (overlay in
    // /proc/filesystems, /proc/sys/net/bridge for br_netfilter).
    const r = await ctx.$.read`for k in ${modules.map(key)}; do
  if [ -d "/sys/module/$k" ] || grep -q "^$k " /proc/modules 2>/dev/null || case $k in overlay) grep -qw overlay /proc/filesystems 2>/dev/null ;; br_netfilter) [ -d /proc/sys/net/bridge ] ;; *) false ;; esac; then echo "mod_$k=1"; else echo "mod_$k=0"; fi
done
if command -v modprobe >/dev/null 2>&1; then echo has_modprobe=1; fi`;
    return applyDecision(ctx, decideModules(parseModulesState(r.stdout, modules), { modules, container: ctx.facts.container, check: ctx.check }));
  });
}

// kernelModule: a module loaded now (modprobe) and at boot (/etc/modules-load.d/<name>.conf).
// Probe: one exec: loaded (/proc/modules or /sys/module, which also covers built-ins),
// modprobe present, and the persist file. Modules are kernel-global: a container sees the
// host's loaded modules but cannot load one, so that part is skipped with a reason.
import { quote } from '../shell/quote.ts';
import { applyDecision, type Decision } from './decision.ts';
import { canChown, defineOp, mustProbe } from './exec.ts';
import { DIFF_MAX_BYTES, fileProbeScript, parseFileState, parseProbe, setVar, type FileState } from './probe.ts';
import type { Op } from './types.ts';
import { decideWrite } from './write.ts';

export interface KernelModuleOptions {
  /** Write /etc/modules-load.d/<name>.conf (default true). */
  persist?: boolean;
}

export interface KernelModuleState {
  loaded: boolean;
  hasModprobe: boolean;
  file: FileState;
}

export function modulePath(name: string): string {
  return `/etc/modules-load.d/${name}.conf`;
}

export function kernelModuleProbeScript(name: string, persist: boolean): string {
  // /proc/modules and /sys/module spell dashes as underscores. The builtin test first: same
  // answer, and no grep process when /sys/module has it.
  const sys = name.replace(/-/g, '_');
  return [
    `if [ -d ${quote(`/sys/module/${sys}`)} ] || grep -q ${quote(`^${sys} `)} /proc/modules 2>/dev/null; then echo loaded=1; fi`,
    `if command -v modprobe >/dev/null 2>&1; then echo has_modprobe=1; fi`,
    ...(persist ? [setVar('p', modulePath(name)), fileProbeScript({ contentMax: DIFF_MAX_BYTES })] : []),
  ].join('\n');
}

export function parseKernelModuleState(stdout: string): KernelModuleState {
  const out = parseProbe(stdout);
  return { loaded: out.kv.has('loaded'), hasModprobe: out.kv.has('has_modprobe'), file: parseFileState(out) };
}

export function decideKernelModule(
  s: KernelModuleState,
  a: { name: string; persist: boolean; container: string | null; diff: boolean; preserveOwner: boolean; check: boolean },
): Decision {
  const path = modulePath(a.name);
  const d: Decision = a.persist
    ? decideWrite(s.file, { path, content: `${a.name}\n`, mode: 0o644, mkdirs: true, diff: a.diff, preserveOwner: a.preserveOwner })
    : { change: false, commands: [], msg: '' };
  if (d.fail) return d;
  const parts = d.change ? [d.change && d.put ? `persist ${a.name} in ${path}` : d.msg] : [];
  if (!s.loaded) {
    if (a.container) {
      d.skip = `cannot load kernel modules in a container (${a.container})`;
    } else if (!s.hasModprobe && !a.check) {
      return { ...d, change: false, fail: `cannot load ${a.name}: modprobe not found (install kmod)` };
    } else {
      d.commands.push(`modprobe ${quote(a.name)}`);
      parts.push(`load ${a.name}`);
      d.change = true;
    }
  }
  d.msg = parts.length ? parts.join('; ') : `${a.name} is loaded`;
  return d;
}

export function kernelModule(name: string, opts: KernelModuleOptions = {}): Op {
  return defineOp(async (ctx) => {
    const persist = opts.persist ?? true;
    const r = await mustProbe(ctx, `probe module ${name}`, kernelModuleProbeScript(name, persist));
    const d = decideKernelModule(parseKernelModuleState(r.stdout), {
      name,
      persist,
      container: ctx.facts.container,
      diff: ctx.diff,
      preserveOwner: canChown(ctx),
      check: ctx.check,
    });
    return applyDecision(ctx, d);
  });
}

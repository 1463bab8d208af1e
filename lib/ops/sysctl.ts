// sysctl: a kernel parameter set live (/proc/sys) and persisted in /etc/sysctl.d/<file>.conf.
// Probe: one exec reads the live value, the persist file and whether `sysctl` exists
// (debootstrap minbase has no procps: then /proc/sys is written directly).
// In a container, a host-global key (vm.*, most kernel.*) cannot be set: the file is still
// written (it applies if this image ever boots a VM/host) and the live part is skipped with a reason.
import { quote } from '../shell/quote.ts';
import { applyDecision, type Decision } from './decision.ts';
import { CONTAINER_DENIED, isNamespacedSysctl } from './container.ts';
import { canChown, defineOp, mustProbe } from './exec.ts';
import { editLine } from './lines.ts';
import { EDIT_MAX_BYTES, fileProbeScript, parseFileState, parseProbe, setVar, type FileState } from './probe.ts';
import type { Op } from './types.ts';
import { decideEdit } from './edit.ts';

export interface SysctlOptions {
  /** Persist file name in /etc/sysctl.d (without .conf), or an absolute path. Default 99-drover. */
  file?: string;
  /** Write the persist file (default true). */
  persist?: boolean;
}

export interface SysctlState {
  file: FileState;
  /** Live value, whitespace-normalised; null when the key does not exist. */
  live: string | null;
  /** `sysctl` binary present. */
  hasSysctl: boolean;
}

export interface SysctlArgs {
  name: string;
  value: string;
  path: string;
  persist: boolean;
  /** ctx.facts.container */
  container: string | null;
  diff: boolean;
  preserveOwner: boolean;
  check: boolean;
}

const norm = (v: string) => v.trim().split(/\s+/).join(' ');

export function sysctlPath(o: SysctlOptions = {}): string {
  const f = o.file ?? '99-drover';
  return f.startsWith('/') ? f : `/etc/sysctl.d/${f}.conf`;
}

/** /proc/sys path of a key: dots become slashes unless the key already uses slashes. */
export function procPath(name: string): string {
  return `/proc/sys/${name.includes('/') ? name : name.replace(/\./g, '/')}`;
}

export function sysctlProbeScript(name: string, path: string, persist: boolean): string {
  return [
    setVar('k', procPath(name)),
    // Every line of the value on one line (norm() then squeezes the blanks), read with
    // builtins: $(cat | tr) cost the host a fork and two execs (~3 ms) per key.
    `if [ -r "$k" ]; then __v=; while IFS= read -r __l || [ -n "$__l" ]; do __v="$__v$__l "; done 2>/dev/null < "$k"; printf 'live=%s\\n' "$__v"; else echo live_missing=1; fi`,
    `if command -v sysctl >/dev/null 2>&1; then echo has_sysctl=1; fi`,
    ...(persist ? [setVar('p', path), fileProbeScript({ follow: true, contentMax: EDIT_MAX_BYTES })] : []),
  ].join('\n');
}

export function parseSysctlState(stdout: string): SysctlState {
  const out = parseProbe(stdout);
  return {
    file: parseFileState(out),
    live: out.kv.has('live_missing') ? null : norm(out.kv.get('live') ?? ''),
    hasSysctl: out.kv.has('has_sysctl'),
  };
}

export function liveCommand(name: string, value: string, hasSysctl: boolean): string {
  return hasSysctl ? `sysctl -w ${quote(`${name}=${value}`)}` : `printf '%s\\n' ${quote(value)} > ${quote(procPath(name))}`;
}

export function decideSysctl(s: SysctlState, a: SysctlArgs): Decision {
  const value = norm(a.value);
  const esc = a.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const d: Decision = a.persist
    ? decideEdit(s.file, (c) => editLine(c, { line: `${a.name} = ${value}`, regexp: new RegExp(`^\\s*${esc}\\s*=`) }), {
        path: a.path,
        create: true,
        removing: false,
        mode: 0o644,
        diff: a.diff,
        preserveOwner: a.preserveOwner,
        describe: () => `persist ${a.name} = ${value} in ${a.path}`,
      })
    : { change: false, commands: [], msg: '' };
  if (d.fail) return d;
  const parts = d.change ? [d.msg] : [];
  if (s.live !== value) {
    if (a.container && !isNamespacedSysctl(a.name)) {
      d.skip = `live value not set: ${a.name} is not namespaced and this host is a container (${a.container})`;
    } else if (s.live === null && a.container) {
      d.skip = `live value not set: ${a.name} does not exist in this container (${a.container})`;
    } else if (s.live === null && !a.check) {
      return { ...d, change: false, fail: `no such sysctl key: ${procPath(a.name)} does not exist`, msg: 'no such key' };
    } else {
      d.commands.push(liveCommand(a.name, value, s.hasSysctl));
      parts.push(`set ${a.name} = ${value} (was ${s.live ?? 'missing'})`);
      d.change = true;
    }
  }
  d.msg = parts.length ? parts.join('; ') : `${a.name} = ${value}`;
  return d;
}

export function sysctl(name: string, value: string | number, opts: SysctlOptions = {}): Op {
  return defineOp(async (ctx) => {
    const path = sysctlPath(opts);
    const persist = opts.persist ?? true;
    const r = await mustProbe(ctx, `probe sysctl ${name}`, sysctlProbeScript(name, path, persist));
    const a: SysctlArgs = {
      name,
      value: String(value),
      path,
      persist,
      // Read only when the live value is to be set: a check of a key already at its value
      // needs no facts (a play with gatherFacts: false), a change without them says so.
      get container() {
        return ctx.facts.container;
      },
      diff: ctx.diff,
      preserveOwner: canChown(ctx),
      check: ctx.check,
    };
    return applyDecision(ctx, decideSysctl(parseSysctlState(r.stdout), a), {
      // A read-only /proc/sys inside a container: the live part is skipped, not a failure.
      tolerate: (res) => {
        const container = ctx.facts.container;
        return container && CONTAINER_DENIED.test(res.stderr) ? `live value not set in container (${container}): ${res.stderr.trim()}` : undefined;
      },
    });
  });
}

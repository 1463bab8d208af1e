// hostname: the live hostname and /etc/hostname. On a systemd host (not a container)
// `hostnamectl set-hostname` does both. In a container, or without systemd, /etc/hostname is
// written and the live name set with `hostname` (or /proc/sys/kernel/hostname); a container
// that forbids it (no CAP_SYS_ADMIN in systemd-nspawn) gets the live part skipped with a reason.
import { quote } from '../shell/quote.ts';
import { CONTAINER_DENIED } from './container.ts';
import { applyDecision, mustFail, type Decision } from './decision.ts';
import { canChown, defineOp, mustProbe } from './exec.ts';
import { fileProbeScript, parseFileState, parseProbe, setVar, type FileState } from './probe.ts';
import type { Op } from './types.ts';
import { decideWrite } from './write.ts';

export interface HostnameState {
  live: string;
  file: FileState;
  hasHostnamectl: boolean;
  hasHostname: boolean;
}

export function hostnameProbeScript(): string {
  return [
    // The read builtin, not $(cat ...): a fork and an exec less on the host.
    `__v=; { IFS= read -r __v < /proc/sys/kernel/hostname; } 2>/dev/null; printf 'live=%s\\n' "$__v"`,
    'if command -v hostnamectl >/dev/null 2>&1; then echo has_hostnamectl=1; fi',
    'if command -v hostname >/dev/null 2>&1; then echo has_hostname=1; fi',
    setVar('p', '/etc/hostname'),
    fileProbeScript({ follow: true, contentMax: 4096 }),
  ].join('\n');
}

export function parseHostnameState(stdout: string): HostnameState {
  const out = parseProbe(stdout);
  return {
    live: (out.kv.get('live') ?? '').trim(),
    file: parseFileState(out),
    hasHostnamectl: out.kv.has('has_hostnamectl'),
    hasHostname: out.kv.has('has_hostname'),
  };
}

export function decideHostname(
  s: HostnameState,
  a: { name: string; systemd: boolean; container: string | null; diff: boolean; preserveOwner: boolean },
): Decision {
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(a.name)) return mustFail(`invalid hostname ${JSON.stringify(a.name)}`);
  const fileOk = s.file.type === 'file' && s.file.content?.trim() === a.name;
  const liveOk = s.live === a.name;
  if (fileOk && liveOk) return { change: false, commands: [], msg: `hostname is ${a.name}` };
  if (a.systemd && !a.container && s.hasHostnamectl) {
    return { change: true, commands: [`hostnamectl set-hostname ${quote(a.name)}`], msg: `set hostname ${a.name} (was ${s.live})` };
  }
  const d: Decision = fileOk
    ? { change: false, commands: [], msg: '' }
    : decideWrite(s.file, { path: '/etc/hostname', content: `${a.name}\n`, mode: 0o644, diff: a.diff, preserveOwner: a.preserveOwner });
  if (d.fail) return d;
  if (!liveOk) {
    d.commands.push(s.hasHostname ? `hostname ${quote(a.name)}` : `printf '%s' ${quote(a.name)} > /proc/sys/kernel/hostname`);
  }
  d.change = true;
  d.msg = [!fileOk ? `write /etc/hostname (${a.name})` : '', !liveOk ? `set live hostname ${a.name} (was ${s.live})` : ''].filter(Boolean).join('; ');
  return d;
}

export function hostname(name: string): Op {
  return defineOp(async (ctx) => {
    const r = await mustProbe(ctx, 'probe hostname', hostnameProbeScript());
    const container = ctx.facts.container;
    const d = decideHostname(parseHostnameState(r.stdout), {
      name,
      systemd: ctx.facts.init === 'systemd',
      container,
      diff: ctx.diff,
      preserveOwner: canChown(ctx),
    });
    return applyDecision(ctx, d, {
      tolerate: (res) =>
        container && CONTAINER_DENIED.test(res.stderr) ? `live hostname not set in container (${container}): ${res.stderr.trim()}` : undefined,
    });
  });
}

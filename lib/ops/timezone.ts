// timezone: /etc/localtime -> /usr/share/zoneinfo/<tz>, and /etc/timezone on Debian-family
// hosts (which read it). Uses `timedatectl set-timezone` on a systemd host that is not a
// container, else links /etc/localtime directly. Probe: one exec.
import { quote } from '../shell/quote.ts';
import { applyDecision, mustFail, type Decision } from './decision.ts';
import { canChown, defineOp, mustProbe } from './exec.ts';
import { fileProbeScript, parseFileState, parseProbe, setVar, type FileState } from './probe.ts';
import type { Op } from './types.ts';
import { decideWrite } from './write.ts';

export interface TimezoneState {
  /** Zone name from the /etc/localtime link ('' when not a zoneinfo link). */
  current: string;
  zoneExists: boolean;
  hasTimedatectl: boolean;
  /** /etc/timezone */
  file: FileState;
}

export function timezoneProbeScript(tz: string): string {
  return [
    `printf 'link=%s\\n' "$(readlink /etc/localtime 2>/dev/null)"`,
    `if [ -f ${quote(`/usr/share/zoneinfo/${tz}`)} ]; then echo zone=1; fi`,
    'if command -v timedatectl >/dev/null 2>&1; then echo has_timedatectl=1; fi',
    setVar('p', '/etc/timezone'),
    fileProbeScript({ follow: true, contentMax: 4096 }),
  ].join('\n');
}

export function parseTimezoneState(stdout: string): TimezoneState {
  const out = parseProbe(stdout);
  const link = out.kv.get('link') ?? '';
  const at = link.indexOf('zoneinfo/');
  return {
    current: at >= 0 ? link.slice(at + 'zoneinfo/'.length) : '',
    zoneExists: out.kv.has('zone'),
    hasTimedatectl: out.kv.has('has_timedatectl'),
    file: parseFileState(out),
  };
}

export function decideTimezone(
  s: TimezoneState,
  a: { tz: string; debian: boolean; systemd: boolean; container: string | null; diff: boolean; preserveOwner: boolean },
): Decision {
  if (!/^[A-Za-z0-9_+\-/]+$/.test(a.tz) || a.tz.includes('..')) return mustFail(`invalid timezone ${JSON.stringify(a.tz)}`);
  // Debian reads /etc/timezone too; elsewhere it is only kept right if it already exists.
  const wantFile = a.debian || s.file.type !== 'absent';
  const d: Decision = wantFile
    ? decideWrite(s.file, { path: '/etc/timezone', content: `${a.tz}\n`, diff: a.diff, preserveOwner: a.preserveOwner, mode: 0o644 })
    : { change: false, commands: [], msg: '' };
  if (d.fail) return d;
  const parts = d.change ? [`write /etc/timezone (${a.tz})`] : [];
  if (s.current !== a.tz) {
    if (!s.zoneExists) return mustFail(`unknown timezone ${a.tz}: /usr/share/zoneinfo/${a.tz} does not exist (is tzdata installed?)`);
    d.commands.push(
      a.systemd && !a.container && s.hasTimedatectl
        ? `timedatectl set-timezone ${quote(a.tz)}`
        : `ln -sfn ${quote(`/usr/share/zoneinfo/${a.tz}`)} /etc/localtime`,
    );
    parts.push(`set timezone ${a.tz} (was ${s.current || 'unset'})`);
    d.change = true;
  }
  d.msg = parts.length ? parts.join('; ') : `timezone is ${a.tz}`;
  return d;
}

export function timezone(tz: string): Op {
  return defineOp(async (ctx) => {
    const r = await mustProbe(ctx, 'probe timezone', timezoneProbeScript(tz));
    const d = decideTimezone(parseTimezoneState(r.stdout), {
      tz,
      debian: ctx.facts.os.family === 'debian',
      systemd: ctx.facts.init === 'systemd',
      container: ctx.facts.container,
      diff: ctx.diff,
      preserveOwner: canChown(ctx),
    });
    return applyDecision(ctx, d);
  });
}

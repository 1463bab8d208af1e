// systemdUnit: a unit file (or drop-in) with this content; `systemctl daemon-reload` when
// it changed so the next start/restart uses it.
import { applyDecision, type Decision } from './decision.ts';
import { canChown, defineOp, mustProbe } from './exec.ts';
import { parseMode } from './mode.ts';
import { DIFF_MAX_BYTES, parseFileState, parseProbe, singleFileProbe, type FileState } from './probe.ts';
import type { Op } from './types.ts';
import { decideWrite } from './write.ts';

export interface SystemdUnitOptions {
  /** Default /etc/systemd/system. */
  dir?: string;
  /** Default 0644. */
  mode?: string | number;
  noLog?: boolean;
}

/** 'k3s' -> 'k3s.service'; a name with a unit suffix or a drop-in path stays as given. */
export function unitPath(name: string, dir = '/etc/systemd/system'): string {
  const n = name.includes('/') || /\.(service|socket|timer|mount|automount|path|target|slice|scope|swap|device)$/.test(name) || name.endsWith('.conf') ? name : `${name}.service`;
  return `${dir.replace(/\/+$/, '')}/${n}`;
}

export function decideSystemdUnit(
  state: FileState,
  a: { path: string; content: string; mode: number; diff: boolean; preserveOwner: boolean; systemd: boolean },
): Decision {
  const d = decideWrite(state, { ...a, mkdirs: true, owner: undefined, group: undefined });
  if (d.change && d.put) {
    if (a.systemd) d.commands.push('systemctl daemon-reload');
    else d.skip = 'daemon-reload skipped: init is not systemd';
  }
  return d;
}

export function systemdUnit(name: string, content: string, opts: SystemdUnitOptions = {}): Op {
  return defineOp(async (ctx) => {
    const path = unitPath(name, opts.dir);
    const diff = ctx.diff && !opts.noLog;
    const r = await mustProbe(ctx, `probe ${path}`, singleFileProbe(path, { contentMax: diff ? DIFF_MAX_BYTES : false }));
    const d = decideSystemdUnit(parseFileState(parseProbe(r.stdout)), {
      path,
      content,
      mode: parseMode(opts.mode) ?? 0o644,
      diff,
      preserveOwner: canChown(ctx),
      systemd: ctx.facts.init === 'systemd',
    });
    return applyDecision(ctx, { ...d, data: { path } }, { noLog: opts.noLog });
  });
}

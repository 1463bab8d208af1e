// service: a systemd unit started/stopped/restarted/reloaded and enabled or not.
// Probe: one exec of `systemctl show` (load/active state) + `systemctl is-enabled`.
// Works the same inside a systemd container (systemd-nspawn boots a real systemd).
import { quote } from '../shell/quote.ts';
import { applyDecision, mustFail, noChange, type Decision } from './decision.ts';
import { defineOp, mustRun } from './exec.ts';
import { parseProbe } from './probe.ts';
import type { Op } from './types.ts';

export interface ServiceOptions {
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: boolean;
}

export interface ServiceState {
  /** loaded, not-found, masked, error ... */
  load: string;
  /** active, inactive, failed, activating, deactivating, reloading */
  active: string;
  /** is-enabled output: enabled, disabled, static, masked, indirect, generated, ... ('' when unknown) */
  enabled: string;
}

export function serviceProbeScript(unit: string): string {
  const u = quote(unit);
  return [
    `systemctl show -p LoadState -p ActiveState ${u} | sed -n 's/^LoadState=/load=/p;s/^ActiveState=/active=/p'`,
    `printf 'enabled=%s\\n' "$(systemctl is-enabled ${u} 2>/dev/null)"`,
  ].join('\n');
}

export function parseServiceState(stdout: string): ServiceState {
  const { kv } = parseProbe(stdout);
  return { load: kv.get('load') ?? '', active: kv.get('active') ?? '', enabled: (kv.get('enabled') ?? '').trim() };
}

const RUNNING = new Set(['active', 'activating', 'reloading']);
/** States that need no `enable` (static/indirect/generated units cannot be enabled). */
const ENABLED = new Set(['enabled', 'enabled-runtime', 'static', 'indirect', 'generated', 'alias']);
const DISABLEABLE = new Set(['enabled', 'enabled-runtime', 'alias', 'linked', 'linked-runtime']);

export function decideService(s: ServiceState, unit: string, o: ServiceOptions, check = false): Decision {
  const u = quote(unit);
  const commands: string[] = [];
  const what: string[] = [];
  if (s.load === '') return mustFail(`systemctl show ${unit} printed no state (is systemd running?)`);
  if (s.load === 'not-found') {
    // In check mode an earlier task (a unit file) would have created it: report what would run.
    if (!check) return mustFail(`unit ${unit} not found`);
    if (o.enabled === true) commands.push(`systemctl enable ${u}`);
    if (o.state && o.state !== 'stopped') commands.push(`systemctl ${o.state === 'reloaded' ? 'start' : o.state.replace(/ed$/, '')} ${u}`);
    if (!commands.length) return noChange(`unit ${unit} not found`);
    return { change: true, commands, msg: `${commands.map((c) => c.split(' ')[1]).join(' and ')} ${unit} (unit not found yet)` };
  }
  if (s.load === 'masked' && (o.enabled === true || (o.state && o.state !== 'stopped'))) return mustFail(`unit ${unit} is masked`);
  const running = RUNNING.has(s.active);
  const act = (verb: string) => {
    commands.push(`systemctl ${verb} ${u}`);
    what.push(verb);
  };
  if (o.enabled === true && !ENABLED.has(s.enabled)) act('enable');
  else if (o.enabled === false && DISABLEABLE.has(s.enabled)) act('disable');
  if (o.state === 'started' && !running) act('start');
  else if (o.state === 'stopped' && running) act('stop');
  else if (o.state === 'restarted') act('restart');
  // Ansible's reloaded: start a stopped service, reload a running one.
  else if (o.state === 'reloaded') act(running ? 'reload' : 'start');
  if (!commands.length) return noChange(`${unit} is ${s.active}${s.enabled ? `, ${s.enabled}` : ''}`);
  return { change: true, commands, msg: `${what.join(' and ')} ${unit}` };
}

export function service(name: string, opts: ServiceOptions = {}): Op {
  return defineOp(async (ctx) => {
    if (ctx.facts.init !== 'systemd') return applyDecision(ctx, mustFail(`service: needs systemd (init is ${ctx.facts.init})`));
    const r = await mustRun(ctx, `probe ${name}`, serviceProbeScript(name));
    return applyDecision(ctx, decideService(parseServiceState(r.stdout), name, opts, ctx.check));
  });
}

// Role keepalived: the VRRP pair that holds the API and web VIPs on whichever load balancer
// has a healthy haproxy (seed 004: loadbalancer1 MASTER 150, loadbalancer2 BACKUP 100).
// One vrrp_instance carries every VIP: they front the same haproxy, so they fail over together.
// The config is checked with `keepalived -t` on the temp file before it replaces the live one;
// a change reloads keepalived (SIGHUP: the VIPs stay where they are, no failover flap).
import { ops } from '../../lib/ops/index.ts';
import { failed, type OpResult } from '../../lib/ops/types.ts';
import { defineRole, type HostCtx, type Task } from '../../lib/run/types.ts';
import { keepalivedModel, ModelError } from './model.ts';
import { maskKeepalivedSecrets, renderKeepalivedConfig } from './templates.ts';
import { keepalivedVars, type KeepalivedVars } from './vars.ts';

export { keepalivedVars, type KeepalivedVars, type Vip } from './vars.ts';
export { renderKeepalivedConfig, maskKeepalivedSecrets, type KeepalivedConfigInput } from './templates.ts';
export { keepalivedModel, interfaceFor, initialState, ownAddress, priorityOf, subnetPrefix, ModelError, CHECK_NAME } from './model.ts';

type Ctx = HostCtx<KeepalivedVars>;

export const KEEPALIVED_SERVICE = 'keepalived';
export const RELOAD_HANDLER = 'reload keepalived';
/** keepalived 2.x (bookworm: 2.2.7) exits non-zero (5) when the config has errors. */
export const KEEPALIVED_VALIDATE = 'keepalived -t -f %s';

/**
 * Write the config. It holds the VRRP password: written with noLog, and under --diff the
 * diff is rebuilt here with auth_pass masked.
 */
export async function writeConfig(ctx: Ctx): Promise<OpResult> {
  const v = ctx.vars;
  let content: string;
  try {
    content = renderKeepalivedConfig(keepalivedModel({ host: ctx.host, vars: v, lookup: ctx, facts: ctx.facts }));
  } catch (e) {
    if (e instanceof ModelError) return failed(e.message);
    throw e;
  }
  // The current file ('' when absent), read only for --diff: a probe, so it runs in --check.
  const current = ctx.diff ? await ctx.$.read`if [ -f ${v.keepalived_config_path} ]; then cat ${v.keepalived_config_path}; fi`.nothrow() : undefined;
  const before = current && (current.ok ? current.stdout : '');
  const r = await ctx.run(
    ops.file(v.keepalived_config_path, content, { mode: '0600', owner: 'root', group: 'root', validate: KEEPALIVED_VALIDATE, noLog: true }),
  );
  if (before !== undefined && r.status === 'changed' && before !== content) {
    const secrets = v.keepalived_auth_pass ? [v.keepalived_auth_pass] : [];
    return { ...r, diff: [{ path: v.keepalived_config_path, before: maskKeepalivedSecrets(before, secrets), after: maskKeepalivedSecrets(content, secrets) }] };
  }
  return r;
}

const noPackages = (ctx: Ctx) => (ctx.facts.pkgManager === 'none' ? `no package manager on ${ctx.facts.os.id}: keepalived cannot be installed` : true);

const tasks: Task<KeepalivedVars>[] = [
  {
    name: 'keepalived package',
    when: noPackages,
    // The index is refreshed only when the package is missing, and then always.
    run: (ctx) => ctx.run(ops.packages([ctx.vars.keepalived_package], { updateCache: true, cacheValidTime: 0 })),
  },
  {
    name: 'keepalived.conf (validated with keepalived -t)',
    when: noPackages,
    notify: RELOAD_HANDLER,
    run: writeConfig,
  },
  {
    name: 'keepalived running and enabled',
    when: noPackages,
    run: (ctx) => ctx.run(ops.service(KEEPALIVED_SERVICE, { state: 'started', enabled: true })),
  },
];

export const keepalivedRole = defineRole({
  name: 'keepalived',
  // Its tasks do their I/O through ops: the next tasks' probes may be read ahead in one round trip.
  readAhead: true,
  vars: keepalivedVars,
  tasks,
  handlers: [
    {
      name: RELOAD_HANDLER,
      // SIGHUP re-reads the config; a stopped service is started instead.
      run: (ctx) => ctx.run(ops.service(KEEPALIVED_SERVICE, { state: 'reloaded' })),
    },
  ],
});

export default keepalivedRole;

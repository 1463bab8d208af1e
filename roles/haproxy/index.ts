// Role haproxy: the L4 load balancer in front of the cluster (seeds 001 and 004): the K3s API
// (6443 -> masters) and ingress (80/443 -> workers) passed through as TCP with health checks,
// plus a stats page behind a password. The config is checked by `haproxy -c` on the temp file
// before it replaces the live one, and a change RELOADS haproxy (no dropped connections).
import { ops } from '../../lib/ops/index.ts';
import { failed, type OpResult } from '../../lib/ops/types.ts';
import { defineRole, type HostCtx, type Task } from '../../lib/run/types.ts';
import { EmptyGroupError, haproxyModel } from './backends.ts';
import { maskHaproxySecrets, renderHaproxyConfig } from './templates.ts';
import { haproxyVars, type HaproxyVars } from './vars.ts';

export { haproxyVars, type HaproxyVars } from './vars.ts';
export { renderHaproxyConfig, maskHaproxySecrets, type HaproxyConfigInput } from './templates.ts';
export { haproxyModel, groupServers, EmptyGroupError } from './backends.ts';

type Ctx = HostCtx<HaproxyVars>;

export const HAPROXY_SERVICE = 'haproxy';
export const RELOAD_HANDLER = 'reload haproxy';
/** `%s` is the temp file: a config that does not parse never replaces the live one. */
export const HAPROXY_VALIDATE = 'haproxy -c -f %s';

/**
 * Write the config. The file holds the stats password, so the write runs with noLog (no
 * content anywhere in the result) and, under --diff, the diff is rebuilt here with the
 * credentials masked: it never depends on the redaction registry catching the value.
 */
export async function writeConfig(ctx: Ctx): Promise<OpResult> {
  const v = ctx.vars;
  let content: string;
  try {
    content = renderHaproxyConfig(haproxyModel(v, ctx));
  } catch (e) {
    if (e instanceof EmptyGroupError) return failed(e.message);
    throw e;
  }
  // The current file ('' when absent), read only for --diff: a probe, so it runs in --check.
  const current = ctx.diff ? await ctx.$.read`if [ -f ${v.haproxy_config_path} ]; then cat ${v.haproxy_config_path}; fi`.nothrow() : undefined;
  const before = current && (current.ok ? current.stdout : '');
  const r = await ctx.run(
    ops.file(v.haproxy_config_path, content, { mode: '0640', owner: 'root', group: 'haproxy', validate: HAPROXY_VALIDATE, noLog: true }),
  );
  if (before !== undefined && r.status === 'changed' && before !== content) {
    const secrets = v.haproxy_stats_password ? [v.haproxy_stats_password] : [];
    return { ...r, diff: [{ path: v.haproxy_config_path, before: maskHaproxySecrets(before, secrets), after: maskHaproxySecrets(content, secrets) }] };
  }
  return r;
}

/** Where to probe the API frontend after a reload. */
export function probeAddress(bind: string): string {
  if (bind === '*' || bind === '0.0.0.0') return '127.0.0.1';
  if (bind === '::') return '::1';
  return bind;
}

const noPackages = (ctx: Ctx) => (ctx.facts.pkgManager === 'none' ? `no package manager on ${ctx.facts.os.id}: haproxy cannot be installed` : true);

const tasks: Task<HaproxyVars>[] = [
  {
    name: 'haproxy package',
    when: noPackages,
    // The index is refreshed only when the package is missing, and then always.
    run: (ctx) => ctx.run(ops.packages([ctx.vars.haproxy_package], { updateCache: true, cacheValidTime: 0 })),
  },
  {
    name: 'haproxy.cfg (validated with haproxy -c)',
    when: noPackages,
    notify: RELOAD_HANDLER,
    run: writeConfig,
  },
  {
    name: 'haproxy running and enabled',
    when: noPackages,
    run: (ctx) => ctx.run(ops.service(HAPROXY_SERVICE, { state: 'started', enabled: true })),
  },
];

export const haproxyRole = defineRole({
  name: 'haproxy',
  // Its tasks do their I/O through ops: the next tasks' probes may be read ahead in one round trip.
  readAhead: true,
  vars: haproxyVars,
  tasks,
  handlers: [
    {
      name: RELOAD_HANDLER,
      // Reload (SIGUSR2 to the master): new workers take the new config, established
      // connections finish on the old ones; then the API frontend must accept again.
      run: (ctx) =>
        ctx.run(
          ops.seq(
            ops.service(HAPROXY_SERVICE, { state: 'reloaded' }),
            ops.waitFor.port(probeAddress(ctx.vars.haproxy_bind_address), ctx.vars.haproxy_api_port, { timeoutMs: 15_000, intervalMs: 250 }),
          ),
        ),
    },
  ],
});

export default haproxyRole;

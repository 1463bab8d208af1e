// Role k3s-master: K3s servers with embedded etcd behind the API VIP (seed 004). The first
// server of the group bootstraps (cluster-init); every other one joins through the VIP. Run it
// with `serial: 1` (playbooks/plays/k3s.ts): each server is installed or restarted, then waits
// until it is ready (and, joining, an etcd voter) before the next one is touched, so a roll
// never takes two servers down at once and stops at the first server that does not come back.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ops } from '../../lib/ops/index.ts';
import { failed, ok, type OpResult } from '../../lib/ops/types.ts';
import { defineRole, type HostCtx, type Task } from '../../lib/run/types.ts';
import { installK3s, linkTools } from './install.ts';
import { serverGate, startOrRestart } from './lifecycle.ts';
import { CLUSTER_URL, checkCluster, clusterOf, isFirstServer, serverConfig, type K3sCluster, type K3sNode } from './model.ts';
import { ADMIN_KUBECONFIG, CONFIG_PATH, controllerKubeconfig, envFile, K3S_BIN, maskConfig, renderConfig, renderEnv, renderUnit, unitFile, unitName } from './templates.ts';
import { readServerToken, TOKEN_REGISTER, tokenFor } from './token.ts';
import { apiVip, k3sVars, timeoutSec, type K3sVars } from './vars.ts';

export { k3sVars, type K3sVars } from './vars.ts';
export { k3sResetRole } from './reset.ts';

type Ctx = HostCtx<K3sVars>;

/** Registered results of the tasks whose change needs a restart. */
export const RESTART_INPUTS = { k3s_binary: K3S_BIN, k3s_config: CONFIG_PATH, k3s_env: 'env file', k3s_unit: 'unit' } as const;

/** The cluster as this host's vars and the inventory describe it. */
export function clusterFor(ctx: Ctx): K3sCluster {
  return clusterOf(ctx.vars, ctx, (raw) => k3sVars.parse(raw));
}

export function thisNode(ctx: Ctx, cl: K3sCluster = clusterFor(ctx)): K3sNode {
  const n = [...cl.servers, ...cl.agents].find((x) => x.host === ctx.host);
  if (!n) throw new Error(`${ctx.host} is in neither ${ctx.vars.k3s_server_group} nor ${ctx.vars.k3s_agent_group}`);
  return n;
}

export const firstServer = (ctx: Ctx): string => clusterFor(ctx).servers[0]!.host;

/** What changed in this run among the restart inputs (by registered result). */
export function changedInputs(ctx: Ctx): string[] {
  return Object.entries(RESTART_INPUTS)
    .filter(([reg]) => ctx.registered[reg]?.status === 'changed')
    .map(([, what]) => what);
}

/**
 * Write a config.yaml (0600, holds the token): noLog, and under --diff a diff rebuilt here
 * with the token masked, so the diff never depends on the redaction registry.
 */
export async function writeK3sConfig(ctx: Ctx, content: string): Promise<OpResult> {
  let before: string | undefined;
  if (ctx.diff) {
    const cur = await ctx.$.read`if [ -f ${CONFIG_PATH} ]; then cat ${CONFIG_PATH}; fi`.quiet().nothrow();
    before = cur.ok ? cur.stdout : '';
  }
  const r = await ctx.run(ops.file(CONFIG_PATH, content, { mode: '0600', owner: 'root', group: 'root', noLog: true }));
  if (before !== undefined && r.status === 'changed' && before !== content) {
    return { ...r, diff: [{ path: CONFIG_PATH, before: maskConfig(before), after: maskConfig(content) }] };
  }
  return r;
}

/** Default controller path of the kubeconfig: ~/.kube/<cluster>.yaml. */
export const kubeconfigPath = (v: K3sVars): string => v.k3s_kubeconfig_path ?? join(homedir(), '.kube', `${v.k3s_cluster_name}.yaml`);

const unsafe = (ctx: Ctx) => ctx.vars.k3s_test_unsafe_roll;

const tasks: Task<K3sVars>[] = [
  { name: 'K3s binary (pinned version, checksum verified)', register: 'k3s_binary', run: installK3s },
  { name: 'kubectl, crictl, ctr links', when: (ctx) => ctx.vars.k3s_symlinks || 'k3s_symlinks is false', run: linkTools },
  {
    name: 'cluster token from the first server',
    when: (ctx) => (ctx.vars.k3s_token ? 'k3s_token is set' : isFirstServer(clusterFor(ctx), ctx.host) ? 'this is the first server: K3s generates the token' : true),
    delegateTo: firstServer,
    register: TOKEN_REGISTER,
    run: readServerToken,
  },
  {
    name: 'config.yaml',
    register: 'k3s_config',
    run: (ctx) => {
      const cl = clusterFor(ctx);
      const first = isFirstServer(cl, ctx.host);
      const token = tokenFor(ctx);
      if (!first && !token) return failed('no cluster token: set k3s_token, or install the first server first (its token file is read)');
      return writeK3sConfig(ctx, renderConfig(serverConfig(thisNode(ctx, cl), { first, ...(token ? { token } : {}) }), 'k3s-master'));
    },
  },
  {
    name: 'k3s.service.env',
    register: 'k3s_env',
    run: (ctx) => ctx.run(ops.file(envFile('server'), renderEnv(ctx.vars.k3s_service_env, 'k3s-master'), { mode: '0600', owner: 'root', group: 'root', noLog: true })),
  },
  { name: 'k3s.service', register: 'k3s_unit', run: (ctx) => ctx.run(ops.systemdUnit(`${unitName('server')}.service`, renderUnit('server'))) },
  { name: 'k3s enabled', run: (ctx) => ctx.run(ops.service(unitName('server'), { enabled: true })) },
  {
    name: 'k3s started (restarted only when its binary, config or unit changed)',
    run: (ctx) => startOrRestart(ctx, unitName('server'), [K3S_BIN, CONFIG_PATH, envFile('server'), unitFile('server')], changedInputs(ctx)),
  },
  {
    name: 'k3s ready (joining: an etcd voter) before the next server',
    when: (ctx) => !unsafe(ctx) || 'k3s_test_unsafe_roll is on (TEST ONLY): no readiness gate',
    run: (ctx) => {
      const cl = clusterFor(ctx);
      const node = thisNode(ctx, cl);
      return serverGate(ctx, { unit: unitName('server'), node: node.name, voter: !isFirstServer(cl, ctx.host), limitSec: timeoutSec(ctx.vars) });
    },
  },
  {
    name: 'kubeconfig on the controller (server: the VIP)',
    when: (ctx) => isFirstServer(clusterFor(ctx), ctx.host) || 'only fetched from the first server',
    run: (ctx) =>
      ctx.run(
        ops.fetch(ADMIN_KUBECONFIG, kubeconfigPath(ctx.vars), {
          mode: 0o600,
          noLog: true,
          failOnMissing: !ctx.check,
          transform: (b) => controllerKubeconfig(b.toString('utf8'), { server: CLUSTER_URL(ctx.vars), name: ctx.vars.k3s_cluster_name }),
        }),
      ),
  },
];

export const k3sMasterRole = defineRole({
  name: 'k3s-master',
  // Its tasks do their I/O through ops and ctx.$ (probes through $.read): probes may be read ahead.
  readAhead: true,
  vars: k3sVars,
  tasks,
});

/**
 * Checks made once, before any K3s host is touched: the cluster plan (unique node names,
 * critical values identical on every server, one VIP, one token, odd server count), then the
 * API VIP answering on its port (HAProxy behind keepalived; TCP, as HAProxy checks K3s).
 */
export const k3sPreflightRole = defineRole({
  name: 'k3s-preflight',
  vars: k3sVars,
  tasks: [
    {
      name: 'cluster plan (node names, critical values, VIP, token)',
      runOnce: true,
      run: (ctx) => {
        let cl: K3sCluster;
        try {
          cl = clusterFor(ctx);
        } catch (e) {
          return failed(`cannot read the cluster from the inventory: ${e instanceof Error ? e.message : String(e)}`);
        }
        const { errors, warnings } = checkCluster(cl);
        if (errors.length) return failed(errors.join('; '));
        const plan = `${cl.servers.length} servers (${cl.servers[0]!.host} bootstraps, then ${cl.servers.slice(1).map((s) => s.host).join(', ') || 'none'} one at a time), ${cl.agents.length} agents, API ${CLUSTER_URL(ctx.vars)}`;
        return ok(warnings.length ? `${plan}; warning: ${warnings.join('; ')}` : plan);
      },
    },
    {
      name: 'API VIP answers',
      runOnce: true,
      run: async (ctx) => {
        const r = await ctx.run(ops.waitFor.port(apiVip(ctx.vars), ctx.vars.k3s_api_port, { timeoutMs: 30_000, intervalMs: 500 }));
        return r.status === 'ok' ? { ...r, msg: `${apiVip(ctx.vars)}:${ctx.vars.k3s_api_port} accepts connections` } : r;
      },
    },
  ],
});

export default k3sMasterRole;

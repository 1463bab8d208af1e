// Role k3s-worker: K3s agents (seed 004's workers) registering through the API VIP with the
// cluster token. Everything that can hang is bounded: the VIP must answer before the agent
// starts, the start is --no-block and the wait for READY has a deadline; a wrong token or an
// unreachable VIP ends as a failed task with the reason (the unit's own journal lines), never
// a hang. The node's registration is then checked on the first server.
import { ops } from '../../lib/ops/index.ts';
import { failed, type OpResult } from '../../lib/ops/types.ts';
import { defineRole, type HostCtx, type Task } from '../../lib/run/types.ts';
import { changedInputs, clusterFor, firstServer, thisNode, writeK3sConfig } from '../k3s-master/index.ts';
import { installK3s, linkTools } from '../k3s-master/install.ts';
import { agentGate, NODE_REGISTERED_SCRIPT, runGate, startOrRestart } from '../k3s-master/lifecycle.ts';
import { agentConfig } from '../k3s-master/model.ts';
import { CONFIG_PATH, envFile, K3S_BIN, renderConfig, renderEnv, renderUnit, unitFile, unitName } from '../k3s-master/templates.ts';
import { readServerToken, TOKEN_REGISTER, tokenFor } from '../k3s-master/token.ts';
import { apiVip, k3sVars, timeoutSec, type K3sVars } from '../k3s-master/vars.ts';

export { k3sVars, type K3sVars } from '../k3s-master/vars.ts';

type Ctx = HostCtx<K3sVars>;

const AGENT = unitName('agent');

/** On the first server, on this agent's behalf: its Node object exists (Ready is not awaited: no CNI yet). */
function nodeRegistered(ctx: Ctx): Promise<OpResult> {
  const node = thisNode(ctx).name;
  const limit = timeoutSec(ctx.vars);
  return runGate(ctx, `node ${node} registered`, NODE_REGISTERED_SCRIPT, (l) => [K3S_BIN, node, l], limit);
}

const tasks: Task<K3sVars>[] = [
  { name: 'K3s binary (pinned version, checksum verified)', register: 'k3s_binary', run: installK3s },
  { name: 'kubectl, crictl, ctr links', when: (ctx) => ctx.vars.k3s_symlinks || 'k3s_symlinks is false', run: linkTools },
  {
    name: 'cluster token from the first server',
    when: (ctx) => !ctx.vars.k3s_token || 'k3s_token is set',
    delegateTo: firstServer,
    register: TOKEN_REGISTER,
    run: readServerToken,
  },
  {
    name: 'config.yaml',
    register: 'k3s_config',
    run: (ctx) => {
      const token = tokenFor(ctx);
      if (!token) return failed('no cluster token: set k3s_token, or install the servers first (the first server\'s token file is read)');
      return writeK3sConfig(ctx, renderConfig(agentConfig(thisNode(ctx), { token }), 'k3s-worker'));
    },
  },
  {
    name: 'k3s-agent.service.env',
    register: 'k3s_env',
    run: (ctx) => ctx.run(ops.file(envFile('agent'), renderEnv(ctx.vars.k3s_service_env, 'k3s-worker'), { mode: '0600', owner: 'root', group: 'root', noLog: true })),
  },
  { name: 'k3s-agent.service', register: 'k3s_unit', run: (ctx) => ctx.run(ops.systemdUnit(`${AGENT}.service`, renderUnit('agent'))) },
  { name: 'k3s-agent enabled', run: (ctx) => ctx.run(ops.service(AGENT, { enabled: true })) },
  {
    // Before the start: an agent pointed at a dead VIP would sit in `activating` forever.
    name: 'API VIP reachable from this agent',
    run: async (ctx) => {
      const r = await ctx.run(ops.waitFor.port(apiVip(ctx.vars), ctx.vars.k3s_api_port, { timeoutMs: 15_000, intervalMs: 500 }));
      return r.status === 'ok' ? { ...r, msg: `${apiVip(ctx.vars)}:${ctx.vars.k3s_api_port} accepts connections` } : r;
    },
  },
  {
    name: 'k3s-agent started (restarted only when its binary, config or unit changed)',
    run: (ctx) => startOrRestart(ctx, AGENT, [K3S_BIN, CONFIG_PATH, envFile('agent'), unitFile('agent')], changedInputs(ctx)),
  },
  {
    name: 'k3s-agent joined (READY)',
    when: (ctx) => !ctx.vars.k3s_test_unsafe_roll || 'k3s_test_unsafe_roll is on (TEST ONLY): no readiness gate',
    run: (ctx) => agentGate(ctx, { unit: AGENT, limitSec: timeoutSec(ctx.vars) }),
  },
  {
    name: 'node registered (checked on the first server)',
    when: (ctx) => !ctx.vars.k3s_test_unsafe_roll || 'k3s_test_unsafe_roll is on (TEST ONLY): no readiness gate',
    delegateTo: firstServer,
    run: nodeRegistered,
  },
];

export const k3sWorkerRole = defineRole({
  name: 'k3s-worker',
  readAhead: true,
  vars: k3sVars,
  tasks,
});

export default k3sWorkerRole;


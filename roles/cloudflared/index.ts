// Role cloudflared: a Cloudflare Tunnel run inside the cluster as a Deployment (seed 000),
// delivered as one manifest in the first K3s server's auto-deploy folder. The ingress rules
// are checked as `cloudflared tunnel ingress validate` checks them (ingress.ts) before the host
// is touched; the token or credentials are secret(): written only into the 0600 manifest,
// never into a result, diff, log or event.
import { ops } from '../../lib/ops/index.ts';
import { failed, type OpResult } from '../../lib/ops/types.ts';
import { defineRole, type HostCtx, type Task } from '../../lib/run/types.ts';
import { cloudflaredObjects } from './model.ts';
import { maskManifestSecrets, renderManifest } from './templates.ts';
import { cloudflaredVars, type CloudflaredVars } from './vars.ts';

export { cloudflaredVars, type CloudflaredVars, CLOUDFLARED_DEFAULT_IMAGE, ORIGIN_REQUEST_KEYS, parseCredentials, parseTunnelToken } from './vars.ts';
export { cloudflaredObjects, tunnelConfig, renderTunnelConfig, ingressRules, type CloudflaredObjects, type K8sObject, CONFIG_FILE, CREDS_FILE } from './model.ts';
export { renderManifest, maskManifestSecrets, CLOUDFLARED_HEADER } from './templates.ts';
export {
  validateIngress,
  validateHostname,
  withCatchAll,
  isCatchAll,
  findMatchingRule,
  goUrlParse,
  goSplitHostPortOk,
  IngressError,
  VALIDATION_FAILED,
  type IngressRule,
} from './ingress.ts';

type Ctx = HostCtx<CloudflaredVars>;

/** The AddOn name K3s gives the file (RFC 1123). */
export const MANIFEST_NAME = 'cloudflared.yaml';
export const manifestPath = (v: CloudflaredVars) => `${v.cloudflared_manifests_dir}/${MANIFEST_NAME}`;

/** The K3s servers' group: cloudflared_servers_group, else k3s_server_group, else masters. */
export function serversGroup(v: CloudflaredVars, hostVars: Readonly<Record<string, unknown>>): string {
  const g = hostVars.k3s_server_group;
  return v.cloudflared_servers_group ?? (typeof g === 'string' && g.trim() ? g.trim() : 'masters');
}

const onFirstServer = (ctx: Ctx): true | string => {
  const group = serversGroup(ctx.vars, ctx.hostVars);
  const first = ctx.hostsOf(group)[0];
  if (first === undefined) return true; // the task fails with the reason
  return first === ctx.host || `the manifest goes to the first server of ${group} (${first}) only`;
};

/**
 * Write the manifest. It holds the tunnel secret: written with noLog (no content in any
 * result), and under --diff the diff is rebuilt here with every Secret value masked.
 */
export async function writeManifest(ctx: Ctx): Promise<OpResult> {
  const v = ctx.vars;
  const group = serversGroup(v, ctx.hostVars);
  if (!ctx.hostsOf(group).length) return failed(`inventory group "${group}" (cloudflared_servers_group) has no hosts: no K3s server to deploy the tunnel through`);
  const content = renderManifest(cloudflaredObjects(v));
  const path = manifestPath(v);
  // quiet: the old file holds the secret too; it must not reach the -v log.
  const before = ctx.diff ? (await ctx.$.read`if [ -f ${path} ]; then cat ${path}; fi`.quiet().nothrow()).stdout : undefined;
  const r = await ctx.run(
    ops.seq(
      ops.directory(v.cloudflared_manifests_dir, { mode: '0700', owner: 'root', group: 'root' }),
      ops.file(path, content, { mode: '0600', owner: 'root', group: 'root', noLog: true }),
    ),
  );
  if (before !== undefined && r.status === 'changed' && before !== content) {
    return { ...r, diff: [{ path, before: maskManifestSecrets(before), after: maskManifestSecrets(content) }] };
  }
  return r;
}

const tasks: Task<CloudflaredVars>[] = [
  {
    name: 'cloudflared manifest (Namespace, Secret, ConfigMap, Deployment, PodDisruptionBudget)',
    when: onFirstServer,
    run: writeManifest,
  },
];

export const cloudflaredRole = defineRole({
  name: 'cloudflared',
  readAhead: true,
  vars: cloudflaredVars,
  tasks,
});

export default cloudflaredRole;

// Role cilium: Cilium as K3s's CNI (seed 000: kube-proxy replacement, Hubble, optional
// ClusterMesh), installed the K3s way: a HelmChart manifest in the first server's auto-deploy
// folder, which K3s's helm-controller installs with a bootstrap job (there is no pod network
// before Cilium runs). Before anything is written, the values are cross-checked against every
// K3s server's settings (disable-kube-proxy, flannel-backend none, disable-network-policy) and
// the API endpoint; then the last task waits, bounded, until Cilium and the nodes are Ready.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ops } from '../../lib/ops/index.ts';
import { describeFailure } from '../../lib/ops/shell.ts';
import { failed, ok, skipped, type OpResult } from '../../lib/ops/types.ts';
import { defineRole, type HostCtx, type Task } from '../../lib/run/types.ts';
import { k3sVars } from '../k3s-master/vars.ts';
import { chartArchiveMeta } from './chart-archive.ts';
import { CILIUM_CHART_KEYS_VERSION } from './chart-keys.ts';
import {
  apiEndpoint,
  checkAgainstK3s,
  ciliumHelmChart,
  ciliumValues,
  CiliumModelError,
  K3S_VARS,
  serversGroup,
  unknownTopLevelKeys,
  type ChartSource,
  type K3sServerNet,
} from './model.ts';
import { helmChartNote, nodeProblems } from './readiness.ts';
import { renderManifest, renderValues } from './templates.ts';
import { ciliumVars, type CiliumVars } from './vars.ts';

export { ciliumVars, type CiliumVars, CILIUM_DEFAULT_VERSION } from './vars.ts';
export {
  apiEndpoint,
  checkAgainstK3s,
  checkApiEndpoint,
  ciliumHelmChart,
  ciliumValues,
  CiliumModelError,
  deepMerge,
  K3S_VARS,
  serversGroup,
  unknownTopLevelKeys,
  type ChartSource,
  type K3sServerNet,
  type Values,
} from './model.ts';
export { renderManifest, renderValues, CILIUM_HEADER } from './templates.ts';
export { chartArchiveMeta } from './chart-archive.ts';
export { CILIUM_CHART_KEYS, CILIUM_CHART_KEYS_VERSION } from './chart-keys.ts';
export { helmChartNote, nodeProblems } from './readiness.ts';

type Ctx = HostCtx<CiliumVars>;

/** The manifest's name is the AddOn's name: RFC 1123, no underscores. */
export const MANIFEST_NAME = 'cilium.yaml';

/**
 * A K3s server's network settings from its merged variables, read through the k3s-master
 * schema's own fields, so an unset variable takes the default k3s-master would use.
 */
export function serverNet(host: string, vars: Readonly<Record<string, unknown>>): K3sServerNet | string {
  const fields = {
    disableKubeProxy: [K3S_VARS.disableKubeProxy, k3sVars.shape.k3s_disable_kube_proxy],
    flannelBackend: [K3S_VARS.flannelBackend, k3sVars.shape.k3s_flannel_backend],
    disableNetworkPolicy: [K3S_VARS.disableNetworkPolicy, k3sVars.shape.k3s_disable_network_policy],
  } as const;
  const out: Record<string, unknown> = { host };
  for (const [key, [name, schema]] of Object.entries(fields)) {
    const r = schema.safeParse(vars[name]);
    if (!r.success) return `${host}: ${name}: ${r.error.issues[0]?.message ?? 'invalid'}`;
    out[key] = r.data;
  }
  return out as unknown as K3sServerNet;
}

export const manifestPath = (v: CiliumVars) => `${v.cilium_manifests_dir}/${MANIFEST_NAME}`;
export const staticChartName = (v: CiliumVars) => `cilium-${v.cilium_version}.tgz`;
export const staticChartPath = (v: CiliumVars) => `${v.cilium_static_dir}/charts/${staticChartName(v)}`;

/** The chart archive from the controller, checked to be the pinned Cilium chart. */
export async function readChartFile(v: CiliumVars): Promise<Buffer | Error> {
  const path = v.cilium_chart_file;
  if (path === undefined) return new Error('cilium_chart_file is not set');
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    return new Error(`cilium_chart_file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const meta = chartArchiveMeta(buf);
  if (meta instanceof Error) return new Error(`cilium_chart_file ${basename(path)}: ${meta.message}`);
  if (meta.name !== 'cilium' || meta.version !== v.cilium_version) {
    return new Error(`cilium_chart_file ${basename(path)} holds chart ${meta.name} ${meta.version}, but cilium_version is ${v.cilium_version}`);
  }
  return buf;
}

export interface ManifestPlan {
  content: string;
  /** Notes for the task message (e.g. a check that could not run). */
  notes: string[];
}

/**
 * Everything the manifest task decides, without touching a host: the API endpoint, the values,
 * the cross-checks against every server of the group, the chart source. Errors are collected
 * and returned together, so one run names every inconsistency.
 */
export async function planManifest(
  v: CiliumVars,
  look: { hostVars: Readonly<Record<string, unknown>>; servers: readonly string[]; varsOf: (h: string) => Readonly<Record<string, unknown>> },
): Promise<ManifestPlan | Error> {
  const errors: string[] = [];
  const notes: string[] = [];
  let values;
  try {
    values = ciliumValues(v, apiEndpoint(v, look.hostVars));
  } catch (e) {
    if (e instanceof CiliumModelError) return e;
    throw e;
  }
  if (v.cilium_version === CILIUM_CHART_KEYS_VERSION) errors.push(...unknownTopLevelKeys(v.cilium_values_extra));
  else if (Object.keys(v.cilium_values_extra).length) notes.push(`cilium_values_extra keys not checked: the key list is for chart ${CILIUM_CHART_KEYS_VERSION}`);
  const nets = look.servers.map((h) => serverNet(h, look.varsOf(h)));
  errors.push(...nets.filter((n): n is string => typeof n === 'string'));
  errors.push(...checkAgainstK3s(values, nets.filter((n): n is K3sServerNet => typeof n !== 'string')));

  let source: ChartSource = { kind: 'repo', repo: v.cilium_chart_repo, version: v.cilium_version };
  if (v.cilium_chart_file !== undefined) {
    // Checked in both deliveries: the manifest never names an archive of another version.
    const buf = await readChartFile(v);
    if (buf instanceof Error) errors.push(buf.message);
    else source = v.cilium_chart_delivery === 'static' ? { kind: 'static', file: staticChartName(v) } : { kind: 'content', base64: buf.toString('base64') };
  }
  if (errors.length) return new CiliumModelError(errors.join('\n'));
  return { content: renderManifest(ciliumHelmChart(source, renderValues(values))), notes };
}

const firstServer = (ctx: Ctx): string | undefined => ctx.hostsOf(serversGroup(ctx.vars, ctx.hostVars))[0];

/** Only the first server holds the manifest (K3s does not sync manifests folders). */
const onFirstServer = (ctx: Ctx): true | string => {
  const first = firstServer(ctx);
  if (first === undefined) return true; // the task itself fails with the reason
  return first === ctx.host || `the manifest goes to the first server of ${serversGroup(ctx.vars, ctx.hostVars)} (${first}) only`;
};

export async function writeManifest(ctx: Ctx): Promise<OpResult> {
  const v = ctx.vars;
  const group = serversGroup(v, ctx.hostVars);
  const servers = ctx.hostsOf(group);
  if (!servers.length) return failed(`inventory group "${group}" (cilium_servers_group) has no hosts: no K3s server to install Cilium through`);
  const plan = await planManifest(v, { hostVars: ctx.hostVars, servers, varsOf: (h) => ctx.varsOf(h) });
  if (plan instanceof Error) return failed(plan.message);
  const r = await ctx.run(
    ops.seq(
      // k3s-ansible's modes for the auto-deploy folder and what it holds.
      ops.directory(v.cilium_manifests_dir, { mode: '0700', owner: 'root', group: 'root' }),
      // An inlined chart (air gap) is ~270 kB of base64: no diff of that.
      ops.file(manifestPath(v), plan.content, { mode: '0600', owner: 'root', group: 'root', noLog: v.cilium_chart_file !== undefined && v.cilium_chart_delivery === 'content' }),
    ),
  );
  return plan.notes.length ? { ...r, msg: [r.msg, ...plan.notes].filter(Boolean).join('; ') } : r;
}

export async function uploadStaticChart(ctx: Ctx): Promise<OpResult> {
  const buf = await readChartFile(ctx.vars);
  if (buf instanceof Error) return failed(buf.message);
  return ctx.run(ops.file(staticChartPath(ctx.vars), buf, { mode: '0644', owner: 'root', group: 'root', noLog: true }));
}

/** One look at the nodes: what is not Ready yet, or why the look failed. */
export async function readinessProblems(ctx: Pick<Ctx, '$'>): Promise<string[]> {
  // A poll: fresh() asks the host each time, never a result read ahead; a read, so it runs in --check.
  const nodes = await ctx.$.read`k3s kubectl get nodes -o json`.fresh().timeout(15_000).quiet().nothrow();
  if (!nodes.ok) return [`k3s kubectl get nodes: ${describeFailure(nodes) ?? 'failed'}`];
  try {
    return nodeProblems(JSON.parse(nodes.stdout));
  } catch {
    return [`k3s kubectl get nodes: output is not JSON: ${nodes.stdout.slice(0, 200)}`];
  }
}

/** helm-controller's view of the chart, for a timeout message (never fails the task by itself). */
export async function helmChartState(ctx: Pick<Ctx, '$'>): Promise<string> {
  const r = await ctx.$.read`k3s kubectl -n kube-system get helmchart cilium -o json`.fresh().timeout(15_000).quiet().nothrow();
  if (!r.ok) {
    const why = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-1)[0] ?? '';
    return /not found/i.test(why)
      ? `HelmChart kube-system/cilium not found: K3s has not applied ${MANIFEST_NAME} (see k3s kubectl -n kube-system describe addon cilium, and the k3s journal)`
      : `HelmChart cilium: ${describeFailure(r) ?? 'kubectl failed'}`;
  }
  try {
    return helmChartNote(JSON.parse(r.stdout));
  } catch {
    return 'HelmChart cilium: output is not JSON';
  }
}

/** Poll until nothing is left, or fail after the timeout naming what was still not ready. */
export async function waitReady(ctx: Ctx, o: { intervalMs?: number; now?: () => number; sleep?: (ms: number) => Promise<void> } = {}): Promise<OpResult> {
  if (ctx.check) return skipped('check mode: nothing was applied to wait for');
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const timeoutMs = ctx.vars.cilium_wait_timeout_s * 1000;
  const start = now();
  for (let attempt = 1; ; attempt++) {
    const problems = await readinessProblems(ctx);
    // The first look's message carries no time, so a converged re-run reports the same result.
    if (!problems.length) return ok(attempt === 1 ? 'every node Ready' : `every node Ready (${attempt} looks, ${Math.round((now() - start) / 1000)} s)`);
    if (now() - start >= timeoutMs) {
      const chart = await helmChartState(ctx);
      return failed(`nodes not Ready ${ctx.vars.cilium_wait_timeout_s} s after the Cilium manifest (cilium_wait_timeout_s): ${[...problems, chart].join('; ')}`);
    }
    await sleep(o.intervalMs ?? 3000);
  }
}

const tasks: Task<CiliumVars>[] = [
  {
    name: 'cilium chart archive in static/charts (air gap)',
    when: (ctx) =>
      ctx.vars.cilium_chart_file === undefined || ctx.vars.cilium_chart_delivery !== 'static'
        ? 'the chart is not served from static/charts (cilium_chart_file unset or delivered as chartContent)'
        : ctx.hostsOf(serversGroup(ctx.vars, ctx.hostVars)).includes(ctx.host) || `not a server of ${serversGroup(ctx.vars, ctx.hostVars)}`,
    run: uploadStaticChart,
  },
  {
    name: 'cilium HelmChart manifest (cross-checked with the K3s servers)',
    when: onFirstServer,
    run: writeManifest,
  },
  {
    name: 'nodes Ready (Cilium runs on every node)',
    when: onFirstServer,
    // Its code polls: it must run once per host, never be read ahead.
    readAhead: false,
    run: (ctx) => waitReady(ctx),
  },
];

export const ciliumRole = defineRole({
  name: 'cilium',
  readAhead: true,
  vars: ciliumVars,
  tasks,
});

export default ciliumRole;

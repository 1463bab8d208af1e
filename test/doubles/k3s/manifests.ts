// The auto-deploy folder (server/manifests) as far as the CNI goes: every HelmChart found is
// recorded in etcd; a Cilium chart with bootstrap: true "deploys" (the stand-in for Cilium's
// agent writing its CNI config on every node); without bootstrap: true the helm install job
// would need a pod network that only Cilium provides, so nothing deploys, as in reality.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

export interface HelmChart {
  apiVersion: string;
  kind: 'HelmChart';
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
}

export interface ManifestScan {
  charts: { file: string; chart: HelmChart }[];
  errors: string[];
}

export const CNI_KEY = '/registry/k3s-double/cni';
export const helmChartKey = (ns: string, name: string) => `/registry/helm.cattle.io/helmcharts/${ns}/${name}`;

const RFC1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function scanManifests(dir: string): ManifestScan {
  const out: ManifestScan = { charts: [], errors: [] };
  if (!existsSync(dir)) return out;
  for (const file of readdirSync(dir).sort()) {
    if (!/\.(ya?ml|json)$/.test(file) || existsSync(`${dir}/${file}.skip`)) continue;
    const base = file.replace(/\.(ya?ml|json)$/, '');
    if (!RFC1123.test(base)) {
      out.errors.push(`Failed to process config: failed to process ${dir}/${file}: AddOn.k3s.cattle.io "${base}" is invalid: metadata.name: Invalid value: "${base}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`);
      continue;
    }
    let docs;
    try {
      docs = parseAllDocuments(readFileSync(`${dir}/${file}`, 'utf8'));
    } catch (e) {
      out.errors.push(`Failed to process config: failed to process ${dir}/${file}: ${(e as Error).message}`);
      continue;
    }
    for (const d of docs) {
      if (d.errors.length) {
        out.errors.push(`Failed to process config: failed to process ${dir}/${file}: ${d.errors[0]!.message}`);
        continue;
      }
      const o = d.toJS() as Record<string, unknown> | null;
      if (!o || o.kind !== 'HelmChart' || typeof o.apiVersion !== 'string' || !o.apiVersion.startsWith('helm.cattle.io/')) continue;
      const md = (o.metadata ?? {}) as Record<string, unknown>;
      if (typeof md.name !== 'string' || !md.name) {
        out.errors.push(`Failed to process config: failed to process ${dir}/${file}: HelmChart without metadata.name`);
        continue;
      }
      out.charts.push({ file, chart: { apiVersion: o.apiVersion, kind: 'HelmChart', metadata: { name: md.name, namespace: typeof md.namespace === 'string' ? md.namespace : 'kube-system' }, spec: (o.spec ?? {}) as Record<string, unknown> } });
    }
  }
  return out;
}

export function isCiliumChart(c: HelmChart): boolean {
  const chart = String(c.spec.chart ?? '');
  return chart === 'cilium' || chart.endsWith('/cilium') || /cilium-[0-9][^/]*\.tgz$/.test(chart) || (c.metadata.name === 'cilium' && c.spec.chartContent !== undefined);
}

/** Whether the chart's install job can run before a CNI exists. */
export function canDeploy(c: HelmChart): boolean {
  return c.spec.bootstrap === true;
}

export function chartHash(c: HelmChart): string {
  return createHash('sha256').update(JSON.stringify(c)).digest('hex');
}

export const CILIUM_CONFLIST = `${JSON.stringify(
  { cniVersion: '0.3.1', name: 'cilium', plugins: [{ type: 'cilium-cni', 'enable-debug': false, 'log-file': '/var/run/cilium/cilium-cni.log' }] },
  null,
  2,
)}\n`;

// From the role's variables and the K3s servers' settings to the chart values and the
// HelmChart object, and the cross-checks between Cilium and K3s. Pure: every decision here is
// unit-tested without a host (test/unit/roles/cilium.test.ts).
import { isIP } from 'node:net';
import { CILIUM_CHART_KEYS, CILIUM_CHART_KEYS_VERSION } from './chart-keys.ts';
import type { CiliumVars } from './vars.ts';

export type Values = Record<string, unknown>;

export class CiliumModelError extends Error {
  override name = 'CiliumModelError';
}

/** Where the chart comes from, as helm-controller reads it. */
export type ChartSource =
  | { kind: 'repo'; repo: string; version: string }
  /** Base64 of the .tgz: spec.chartContent (it overrides chart and version). */
  | { kind: 'content'; base64: string }
  /** A file under the servers' static/charts, served at https://%{KUBERNETES_API}%/static/charts/<file>. */
  | { kind: 'static'; file: string };

/** The apiserver endpoint Cilium is told about (k8sServiceHost/k8sServicePort). */
export interface ApiEndpoint {
  host: string;
  port: number;
}

/** The chart's values from the variables (deep-merged with cilium_values_extra last). */
export function ciliumValues(v: CiliumVars, api: ApiEndpoint): Values {
  const values: Values = {
    kubeProxyReplacement: v.cilium_kube_proxy_replacement,
    k8sServiceHost: api.host,
    k8sServicePort: api.port,
    ipv6: { enabled: v.cilium_ipv6 },
    ipam:
      v.cilium_ipam_mode === 'cluster-pool'
        ? {
            mode: 'cluster-pool',
            operator: { clusterPoolIPv4PodCIDRList: v.cilium_cluster_pool_ipv4_cidrs, clusterPoolIPv4MaskSize: v.cilium_cluster_pool_ipv4_mask_size },
          }
        : { mode: 'kubernetes' },
    operator: { replicas: v.cilium_operator_replicas },
    hubble: {
      enabled: v.cilium_hubble,
      relay: { enabled: v.cilium_hubble && v.cilium_hubble_relay },
      ui: { enabled: v.cilium_hubble && v.cilium_hubble_ui },
    },
  };
  if (v.cilium_cluster_name !== undefined && v.cilium_cluster_id !== undefined) {
    values.cluster = { name: v.cilium_cluster_name, id: v.cilium_cluster_id };
    values.clustermesh = {
      useAPIServer: v.cilium_clustermesh_apiserver,
      ...(v.cilium_clustermesh_apiserver ? { apiserver: { service: { type: v.cilium_clustermesh_service_type } } } : {}),
    };
  }
  return deepMerge(values, v.cilium_values_extra);
}

const isPlainObject = (x: unknown): x is Values => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Helm's rule for values files: maps merge key by key, anything else (lists too) replaces. */
export function deepMerge(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, val] of Object.entries(over)) {
    const cur = out[k];
    out[k] = isPlainObject(cur) && isPlainObject(val) ? deepMerge(cur, val) : val;
  }
  return out;
}

/** The HelmChart helm-controller installs (K3s's auto-deploy folder applies it). */
export function ciliumHelmChart(source: ChartSource, valuesContent: string): Values {
  const chart: Values =
    source.kind === 'repo'
      ? { repo: source.repo, chart: 'cilium', version: source.version }
      : source.kind === 'static'
        ? { chart: `https://%{KUBERNETES_API}%/static/charts/${source.file}` }
        : { chartContent: source.base64 };
  return {
    apiVersion: 'helm.cattle.io/v1',
    kind: 'HelmChart',
    metadata: { name: 'cilium', namespace: 'kube-system' },
    spec: {
      ...chart,
      targetNamespace: 'kube-system',
      // A CNI chart must install before there is a pod network: the helm job then runs with
      // hostNetwork on a server, tolerating not-ready nodes (helm-controller chart.go).
      bootstrap: true,
      valuesContent,
    },
  };
}

/** Levenshtein distance, for "did you mean" on top-level keys. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/**
 * Top-level keys of `values` the chart does not know (its schema lets them through silently).
 * Each message names the key and the closest known one.
 */
export function unknownTopLevelKeys(values: Values, known: ReadonlySet<string> = CILIUM_CHART_KEYS): string[] {
  const out: string[] = [];
  for (const k of Object.keys(values)) {
    if (known.has(k)) continue;
    let best: string | undefined;
    let bestD = Infinity;
    for (const c of known) {
      const dd = distance(k, c);
      if (dd < bestD) [best, bestD] = [c, dd];
    }
    const hint = best !== undefined && bestD <= Math.max(2, Math.floor(k.length / 4)) ? ` (did you mean ${best}?)` : '';
    out.push(`cilium_values_extra: "${k}" is not a value of the Cilium ${CILIUM_CHART_KEYS_VERSION} chart${hint}`);
  }
  return out;
}

/** The network settings of one K3s server that Cilium depends on. */
export interface K3sServerNet {
  host: string;
  disableKubeProxy: boolean;
  flannelBackend: string;
  disableNetworkPolicy: boolean;
}

/** The k3s-master variables read here (agreed with roles/k3s-master/vars.ts). */
export const K3S_VARS = {
  disableKubeProxy: 'k3s_disable_kube_proxy',
  flannelBackend: 'k3s_flannel_backend',
  disableNetworkPolicy: 'k3s_disable_network_policy',
} as const;

/**
 * The cross-checks between the chart values and every K3s server, as a list of errors (empty:
 * consistent). Each names the host, the variable to set and why.
 */
export function checkAgainstK3s(values: Values, servers: readonly K3sServerNet[]): string[] {
  const errors: string[] = [];
  const kpr = values.kubeProxyReplacement === true || values.kubeProxyReplacement === 'true';
  for (const s of servers) {
    if (kpr && !s.disableKubeProxy) {
      errors.push(
        `${s.host}: kubeProxyReplacement is true but K3s still runs kube-proxy: set ${K3S_VARS.disableKubeProxy}: true on every server (both would program Services)`,
      );
    }
    if (!kpr && s.disableKubeProxy) {
      errors.push(
        `${s.host}: ${K3S_VARS.disableKubeProxy} is true but cilium_kube_proxy_replacement is false: nothing would implement Services`,
      );
    }
    if (s.flannelBackend !== 'none') {
      errors.push(
        `${s.host}: ${K3S_VARS.flannelBackend} is "${s.flannelBackend}": set it to "none" on every server, Cilium is the CNI (two CNIs fight over pod routes)`,
      );
    }
    if (!s.disableNetworkPolicy) {
      errors.push(
        `${s.host}: ${K3S_VARS.disableNetworkPolicy} is false: set it to true on every server, Cilium enforces NetworkPolicies (K3s's controller would add its own iptables rules)`,
      );
    }
  }
  errors.push(...checkApiEndpoint({ host: String(values.k8sServiceHost ?? ''), port: Number(values.k8sServicePort) }));
  return errors;
}

/** 6443 through the VIP (or a server), 6444 on 127.0.0.1 (K3s's local apiserver / agent LB). */
export function checkApiEndpoint(api: ApiEndpoint): string[] {
  if (!api.host) return ['k8sServiceHost is empty: set cilium_k8s_service_host (or k3s_api_vip / api_vip)'];
  const loopback = api.host === '127.0.0.1' || api.host === 'localhost' || api.host === '::1';
  if (loopback && api.port !== 6444) {
    return [`k8sServicePort is ${api.port} with k8sServiceHost ${api.host}: on a node's loopback the API is K3s's local load balancer, port 6444`];
  }
  if (!loopback && api.port !== 6443) {
    return [`k8sServicePort is ${api.port} with k8sServiceHost ${api.host}: the K3s API behind the VIP listens on 6443 (6444 is only on 127.0.0.1)`];
  }
  if (!loopback && !isIP(api.host) && !/^[A-Za-z0-9.-]+$/.test(api.host)) return [`k8sServiceHost "${api.host}" is neither an IP address nor a host name`];
  return [];
}

/** The API endpoint: cilium_k8s_service_host, else the VIP the K3s roles use (k3s_api_vip, else api_vip). */
export function apiEndpoint(v: CiliumVars, hostVars: Readonly<Record<string, unknown>>): ApiEndpoint {
  const str = (x: unknown) => (typeof x === 'string' && x.trim() ? x.trim() : undefined);
  const host = v.cilium_k8s_service_host ?? str(hostVars.k3s_api_vip) ?? str(hostVars.api_vip);
  if (host === undefined) {
    throw new CiliumModelError(
      'no API address for Cilium: set cilium_k8s_service_host (the API VIP, or 127.0.0.1 with cilium_k8s_service_port 6444), k3s_api_vip or the inventory variable api_vip',
    );
  }
  return { host, port: v.cilium_k8s_service_port };
}

/** The K3s servers' group: cilium_servers_group, else the K3s roles' k3s_server_group, else masters. */
export function serversGroup(v: CiliumVars, hostVars: Readonly<Record<string, unknown>>): string {
  const g = hostVars.k3s_server_group;
  return v.cilium_servers_group ?? (typeof g === 'string' && g.trim() ? g.trim() : 'masters');
}

// The cluster as the inventory describes it, and each node's /etc/rancher/k3s/config.yaml, as
// pure functions (unit-tested as data). Also the checks made before any host is touched:
// unique node names, critical values identical on every server (k3s-io/k3s#12745: a joiner
// with another flannel-backend fails at runtime with "critical configuration value mismatch"),
// one VIP and one token for everyone, an odd number of servers.
import type { K3sVars } from './vars.ts';
import { apiVip } from './vars.ts';

/** One node of the cluster as the roles see it. */
export interface K3sNode {
  /** Inventory name. */
  host: string;
  role: 'server' | 'agent';
  /** Kubernetes node name (k3s_node_name, else the inventory name). */
  name: string;
  /** node-ip (k3s_node_ip, else the inventory's peer address). */
  ip: string;
  vars: K3sVars;
}

/** The servers (inventory order: the first bootstraps with cluster-init) and the agents. */
export interface K3sCluster {
  servers: K3sNode[];
  agents: K3sNode[];
}

/** What a role needs from the inventory (HostCtx provides it: hostsOf, varsOf, addressOf). */
export interface ClusterLookup {
  hostsOf(group: string): string[];
  varsOf(host: string): Readonly<Record<string, unknown>>;
  addressOf(host: string): string;
}

/** The cluster from the point of view of one host's vars (its groups name servers and agents). */
export function clusterOf(v: K3sVars, lookup: ClusterLookup, parse: (raw: Readonly<Record<string, unknown>>) => K3sVars): K3sCluster {
  const servers = lookup.hostsOf(v.k3s_server_group);
  const agents = lookup.hostsOf(v.k3s_agent_group).filter((h) => !servers.includes(h));
  const node = (host: string, role: K3sNode['role']): K3sNode => {
    const hv = parse(lookup.varsOf(host));
    return { host, role, name: hv.k3s_node_name ?? host.toLowerCase(), ip: hv.k3s_node_ip ?? lookup.addressOf(host), vars: hv };
  };
  return { servers: servers.map((h) => node(h, 'server')), agents: agents.map((h) => node(h, 'agent')) };
}

/** config.yaml as an ordered record: keys are K3s flag names, values YAML scalars or lists. */
export type K3sConfig = Record<string, string | number | boolean | Array<string | number>>;

export const CLUSTER_URL = (v: Pick<K3sVars, 'k3s_api_vip' | 'api_vip' | 'k3s_api_port'>): string => {
  const vip = apiVip(v);
  return `https://${vip.includes(':') ? `[${vip}]` : vip}:${v.k3s_api_port}`;
};

/** The critical part of a server's settings (must match on every server), in config.yaml spelling. */
export function criticalConfig(v: K3sVars): K3sConfig {
  const c: K3sConfig = { 'flannel-backend': v.k3s_flannel_backend };
  if (v.k3s_disable_network_policy) c['disable-network-policy'] = true;
  if (v.k3s_disable_kube_proxy) c['disable-kube-proxy'] = true;
  if (v.k3s_disable.length) c.disable = [...v.k3s_disable];
  if (v.k3s_cluster_cidr) c['cluster-cidr'] = v.k3s_cluster_cidr;
  if (v.k3s_service_cidr) c['service-cidr'] = v.k3s_service_cidr;
  if (v.k3s_cluster_dns) c['cluster-dns'] = v.k3s_cluster_dns;
  if (v.k3s_cluster_domain) c['cluster-domain'] = v.k3s_cluster_domain;
  if (v.k3s_secrets_encryption) c['secrets-encryption'] = true;
  return c;
}

/**
 * Keys K3s compares between servers (docs/cli/server.md's list, plus disable-kube-proxy and
 * every --disable component per docs/datastore/ha-embedded.md).
 */
export const CRITICAL_KEYS = [
  'agent-token',
  'cluster-cidr',
  'cluster-dns',
  'cluster-domain',
  'disable',
  'disable-cloud-controller',
  'disable-helm-controller',
  'disable-kube-proxy',
  'disable-network-policy',
  'egress-selector-mode',
  'embedded-registry',
  'flannel-backend',
  'flannel-external-ip',
  'flannel-ipv6-masq',
  'secrets-encryption',
  'secrets-encryption-provider',
  'service-cidr',
] as const;

/** A server's config.yaml: the first server bootstraps (cluster-init), the others join through the VIP. */
export function serverConfig(node: Pick<K3sNode, 'name' | 'ip' | 'vars'>, o: { first: boolean; token?: string }): K3sConfig {
  const v = node.vars;
  const c: K3sConfig = {};
  if (o.token) c.token = o.token;
  if (o.first) c['cluster-init'] = true;
  else c.server = CLUSTER_URL(v);
  c['node-name'] = node.name;
  c['node-ip'] = node.ip;
  c['tls-san'] = [...new Set([apiVip(v), ...v.k3s_tls_san])];
  c['write-kubeconfig-mode'] = v.k3s_write_kubeconfig_mode;
  Object.assign(c, criticalConfig(v));
  if (v.k3s_node_labels.length) c['node-label'] = [...v.k3s_node_labels];
  if (v.k3s_node_taints.length) c['node-taint'] = [...v.k3s_node_taints];
  return { ...c, ...v.k3s_server_config_extra };
}

/** An agent's config.yaml: it registers through the VIP with the cluster token. */
export function agentConfig(node: Pick<K3sNode, 'name' | 'ip' | 'vars'>, o: { token: string }): K3sConfig {
  const v = node.vars;
  const c: K3sConfig = { token: o.token, server: CLUSTER_URL(v), 'node-name': node.name, 'node-ip': node.ip };
  if (v.k3s_node_labels.length) c['node-label'] = [...v.k3s_node_labels];
  if (v.k3s_node_taints.length) c['node-taint'] = [...v.k3s_node_taints];
  return { ...c, ...v.k3s_agent_config_extra };
}

/** The critical values of a rendered server config, normalised for comparison ('' = unset). */
export function criticalView(c: K3sConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of CRITICAL_KEYS) {
    const own = c[k];
    const plus = c[`${k}+`];
    const list = [...(Array.isArray(own) ? own : own === undefined ? [] : [own]), ...(Array.isArray(plus) ? plus : plus === undefined ? [] : [plus])];
    if (k === 'disable') out[k] = [...new Set(list.map(String))].sort().join(',');
    else if (k === 'agent-token') out[k] = list.length ? 'set' : '';
    else out[k] = list.map(String).join(',');
  }
  return out;
}

export interface ClusterCheck {
  errors: string[];
  warnings: string[];
}

/**
 * Everything that can be checked from the inventory before any host is touched. `first` is
 * the bootstrap server; every other server is compared with it.
 */
export function checkCluster(cl: K3sCluster): ClusterCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  const all = [...cl.servers, ...cl.agents];
  if (!cl.servers.length) {
    errors.push('no K3s servers: the server group is empty');
    return { errors, warnings };
  }

  const byName = new Map<string, string[]>();
  for (const n of all) byName.set(n.name, [...(byName.get(n.name) ?? []), n.host]);
  for (const [name, hosts] of byName) {
    if (hosts.length > 1) errors.push(`node name "${name}" is used by ${hosts.join(', ')}: K3s needs unique node names (an etcd join fails with "duplicate node name found")`);
  }
  const byIp = new Map<string, string[]>();
  for (const n of all) byIp.set(n.ip, [...(byIp.get(n.ip) ?? []), n.host]);
  for (const [ip, hosts] of byIp) if (hosts.length > 1) errors.push(`node-ip ${ip} is used by ${hosts.join(', ')}`);

  const first = cl.servers[0]!;
  const ref = criticalView(serverConfig(first, { first: true }));
  for (const s of cl.servers.slice(1)) {
    const mine = criticalView(serverConfig(s, { first: false }));
    for (const k of CRITICAL_KEYS) {
      if (mine[k] !== ref[k]) {
        errors.push(
          `critical value ${k} differs: ${first.host}=${ref[k] || '(unset)'}, ${s.host}=${mine[k] || '(unset)'} (k3s#12745: the join would fail with "critical configuration value mismatch")`,
        );
      }
    }
  }

  const vips = new Set(all.map((n) => `${apiVip(n.vars)}:${n.vars.k3s_api_port}`));
  if (vips.size > 1) errors.push(`the API endpoint differs between nodes (${[...vips].join(', ')}): every node must join through the same VIP`);
  const tokens = new Set(all.map((n) => n.vars.k3s_token ?? ''));
  if (tokens.size > 1) {
    // Never the values: only who has which.
    const withToken = all.filter((n) => n.vars.k3s_token).map((n) => n.host);
    errors.push(
      withToken.length === all.length
        ? 'k3s_token differs between nodes: every node must use the same token'
        : `k3s_token is set on ${withToken.join(', ')} but not on the others: set it for every node or for none`,
    );
  }
  const versions = new Set(all.map((n) => n.vars.k3s_version));
  if (versions.size > 1) warnings.push(`k3s_version differs between nodes (${[...versions].join(', ')}): an upgrade goes servers first, then agents, one minor at a time`);
  const groups = new Set(all.map((n) => `${n.vars.k3s_server_group}/${n.vars.k3s_agent_group}`));
  if (groups.size > 1) errors.push(`k3s_server_group/k3s_agent_group differ between nodes (${[...groups].join(', ')})`);
  if (cl.servers.length % 2 === 0) {
    warnings.push(`${cl.servers.length} servers: etcd needs an odd number (an even number tolerates no more failures than one server fewer, and a 2-2 split has no quorum)`);
  }
  return { errors, warnings };
}

/** Where a node sits in the safe order (servers one at a time, the first bootstraps). */
export function isFirstServer(cl: K3sCluster, host: string): boolean {
  return cl.servers[0]?.host === host;
}

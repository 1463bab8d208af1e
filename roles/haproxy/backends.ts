// From the role's variables and the inventory to the config model: backends are the hosts of
// the groups the vars name (masters, workers), addressed by their ansible_host, in inventory
// order, so every load balancer renders the same file.
import type { Inventory } from '../../lib/inventory/types.ts';
import type { HaproxyBackend, HaproxyConfigInput, HaproxyFrontend, HaproxyServer } from './templates.ts';
import type { HaproxyVars } from './vars.ts';

/** Hosts of a group (children included, as host.groups lists ancestors), in inventory order. */
export function groupHosts(inventory: Inventory, group: string): string[] {
  return [...inventory.hosts.values()].filter((h) => h.groups.includes(group)).map((h) => h.name);
}

/** A host's address: ansible_host, else its inventory name (a DNS name or IP). */
export function hostAddress(inventory: Inventory, host: string): string {
  const v = inventory.hosts.get(host)?.vars.ansible_host;
  return typeof v === 'string' && v.trim() ? v.trim() : host;
}

export function groupServers(inventory: Inventory, group: string, port: number): HaproxyServer[] {
  return groupHosts(inventory, group).map((name) => ({ name, address: hostAddress(inventory, name), port }));
}

export class EmptyGroupError extends Error {
  constructor(
    readonly group: string,
    readonly varName: string,
  ) {
    super(`inventory group "${group}" (${varName}) has no hosts: a backend without servers would refuse every connection`);
    this.name = 'EmptyGroupError';
  }
}

/** The whole config model; throws EmptyGroupError when a backend group is empty or missing. */
export function haproxyModel(v: HaproxyVars, inventory: Inventory): HaproxyConfigInput {
  const frontends: HaproxyFrontend[] = [];
  const backends: HaproxyBackend[] = [];

  const api = groupServers(inventory, v.haproxy_api_group, v.haproxy_api_backend_port);
  if (!api.length) throw new EmptyGroupError(v.haproxy_api_group, 'haproxy_api_group');
  const apiBackend = `${v.haproxy_api_group}_${v.haproxy_api_backend_port}`;
  frontends.push({ name: 'k8s_api', comment: 'Kubernetes API', bindAddress: v.haproxy_bind_address, port: v.haproxy_api_port, backend: apiBackend });
  backends.push({ name: apiBackend, group: v.haproxy_api_group, servers: api });

  if (v.haproxy_ingress_enabled) {
    for (const port of v.haproxy_ingress_ports) {
      const servers = groupServers(inventory, v.haproxy_ingress_group, port);
      if (!servers.length) throw new EmptyGroupError(v.haproxy_ingress_group, 'haproxy_ingress_group');
      const name = `${v.haproxy_ingress_group}_${port}`;
      frontends.push({ name: `ingress_${port}`, comment: `Ingress port ${port}`, bindAddress: v.haproxy_bind_address, port, backend: name });
      backends.push({ name, group: v.haproxy_ingress_group, servers });
    }
  }

  return {
    maxconn: v.haproxy_maxconn,
    statsSocket: v.haproxy_stats_socket,
    balance: v.haproxy_balance,
    check: { inter: v.haproxy_check_inter, fall: v.haproxy_check_fall, rise: v.haproxy_check_rise },
    timeouts: {
      connect: v.haproxy_timeout_connect,
      client: v.haproxy_timeout_client,
      server: v.haproxy_timeout_server,
      tunnel: v.haproxy_timeout_tunnel,
    },
    frontends,
    backends,
    ...(v.haproxy_stats_enabled && v.haproxy_stats_password !== undefined
      ? {
          stats: {
            bindAddress: v.haproxy_bind_address,
            port: v.haproxy_stats_port,
            uri: v.haproxy_stats_uri,
            user: v.haproxy_stats_user,
            password: v.haproxy_stats_password,
          },
        }
      : {}),
    extra: v.haproxy_extra_config,
  };
}

// From the role's variables and the inventory to the config model: backends are the hosts of
// the groups the vars name (masters, workers), at the address peers use (addressOf:
// drover_peer_address, else ansible_host, else the name), in inventory order, so every load
// balancer renders the same file.
import type { InventoryLookup } from '../../lib/run/lookup.ts';
import type { HaproxyBackend, HaproxyConfigInput, HaproxyFrontend, HaproxyServer } from './templates.ts';
import type { HaproxyVars } from './vars.ts';

export function groupServers(lookup: InventoryLookup, group: string, port: number): HaproxyServer[] {
  return lookup.hostsOf(group).map((name) => ({ name, address: lookup.addressOf(name), port }));
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
export function haproxyModel(v: HaproxyVars, lookup: InventoryLookup): HaproxyConfigInput {
  const frontends: HaproxyFrontend[] = [];
  const backends: HaproxyBackend[] = [];

  const api = groupServers(lookup, v.haproxy_api_group, v.haproxy_api_backend_port);
  if (!api.length) throw new EmptyGroupError(v.haproxy_api_group, 'haproxy_api_group');
  const apiBackend = `${v.haproxy_api_group}_${v.haproxy_api_backend_port}`;
  frontends.push({ name: 'k8s_api', comment: 'Kubernetes API', bindAddress: v.haproxy_bind_address, port: v.haproxy_api_port, backend: apiBackend });
  backends.push({ name: apiBackend, group: v.haproxy_api_group, servers: api });

  if (v.haproxy_ingress_enabled) {
    for (const port of v.haproxy_ingress_ports) {
      const servers = groupServers(lookup, v.haproxy_ingress_group, port);
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

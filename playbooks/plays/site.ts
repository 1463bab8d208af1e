// The whole seed-004 stack in a safe order:
//   1. base on every host (hostname, /etc/hosts, time zone, admin users, sshd hardening, chrony
//      from infra, nftables where enabled);
//   2. k3s-prereqs on the K3s nodes (swap, modules, sysctls, firewall ports);
//   3. the load balancer pair (haproxy before keepalived, whose check tracks haproxy): the API
//      VIP answers before any K3s server needs it;
//   4. PostgreSQL primary, then its replicas (seed 000);
//   5. K3s (./k3s.ts): preflight (cluster plan, VIP answering), the servers one at a time (the
//      first bootstraps, each joiner an etcd voter before the next; a re-run restarts only what
//      changed, one server at a time, and stops at the first that does not come back), then
//      the agents through the VIP;
//   6. Cilium (the CNI, with kube-proxy replacement): its HelmChart in the first server's
//      manifests folder, then every node Ready (seed 004);
//   7. the cloudflared tunnel (seed 000), when a tunnel token or credentials are set.
import type { Inventory, Play } from 'drover';
import { ciliumRole } from 'drover/roles/cilium';
import { cloudflaredRole } from 'drover/roles/cloudflared';
import { foundationPlays } from './base.ts';
import { dbPlays } from './db.ts';
import { K3S_SERVERS, k3sPlays, type K3sPlayOptions } from './k3s.ts';
import { lbPlays } from './lb.ts';

export const ciliumPlay: Play = { name: 'Cilium', hosts: K3S_SERVERS, become: true, roles: [ciliumRole] };
export const cloudflaredPlay: Play = { name: 'cloudflared tunnel', hosts: K3S_SERVERS, become: true, roles: [cloudflaredRole] };

const TUNNEL_VARS = ['cloudflared_tunnel_token', 'cloudflared_credentials_json'] as const;

/** The tunnel is optional (seed 000 has one, seed 004 not): set on a K3s server, or by -e. */
export function wantsTunnel(inventory: Inventory, extraVars: Readonly<Record<string, unknown>> = {}): boolean {
  if (TUNNEL_VARS.some((k) => extraVars[k] !== undefined)) return true;
  return [...inventory.hosts.values()].some((h) => h.groups.includes(K3S_SERVERS) && TUNNEL_VARS.some((k) => h.vars[k] !== undefined));
}

export interface SiteOptions extends K3sPlayOptions {
  tunnel?: boolean;
}

export function sitePlaysWith(o: SiteOptions = {}): Play[] {
  return [...foundationPlays, ...lbPlays, ...dbPlays, ...k3sPlays(o), ciliumPlay, ...(o.tunnel ? [cloudflaredPlay] : [])];
}

export const sitePlays: Play[] = sitePlaysWith();

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
//      the agents through the VIP.
import type { Play } from 'drover';
import { foundationPlays } from './base.ts';
import { dbPlays } from './db.ts';
import { k3sPlays, type K3sPlayOptions } from './k3s.ts';
import { lbPlays } from './lb.ts';

export function sitePlaysWith(o: K3sPlayOptions = {}): Play[] {
  return [...foundationPlays, ...lbPlays, ...dbPlays, ...k3sPlays(o)];
}

export const sitePlays: Play[] = sitePlaysWith();

// The whole seed-004 stack in a safe order:
//   1. base on every host (hostname, /etc/hosts, time zone, admin users, sshd hardening, chrony
//      from infra, nftables where enabled);
//   2. k3s-prereqs on the K3s nodes (swap, modules, sysctls, firewall ports);
//   3. the load balancer pair (haproxy before keepalived, whose check tracks haproxy);
//   4. PostgreSQL primary, then its replicas (seed 000).
// K3s itself (masters one at a time, the first with cluster-init) is not here: the K3s binary
// cannot be downloaded on this project's machines; see README "Not possible here".
import type { Play } from 'drover';
import { foundationPlays } from './base.ts';
import { dbPlays } from './db.ts';
import { lbPlays } from './lb.ts';

export const sitePlays: Play[] = [...foundationPlays, ...lbPlays, ...dbPlays];

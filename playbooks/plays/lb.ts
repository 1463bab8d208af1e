// The load balancer plays (seed 004): haproxy, then keepalived, on the loadbalancers group.
// haproxy comes first because keepalived's health check tracks it: a pair whose haproxy is
// not running yet would take the VIPs into FAULT.
import type { Play } from '../../lib/run/types.ts';
import { haproxyRole } from '../../roles/haproxy/index.ts';
import { keepalivedRole } from '../../roles/keepalived/index.ts';

export const LB_GROUP = 'loadbalancers';

export const lbPlay: Play = {
  name: 'load balancers: haproxy + keepalived',
  hosts: LB_GROUP,
  become: true,
  roles: [haproxyRole, keepalivedRole],
};

export const lbPlays: Play[] = [lbPlay];

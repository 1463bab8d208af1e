// The load balancer plays (seed 004): haproxy, then keepalived, on the loadbalancers group.
// haproxy comes first because keepalived's health check tracks it: a pair whose haproxy is
// not running yet would take the VIPs into FAULT.
import type { Play } from 'drover';
import { haproxyRole } from 'drover/roles/haproxy';
import { keepalivedRole } from 'drover/roles/keepalived';

export const LB_GROUP = 'loadbalancers';

export const lbPlay: Play = {
  name: 'load balancers: haproxy + keepalived',
  hosts: LB_GROUP,
  become: true,
  roles: [haproxyRole, keepalivedRole],
};

export const lbPlays: Play[] = [lbPlay];

// Uninstall K3s from every node (agents first, then servers): units stopped and removed,
// K3s's mounts and CNI links, data dirs, binary and CNI files removed (roles/k3s-master/reset.ts).
// DESTROYS THE CLUSTER AND ITS DATA (etcd included). The kubeconfig on the controller is left.
//   npx tsx playbooks/k3s-reset.ts -i inventory/lab.yaml [--limit worker3] [--check]
import { main } from 'drover';
import type { Play } from 'drover';
import { k3sResetRole } from 'drover/roles/k3s-master';
import { K3S_AGENTS, K3S_SERVERS } from './plays/k3s.ts';

export const k3sResetPlays: Play[] = [
  { name: 'K3s agents removed', hosts: K3S_AGENTS, become: true, roles: [k3sResetRole] },
  { name: 'K3s servers removed', hosts: K3S_SERVERS, become: true, roles: [k3sResetRole] },
];

await main({ name: 'k3s-reset', plays: k3sResetPlays });

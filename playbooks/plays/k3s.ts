// The K3s plays, in the safe order (research k3s-ha.md §1.8):
//   1. preflight, once: the cluster plan (unique node names, critical values identical on
//      every server, one VIP, one token), then the API VIP answering: before any K3s host changes;
//   2. servers ONE AT A TIME (serial: 1, any_errors_fatal): the first bootstraps with
//      cluster-init and is ready (unit active, token file, /readyz) before the second starts;
//      each joiner is an etcd voter before the next. On a re-run the same order is a safe
//      roll: a server is restarted only when its binary, config or unit changed, and a server
//      that does not come back ends the run, the later ones untouched (exit 2). Every server
//      is first checked at once (Play.checkFirst, check mode, its readiness gate one look):
//      a server with nothing to change is done then, one found failing stops the play before
//      any server restarts, and only the others roll; a converged cluster costs one pass;
//   3. agents, through the VIP: the first alone (a canary), then the rest together; with
//      `agentSerial: 1` (k3s-upgrade.ts) one at a time.
// Node Ready is never awaited here: with flannel-backend none the nodes stay NotReady until
// the CNI (role cilium) runs, which comes after these plays.
import { flag, type Play } from 'drover';
import { k3sMasterRole, k3sPreflightRole } from 'drover/roles/k3s-master';
import { k3sWorkerRole } from 'drover/roles/k3s-worker';

export const K3S_SERVERS = 'masters';
export const K3S_AGENTS = 'workers';

export interface K3sPlayOptions {
  /**
   * TEST ONLY (-e k3s_test_unsafe_roll=true): every server in one batch, no gates, so a test
   * can show that a roll without them loses etcd quorum. Never on real hosts.
   */
  unsafeRoll?: boolean;
  /** Agents' batches: default [1, '100%'] (a canary, then the rest). */
  agentSerial?: Play['serial'];
}

export const k3sPreflightPlay: Play = { name: 'K3s preflight', hosts: `${K3S_SERVERS}:${K3S_AGENTS}`, become: true, anyErrorsFatal: true, roles: [k3sPreflightRole] };

export function k3sServerPlay(o: K3sPlayOptions = {}): Play {
  return {
    name: o.unsafeRoll ? 'K3s servers (UNSAFE TEST ROLL: all at once, no gates)' : 'K3s servers, one at a time',
    hosts: K3S_SERVERS,
    become: true,
    anyErrorsFatal: true,
    // A converged server is checked with the others at once (its gate included: one look at
    // /readyz and its voter status); only servers with something to change roll, one at a time.
    ...(o.unsafeRoll ? {} : { serial: 1, checkFirst: true }),
    roles: [k3sMasterRole],
  };
}

export function k3sAgentPlay(o: K3sPlayOptions = {}): Play {
  return {
    name: 'K3s agents',
    hosts: K3S_AGENTS,
    become: true,
    ...(o.unsafeRoll ? {} : { serial: o.agentSerial ?? [1, '100%'], checkFirst: true }),
    roles: [k3sWorkerRole],
  };
}

export function k3sPlays(o: K3sPlayOptions = {}): Play[] {
  return [k3sPreflightPlay, k3sServerPlay(o), k3sAgentPlay(o)];
}

/** The test-only switch, read from -e (it also turns the roles' gates off, as a role variable). */
export function unsafeRollFrom(extraVars: Readonly<Record<string, unknown>>): boolean {
  const v = flag().safeParse(extraVars.k3s_test_unsafe_roll);
  return v.success ? v.data : false;
}

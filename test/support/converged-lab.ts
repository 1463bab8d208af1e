// What the converged-lab recorder (record-converged.ts) and its replay test
// (test/unit/roles/round-trips.test.ts) must agree on: where the recordings live, how to
// re-record, the extra variables of the recorded run, and the placeholders standing in for
// secrets in the recordings.
import { scramVerifier } from '../../roles/postgres/scram.ts';

export const CONVERGED_DIR = 'test/fixtures/converged';

export const RECORD_COMMAND =
  'flock /tmp/lab.lock npx tsx lab/with-k3s-double.ts test/support/record-converged.ts -i inventory/lab.yaml (lab up; see test/fixtures/converged/README.md)';

/**
 * A made-up cloudflared tunnel token (the form of a real one: base64 of {a, t, s}) so the
 * recorded site run includes the cloudflared play (playbooks/plays/site.ts wantsTunnel). Lab
 * only, committed like the lab's other passwords; it is never in a recording.
 */
export const LAB_TUNNEL_TOKEN = Buffer.from(
  JSON.stringify({ a: 'f'.repeat(32), t: '6ff42ae2-765d-4adf-8112-31c55c1551ef', s: Buffer.from('drover-lab-tunnel-secret-not-real').toString('base64') }),
).toString('base64');

/** -e variables of the recorded run, beyond the inventory (and k3s_release_url, unused once converged). */
export const RECORDED_EXTRA_VARS: Readonly<Record<string, unknown>> = { cloudflared_tunnel_token: LAB_TUNNEL_TOKEN };

/** Inventory variables whose values are secrets (as the roles' secret() schemas mark them). */
export const SECRET_VAR = /pass(word)?$|token$|credentials_json$|password_hash$|_key$/i;

export const secretPlaceholder = (name: string): string => `{{secret:${name}}}`;
/** A SCRAM verifier read from PostgreSQL: the replay puts one made from the inventory's password. */
export const SCRAM_PLACEHOLDER = '{{scram:postgres_replication_password}}';
export const SCRAM_VERIFIER = /SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+/g;
/** Key material in a fetched kubeconfig, masked (nothing on the host side compares it). */
export const MASKED = 'MASKED-by-record-converged';

/** Secret values of an inventory's hosts (and the recorded run's -e), by variable name. */
export function secretValues(hostVars: Iterable<Record<string, unknown>>, extra: Readonly<Record<string, unknown>> = RECORDED_EXTRA_VARS): Map<string, string> {
  const out = new Map<string, string>();
  const add = (vars: Readonly<Record<string, unknown>>) => {
    for (const [k, v] of Object.entries(vars)) if (SECRET_VAR.test(k) && typeof v === 'string' && v.length >= 4) out.set(v, k);
  };
  for (const v of hostVars) add(v);
  add(extra);
  return out;
}

/** Placeholder -> value for the replay: the secrets back, a SCRAM verifier of the inventory's password. */
export function replaySubstitutions(secrets: Map<string, string>, replicationPassword: string | undefined): Record<string, string> {
  const subs: Record<string, string> = {};
  for (const [value, name] of secrets) subs[secretPlaceholder(name)] = value;
  if (replicationPassword) subs[SCRAM_PLACEHOLDER] = scramVerifier(replicationPassword);
  return subs;
}

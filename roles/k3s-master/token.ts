// The cluster token. Supplied (k3s_token, a secret) it goes into every config.yaml. Unset, the
// first server generates one at its first start (K3s writes /var/lib/rancher/k3s/server/token,
// the secure K10<CA hash>::server:<password> form), and every joining server and agent reads
// it from there, so the token is generated once and kept. It is registered as a secret the
// moment it is read: every output shows it as ********, and it is never put on a command line.
import { addSecret } from '../../lib/secrets/redact.ts';
import { failed, ok, type OpResult } from '../../lib/ops/types.ts';
import type { HostCtx } from '../../lib/run/types.ts';
import { SERVER_TOKEN } from './templates.ts';
import type { K3sVars } from './vars.ts';

/** The name the token read from the first server is registered under (per host). */
export const TOKEN_REGISTER = 'k3s_cluster_token';

/**
 * Runs delegated to the first server: read its token file. Through transport.get, not a
 * command: command output is redacted by the transport, so once the token is a registered
 * secret (after the first joiner read it) `cat` would hand back ********.
 */
export async function readServerToken(ctx: HostCtx<K3sVars>): Promise<OpResult> {
  let raw: Buffer;
  try {
    raw = await ctx.transport.get(SERVER_TOKEN, { sudo: ctx.become ? ctx.become : undefined });
  } catch (e) {
    return failed(`cannot read the cluster token ${SERVER_TOKEN} on the first server: ${e instanceof Error ? e.message : String(e)} (is the first server installed and ready?)`);
  }
  const token = raw.toString('utf8').trim();
  if (!token) return failed(`${SERVER_TOKEN} on the first server is empty`);
  addSecret(token);
  // Not in stdout/msg: only in data, which is never emitted (kept for this host's later tasks).
  return ok(`cluster token read from ${SERVER_TOKEN}`, { data: { token } });
}

/** The token this host's config uses: k3s_token, else the one read from the first server. */
export function tokenFor(ctx: HostCtx<K3sVars>): string | undefined {
  if (ctx.vars.k3s_token) return ctx.vars.k3s_token;
  const t = ctx.registered[TOKEN_REGISTER]?.data?.token;
  return typeof t === 'string' && t ? t : undefined;
}

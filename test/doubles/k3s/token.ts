// K3s tokens (docs/cli/token.md; clientaccess): the secure form K10<sha256 of server-ca.crt
// PEM>::<user>:<password>, or the short form <password>. The CA hash lets a joiner check the
// cluster CA it downloaded from /cacerts before trusting it.
import { createHash } from 'node:crypto';

export interface ParsedToken {
  /** Hex sha256 of the cluster CA bundle, when the token is in the secure form. */
  caHash?: string;
  /** "server" or "node" (or another username) in the secure form; undefined for a short token. */
  username?: string;
  password: string;
}

const BOOTSTRAP = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

export class TokenError extends Error {}

export function parseToken(token: string): ParsedToken {
  const t = token.trim();
  if (t.startsWith('K10')) {
    const sep = t.indexOf('::');
    if (sep < 0) throw new TokenError('failed to normalize server token; must be in format K10<CA-HASH>::<USERNAME>:<PASSWORD> or <PASSWORD>');
    const caHash = t.slice(3, sep);
    const creds = t.slice(sep + 2);
    const colon = creds.indexOf(':');
    if (colon < 0) return { caHash, password: creds };
    return { caHash, username: creds.slice(0, colon), password: creds.slice(colon + 1) };
  }
  return { password: t };
}

/** True for `k3s token generate` style bootstrap tokens, which cannot join servers. */
export function isBootstrapToken(token: string): boolean {
  return BOOTSTRAP.test(parseToken(token).password);
}

export function caHashOf(caPem: string): string {
  return createHash('sha256').update(caPem).digest('hex');
}

export function formatToken(caPem: string, username: 'server' | 'node', password: string): string {
  return `K10${caHashOf(caPem)}::${username}:${password}`;
}

/** The error K3s prints when the token's CA hash does not match the downloaded CA. */
export function checkCaHash(token: ParsedToken, caPem: string): string | undefined {
  if (!token.caHash) return undefined;
  const actual = caHashOf(caPem);
  if (actual === token.caHash) return undefined;
  return `token CA hash does not match the Cluster CA certificate hash: ${token.caHash} != ${actual}`;
}

// SCRAM-SHA-256 verifiers as PostgreSQL stores them in pg_authid.rolpassword (RFC 5802/7677):
//   SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>
// Computing them here lets the role (1) check whether the stored password is the wanted one
// without the password ever leaving the controller, and (2) set it by sending the verifier,
// so the plaintext never reaches the server (nor a statement log). Passwords are restricted to
// printable ASCII (see vars.ts), for which SASLprep is the identity: the result is exact.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCRAM_ITERATIONS = 4096;

function hmac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text).digest();
}

function keys(password: string, salt: Buffer, iterations: number): { storedKey: Buffer; serverKey: Buffer } {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  return { storedKey: createHash('sha256').update(clientKey).digest(), serverKey: hmac(salted, 'Server Key') };
}

/** A new verifier for the password (random salt unless given). */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const k = keys(password, salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${k.storedKey.toString('base64')}:${k.serverKey.toString('base64')}`;
}

/** Does this stored verifier accept the password? False for md5 hashes, empty or malformed. */
export function scramMatches(stored: string, password: string): boolean {
  return scramDigestMatches(describeVerifier(stored.trim()), password);
}

/**
 * What the role's probe reads instead of the verifier itself: its scheme, its public half
 * (`<iterations>:<salt>`) and a SHA-256 of the whole. Once the role has set a verifier it is
 * registered as a secret (lib/secrets), and every command's output is masked where it appears:
 * a probe that read the verifier back would see the mask, and a second run in the same
 * process would find the password wrong and set it again. The digest is never masked, and the
 * verifier itself never leaves the server for a check.
 */
export interface StoredVerifier {
  /** 'SCRAM-SHA-256', 'other' (md5, a plaintext of old), or '' (no password). */
  scheme: string;
  /** `<iterations>:<salt b64>` for SCRAM. */
  params: string;
  /** Hex SHA-256 of the stored verifier. */
  sha256: string;
}

/** Does the stored verifier (as the probe describes it) accept the password? */
export function scramDigestMatches(v: StoredVerifier, password: string): boolean {
  if (v.scheme !== 'SCRAM-SHA-256') return false;
  const m = /^(\d+):([A-Za-z0-9+/=]+)$/.exec(v.params.trim());
  if (!m) return false;
  const iterations = Number(m[1]);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10_000_000) return false;
  const want = createHash('sha256').update(scramVerifier(password, Buffer.from(m[2]!, 'base64'), iterations), 'utf8').digest();
  const got = Buffer.from(v.sha256.trim(), 'hex');
  return got.length === 32 && timingSafeEqual(got, want);
}

/** The probe's view of a verifier, computed here (scramMatches, tests): what the SQL returns. */
export function describeVerifier(stored: string | null): StoredVerifier {
  const v = stored ?? '';
  const scheme = v.startsWith('SCRAM-SHA-256$') ? 'SCRAM-SHA-256' : v ? 'other' : '';
  return { scheme, params: scheme === 'SCRAM-SHA-256' ? (v.split('$')[1] ?? '') : '', sha256: createHash('sha256').update(v, 'utf8').digest('hex') };
}

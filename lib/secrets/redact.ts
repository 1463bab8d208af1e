// Secrets: the registry (registry.ts) and the zod type that feeds it from role variables.
import { z } from 'zod';
import { addSecret } from './registry.ts';

export { REDACTED, addSecret, secretCount, clearSecrets, redact, redactDeep } from './registry.ts';

/**
 * A zod string that registers its parsed value as a secret. Use it in role variable
 * schemas for passwords and tokens: `stats_password: secret()`.
 */
export function secret() {
  return z.string().min(1).transform((v) => {
    addSecret(v);
    return v;
  });
}

/** Inventory/connection variable names whose values are always secrets. */
export const SECRET_VAR_NAMES: ReadonlySet<string> = new Set([
  'ansible_password',
  'ansible_ssh_pass',
  'ansible_ssh_password',
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_sudo_pass',
  'drover_password',
  'drover_become_password',
]);

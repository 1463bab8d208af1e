// One process-wide registry of secret values. Anything that prints (reporters, the UI,
// error messages, JSON events) passes text through redact() first, so a secret marked
// anywhere (a role's schema, an inventory password, -e) never reaches any output.
// No zod here: the UI process imports this and must start fast (redact.ts adds the schema).
export const REDACTED = '********';

const values = new Set<string>();
let pattern: RegExp | null = null;

/** Register a secret value. Short values (< 4 chars) are refused to avoid redacting noise. */
export function addSecret(value: string | undefined | null): void {
  if (value == null) return;
  const v = String(value);
  if (v.length < 4 || values.has(v)) return;
  values.add(v);
  pattern = null;
}

export function secretCount(): number {
  return values.size;
}

/** Test-only: forget all registered secrets. */
export function clearSecrets(): void {
  values.clear();
  pattern = null;
}

function build(): RegExp | null {
  if (values.size === 0) return null;
  // Longest first so a secret containing another is replaced whole.
  const alts = [...values].sort((a, b) => b.length - a.length).map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(alts.join('|'), 'g');
}

export function redact(text: string): string {
  if (values.size === 0 || !text) return text;
  pattern ??= build();
  return pattern ? text.replace(pattern, REDACTED) : text;
}

/** Deep-redact any JSON-like value (strings inside objects/arrays). */
export function redactDeep<T>(value: T): T {
  if (values.size === 0) return value;
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = redactDeep(v);
    return out as T;
  }
  return value;
}

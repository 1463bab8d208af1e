// The connection variables Drover understands (ansible_* names, so Ansible inventories work
// unchanged, and drover_* twins), each with a zod schema that both validates a definition
// when it is loaded and normalises it when a Connection is built. Anything else starting
// with ansible_/drover_, or within edit distance 2 of a known name, is a typo and an error:
// a misspelt ansible_user silently becoming a plain variable is how hosts get reached as
// the wrong user.
import { isIP } from 'node:net';
import { z } from 'zod';
import { InputError, type SourcePos } from '../errors.ts';
import { addSecret, redact, SECRET_VAR_NAMES } from '../secrets/redact.ts';
import { parseSshArgs } from './ssh-args.ts';

export interface VarSpec {
  /** What a valid value looks like, for error messages. */
  expect: string;
  schema: z.ZodType;
}

const TRUE = new Set(['true', 'yes', 'on', 'y', 't', '1']);
const FALSE = new Set(['false', 'no', 'off', 'n', 'f', '0']);

/** Ansible's boolean(): real booleans, 0/1 and the usual yes/no words. */
const bool = z.preprocess((v) => {
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
  }
  if (v === 1) return true;
  if (v === 0) return false;
  return v;
}, z.boolean());

const numeric = (v: unknown) => (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v);
/** YAML reads `password: 123456` as a number and INI `user=1000` likewise: both mean text. */
const text = z.union([z.string(), z.number()]).transform((v) => String(v)).pipe(z.string().min(1));
const port = z.preprocess(numeric, z.number().int().min(1).max(65535));
const seconds = z.preprocess(numeric, z.number().positive());
const secondsOrZero = z.preprocess(numeric, z.number().nonnegative());
const paths = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .transform((v) => (Array.isArray(v) ? v : [v]));
const connection = z
  .preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(['ssh', 'local', 'smart', 'paramiko']))
  .transform((v) => (v === 'local' ? ('local' as const) : ('ssh' as const)));
const sshArgs = z.string().transform((s, ctx) => {
  try {
    return parseSshArgs(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

/** One DNS label of RFC 1123: letters, digits, inner hyphens, 1-63 characters. */
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}\\.?$)${LABEL}(?:\\.${LABEL})*\\.?$`);

/**
 * A host address: an RFC 1123 host name, an IPv4 address, or an IPv6 address (bare, with a
 * %zone, or in [brackets]). Addresses go into ssh, /etc/hosts, chrony and haproxy
 * configurations: anything with spaces or shell/config syntax in it is refused where it is
 * written. A Jinja template is checked once rendered (lib/inventory/jinja-resolve.ts).
 */
export function isHostAddress(s: string): boolean {
  if (isIP(s)) return true;
  const v6 = /^\[(.+)\]$/.exec(s);
  if (v6) return isIP(v6[1]!) === 6;
  // All digits and dots is meant as IPv4: 256.1.1.1 or 10.1 is a mistake, not a host name.
  if (/^[\d.]+$/.test(s)) return false;
  return HOST_NAME.test(s);
}

const isTemplate = (s: string) => s.includes('{{') || s.includes('{%');
const address = text.refine((s) => isTemplate(s) || isHostAddress(s), { message: 'must be a host name (RFC 1123), an IPv4 or an IPv6 address' });

const S = {
  text: { expect: 'a non-empty string', schema: text },
  address: { expect: 'a host name (RFC 1123), an IPv4 or an IPv6 address', schema: address },
  port: { expect: 'an integer from 1 to 65535', schema: port },
  bool: { expect: 'a boolean (true/false, yes/no)', schema: bool },
  paths: { expect: 'a path or a list of paths', schema: paths },
  path: { expect: 'a path', schema: z.string().min(1) },
  connection: { expect: 'ssh or local', schema: connection },
  sshArgs: { expect: 'a string of ssh options', schema: sshArgs },
  seconds: { expect: 'a positive number of seconds', schema: seconds },
  secondsOrZero: { expect: 'a number of seconds (0 turns it off)', schema: secondsOrZero },
  sessions: { expect: 'an integer from 1 to 64', schema: z.preprocess(numeric, z.number().int().min(1).max(64)) },
  int: { expect: 'an integer', schema: z.preprocess(numeric, z.number().int()) },
  becomeMethod: { expect: 'sudo (the only become method Drover has)', schema: z.literal('sudo') },
  anyString: { expect: 'a string', schema: z.string() },
} satisfies Record<string, VarSpec>;

/** Every connection variable Drover accepts, with its type. */
export const CONNECTION_VARS: Readonly<Record<string, VarSpec>> = {
  ansible_host: S.address,
  ansible_ssh_host: S.address,
  drover_host: S.address,
  /** The address other hosts use to reach this one (ctx.addressOf), when not ansible_host. */
  drover_peer_address: S.address,
  ansible_port: S.port,
  ansible_ssh_port: S.port,
  drover_port: S.port,
  ansible_user: S.text,
  ansible_ssh_user: S.text,
  drover_user: S.text,
  ansible_password: S.text,
  ansible_ssh_pass: S.text,
  ansible_ssh_password: S.text,
  drover_password: S.text,
  ansible_ssh_private_key_file: S.path,
  ansible_private_key_file: S.path,
  drover_private_key_file: S.paths,
  ansible_connection: S.connection,
  drover_connection: S.connection,
  ansible_become: S.bool,
  drover_become: S.bool,
  ansible_become_user: S.text,
  drover_become_user: S.text,
  ansible_become_password: S.text,
  ansible_become_pass: S.text,
  ansible_sudo_pass: S.text,
  drover_become_password: S.text,
  ansible_become_method: S.becomeMethod,
  ansible_ssh_common_args: S.sshArgs,
  ansible_ssh_extra_args: S.sshArgs,
  ansible_timeout: S.seconds,
  ansible_ssh_timeout: S.seconds,
  drover_connect_timeout: S.seconds,
  drover_keepalive_interval: S.secondsOrZero,
  /** Default bound of a command that gives no timeout of its own (0: none). */
  drover_command_timeout: S.secondsOrZero,
  drover_max_sessions: S.sessions,
  drover_agent: S.path,
  drover_proxy_jump: S.text,
  drover_known_hosts: S.paths,
  drover_accept_new_host_keys: S.bool,
  drover_pipelining: S.bool,
  drover_probe_ahead: S.bool,
  /** Sorts sibling groups for variable precedence, as in Ansible. */
  ansible_group_priority: S.int,
  // Accepted so Ansible inventories load, and ignored: Drover runs no Python on hosts and
  // always sends a task's script in one round trip (Ansible's pipelining is about how its
  // modules reach a host; Drover's one shell per connection is drover_pipelining).
  ansible_python_interpreter: S.anyString,
  ansible_pipelining: S.bool,
  ansible_ssh_pipelining: S.bool,
};

/**
 * Variables that are not connection variables (no typo check around their names) but hold
 * an address, checked like ansible_host.
 */
export const ADDRESS_VARS: Readonly<Record<string, VarSpec>> = {
  peer_address: S.address,
};

const KNOWN_NAMES = Object.keys(CONNECTION_VARS);

export function isSecretVar(name: string): boolean {
  return SECRET_VAR_NAMES.has(name);
}

/** Levenshtein distance, stopping early once it exceeds `max`. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

function nearestKnown(name: string): { name: string; distance: number } | undefined {
  const lower = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const k of KNOWN_NAMES) {
    const d = editDistance(lower, k, 3);
    if (!best || d < best.distance) best = { name: k, distance: d };
  }
  return best;
}

/** A short, redacted description of a bad value; a secret's value is never shown. */
export function describeValue(value: unknown, secret: boolean): string {
  const type =
    value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
  if (secret || value === null || typeof value === 'object') return type;
  const shown = JSON.stringify(value);
  return redact(shown.length > 40 ? shown.slice(0, 37) + '...' : shown);
}

/** Register the value of a secret variable so no output can show it. */
function registerSecret(value: unknown): void {
  if (typeof value === 'string' || typeof value === 'number') addSecret(String(value));
}

/**
 * Check one variable definition: its name (typos of connection variables) and, for a
 * connection variable, its type. Registers secret values first, so even the error path
 * cannot leak them. Throws InputError at `pos`.
 */
export function validateVar(name: string, value: unknown, pos: SourcePos): void {
  const spec = CONNECTION_VARS[name] ?? ADDRESS_VARS[name];
  if (spec) {
    const secret = isSecretVar(name);
    if (secret) registerSecret(value);
    // A Jinja template is checked once rendered (jinja-resolve.ts evaluateInventory).
    if (typeof value === 'string' && /\{\{|\{%/.test(value)) return;
    const r = spec.schema.safeParse(value);
    if (!r.success) {
      const custom = r.error.issues.find((i) => i.code === 'custom');
      const why = custom ? custom.message : `must be ${spec.expect}`;
      throw new InputError(`${why} (got ${describeValue(value, secret)})`, pos, name);
    }
    return;
  }
  const near = nearestKnown(name);
  const prefixed = /^(ansible|drover)_/i.test(name);
  if (near && near.distance <= 2) {
    // A misspelt password is still a password.
    if (isSecretVar(near.name)) registerSecret(value);
    const what = prefixed ? 'unknown connection variable' : 'looks like a misspelt connection variable';
    throw new InputError(`${what}: did you mean ${near.name}?`, pos, name);
  }
  if (prefixed) {
    if (/pass|secret|token|key/i.test(name)) registerSecret(value);
    throw new InputError(
      'unknown connection variable: names starting with ansible_ or drover_ are reserved for the ones listed in lib/inventory/README.md',
      pos,
      name,
    );
  }
}

/** Parse a (validated) connection variable into its normalised form. */
export function parseConnectionVar(name: string, value: unknown, pos: SourcePos): unknown {
  validateVar(name, value, pos);
  return CONNECTION_VARS[name]!.schema.parse(value);
}

// Variable helpers for role schemas: one spelling of booleans, ports, CIDRs, durations and
// addresses for every role, accepting what YAML, INI inventories and -e produce (INI and -e
// give strings: `base_ntp_enabled=yes`, `haproxy_api_port=6443`).
import { isIP } from 'node:net';
import { z } from 'zod';

const TRUE = ['true', 'yes', 'on', '1', 'y'];
const FALSE = ['false', 'no', 'off', '0', 'n'];

/** Ansible's booleans: true/false, yes/no, on/off, 1/0 (any case), from YAML, INI or -e. */
export function flag() {
  return z.union([
    z.boolean(),
    z.number().refine((n) => n === 0 || n === 1, { message: 'expected a boolean (true/false, yes/no, on/off, 1/0)' }).transform((n) => n === 1),
    z
      .string()
      .transform((s) => s.trim().toLowerCase())
      .refine((s) => TRUE.includes(s) || FALSE.includes(s), { message: 'expected a boolean (true/false, yes/no, on/off, 1/0)' })
      .transform((s) => TRUE.includes(s)),
  ]);
}

/** An integer, also when written as a string ("6443" from INI or -e). */
export function integer(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) {
  return z
    .union([z.number(), z.string().trim().regex(/^-?\d+$/, 'expected an integer').transform(Number)])
    .pipe(z.number().int().min(min).max(max));
}

/** A TCP/UDP port number 1-65535. */
export function port() {
  return integer(1, 65535);
}

/** '10.17.4.0/24', '10.17.4.1', 'fd00::/8': an address with an optional prefix length. */
export function isCidr(s: string): boolean {
  const [addr, len, ...rest] = s.split('/');
  if (rest.length || !addr) return false;
  const family = isIP(addr);
  if (!family) return false;
  if (len === undefined) return true;
  if (!/^\d{1,3}$/.test(len)) return false;
  return Number(len) <= (family === 4 ? 32 : 128);
}

export function cidr() {
  return z.string().trim().refine(isCidr, { message: 'expected an IP address or CIDR (10.0.0.0/8, fd00::/8)' });
}

/** '6443', '6443/tcp', '2379-2380/tcp', '8472/udp' (firewalld's spelling). */
export const PORT_SPEC = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(tcp|udp))?$/;

export interface PortSpec {
  from: number;
  to: number;
  proto: 'tcp' | 'udp';
}

export function parsePortSpec(s: string): PortSpec | undefined {
  const m = PORT_SPEC.exec(s.trim());
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || to < from) return undefined;
  return { from, to, proto: (m[3] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
}

/** A port or range with an optional protocol, as a string: 6443, '2379-2380/tcp', '8472/udp'. */
export function portSpec() {
  return z
    .union([z.number().int(), z.string()])
    .transform((v) => String(v))
    .refine((s) => parsePortSpec(s) !== undefined, { message: 'expected a port or range with an optional protocol: 6443, 2379-2380/tcp, 8472/udp' });
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** '500ms', '30s', '5m', '1h30m', '2d' (or a number of seconds) -> milliseconds. */
export function parseDuration(s: string): number | undefined {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    end = re.lastIndex;
  }
  return end === t.length && end > 0 ? Math.round(total) : undefined;
}

/** A duration in milliseconds: '30s', '5m', '1h30m', '250ms', or a number of seconds. */
export function duration() {
  return z
    .union([z.number().nonnegative().transform((n) => Math.round(n * 1000)), z.string().transform((s, c) => {
      const ms = parseDuration(s);
      if (ms === undefined) {
        c.addIssue({ code: 'custom', message: 'expected a duration: 30s, 5m, 1h30m, 250ms (or a number of seconds)' });
        return z.NEVER;
      }
      return ms;
    })]);
}

/** A host name (RFC 1123 labels) or an IPv4/IPv6 address: what may stand in an address field. */
export function isHostAddress(s: string): boolean {
  if (isIP(s)) return true;
  if (s.length > 253) return false;
  return s.split('.').every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

export function hostAddress() {
  return z.string().trim().refine(isHostAddress, { message: 'expected a host name or an IP address' });
}

/** An inventory group name. */
export function groupName() {
  return z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected an inventory group name (letters, digits, _ . -)');
}

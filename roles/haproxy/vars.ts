// The haproxy role's variables: flat, prefixed `haproxy_`, parsed from the host's merged vars
// (inventory < play vars < -e) with these defaults. Backends are not listed here: they come
// from the inventory groups named by haproxy_api_group / haproxy_ingress_group.
import { isIP } from 'node:net';
import { z } from 'zod';
import { secret } from '../../lib/secrets/redact.ts';
import { flag, groupName, integer, port } from '../../lib/vars/index.ts';

/**
 * HAProxy time values, passed through as HAProxy reads them: a number (milliseconds, HAProxy's
 * default unit) or a number with a unit (100ms, 2s, 1m, 1h, 1d). Not lib/vars duration(),
 * whose bare number means seconds: `haproxy_check_inter: 2000` keeps meaning 2000 ms.
 */
export const haproxyTime = z
  .union([z.number().int().positive(), z.string()])
  .transform((v) => String(v))
  .refine((s) => /^\d+(us|ms|s|m|h|d)?$/.test(s), { message: 'expected a HAProxy time: 500ms, 2s, 1m, 1h (or a number of ms)' });

/** A bind address without the port: '*' (every IPv4 address), '::' or any IP address. */
const bindAddress = z.string().refine((s) => s === '*' || isIP(s) !== 0, { message: "expected '*' or an IP address" });

/**
 * The stats password is written into a single-quoted HAProxy word: no quote, no control
 * characters. At least 8 characters: it protects an admin page reachable on the network,
 * and the redaction registry ignores very short values.
 */
const statsPassword = z
  .string()
  .min(8, 'the stats password must have at least 8 characters')
  .refine((s) => !/['\x00-\x1f\x7f]/.test(s), { message: 'the stats password may not contain a single quote or control characters' })
  .pipe(secret());

export const haproxyVars = z
  .object({
    /** Distribution package to install. */
    haproxy_package: z.string().default('haproxy'),
    haproxy_config_path: z.string().default('/etc/haproxy/haproxy.cfg'),
    /** Address the frontends and the stats page bind to ('*': every address, VIPs included). */
    haproxy_bind_address: bindAddress.default('*'),
    haproxy_maxconn: integer(1).default(4096),
    /** The admin socket (runtime API: `show stat`, `disable server`). */
    haproxy_stats_socket: z.string().regex(/^\/[^\s'"#]+$/, 'expected an absolute path').default('/run/haproxy/admin.sock'),

    /** Kubernetes API: frontend port, backend port and the group of backend hosts. */
    haproxy_api_port: port().default(6443),
    haproxy_api_backend_port: port().default(6443),
    haproxy_api_group: groupName().default('masters'),

    /** Ingress (Traefik on the workers): TCP passthrough of each port to the same port. */
    haproxy_ingress_enabled: flag().default(true),
    haproxy_ingress_ports: z.array(port()).min(1).default([80, 443]),
    haproxy_ingress_group: groupName().default('workers'),

    haproxy_balance: z.enum(['roundrobin', 'leastconn', 'source', 'first', 'static-rr']).default('roundrobin'),
    /** Health checks: a server is down after `fall` failed checks, up after `rise` good ones. */
    haproxy_check_inter: haproxyTime.default('2s'),
    haproxy_check_fall: integer(1).default(2),
    haproxy_check_rise: integer(1).default(1),

    haproxy_timeout_connect: haproxyTime.default('5s'),
    haproxy_timeout_client: haproxyTime.default('1m'),
    haproxy_timeout_server: haproxyTime.default('1m'),
    /** Idle limit of an established TCP connection (kubectl watches, logs -f). */
    haproxy_timeout_tunnel: haproxyTime.default('1h'),

    /** The stats page (HTTP, basic auth). */
    haproxy_stats_enabled: flag().default(true),
    haproxy_stats_port: port().default(8404),
    haproxy_stats_uri: z.string().regex(/^\/[^\s'"#]*$/, 'expected a path starting with /').default('/stats'),
    haproxy_stats_user: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected a user name (letters, digits, _ . -)').default('admin'),
    /** Required when the stats page is enabled; a secret (redacted everywhere). */
    haproxy_stats_password: statsPassword.optional(),

    /** Raw HAProxy configuration appended at the end (validated with the rest). */
    haproxy_extra_config: z.string().default(''),
  })
  .superRefine((v, ctx) => {
    if (v.haproxy_stats_enabled && v.haproxy_stats_password === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['haproxy_stats_password'],
        message: 'haproxy_stats_password is required when haproxy_stats_enabled is true',
      });
    }
    const ports = [v.haproxy_api_port, ...(v.haproxy_ingress_enabled ? v.haproxy_ingress_ports : []), ...(v.haproxy_stats_enabled ? [v.haproxy_stats_port] : [])];
    const dup = ports.find((p, i) => ports.indexOf(p) !== i);
    if (dup !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['haproxy_ingress_ports'], message: `port ${dup} is used by two frontends` });
    }
  });

export type HaproxyVars = z.infer<typeof haproxyVars>;

// The keepalived role's variables: flat, prefixed `keepalived_`, parsed from the host's merged
// vars (inventory < play vars < -e) with these defaults. The interface, the unicast peers and
// the initial state are derived at task time from facts and the inventory (see model.ts).
import { isIP } from 'node:net';
import { z } from 'zod';
import { secret } from '../../lib/secrets/redact.ts';
import { duration, flag, integer, port } from '../../lib/vars/index.ts';

const ip = z.string().refine((s) => isIP(s) !== 0, { message: 'expected an IP address' });

export const vip = z.object({
  /** A short name, used in comments ('api', 'web'). */
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected a short name (letters, digits, _ . -)'),
  address: ip,
  /** Ports served on this VIP (documentation; haproxy binds every address). */
  ports: z.array(port()).default([]),
  /** Prefix length; default: that of the interface's own address. */
  prefix: integer(0, 128).optional(),
});
export type Vip = z.infer<typeof vip>;

/**
 * VRRPv2 simple password: keepalived uses at most 8 characters (it truncates longer ones),
 * and the redaction registry ignores values under 4. Written unquoted: no blanks, quotes or
 * comment characters.
 */
const authPass = z
  .string()
  .min(4, 'keepalived_auth_pass needs 4 to 8 characters')
  .max(8, 'keepalived_auth_pass needs 4 to 8 characters (VRRP PASS authentication uses 8)')
  .regex(/^[^\s"'#!{}\\]+$/, 'keepalived_auth_pass may not contain blanks, quotes, #, !, braces or backslashes')
  .pipe(secret());

/** A duration in keepalived's unit, seconds: 1, '1s', '500ms' (a bare number is seconds). */
const seconds = () => duration().transform((ms) => ms / 1000);

/** VRRP priority: higher wins. Also parses a peer's keepalived_priority (model.ts). */
export const priority = integer(1, 254);

export const keepalivedVars = z
  .object({
    keepalived_package: z.string().default('keepalived'),
    keepalived_config_path: z.string().default('/etc/keepalived/keepalived.conf'),
    /** The group of VRRP peers (unicast peers, and who has the highest priority). */
    keepalived_group: z.string().default('loadbalancers'),
    /** Addresses the pair holds; all in one VRRP instance, so they move together. */
    keepalived_vips: z.array(vip).min(1, 'keepalived_vips needs at least one VIP'),
    keepalived_instance_name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected letters, digits, _ or -').default('VI_LB'),
    keepalived_virtual_router_id: integer(1, 255).default(51),
    /** Higher wins; the highest of the group starts as MASTER. */
    keepalived_priority: priority.default(100),
    /** Initial state; default: MASTER for the highest priority of the group, else BACKUP. */
    keepalived_state: z.enum(['MASTER', 'BACKUP']).optional(),
    keepalived_advert_int: seconds().pipe(z.number().positive()).default(1),
    /** Interface holding the VIPs; default: the one carrying the host's address (facts). */
    keepalived_interface: z
      .string()
      .regex(/^[A-Za-z0-9_.:@-]+$/, 'expected an interface name')
      .optional(),
    /** Unicast VRRP to the group's other hosts (clouds and networks without multicast). */
    keepalived_unicast: flag().default(false),
    /** A recovered higher-priority node takes the VIPs back. */
    keepalived_preempt: flag().default(true),
    /** Seconds to wait before preempting (0: at once). */
    keepalived_preempt_delay: seconds().pipe(z.number().int().min(0).max(1000)).default(0),
    /** Simple VRRP password (a secret); unset: no authentication block. */
    keepalived_auth_pass: authPass.optional(),
    /** Health of the local load balancer; failing it moves the VIPs away. */
    keepalived_check_script: z
      .string()
      .regex(/^\/[^"\n]*$/, 'expected an absolute command path without double quotes')
      .default('/usr/bin/systemctl is-active --quiet haproxy'),
    keepalived_check_interval: seconds().pipe(z.number().int().min(1)).default(1),
    keepalived_check_fall: integer(1).default(2),
    keepalived_check_rise: integer(1).default(2),
    /** 0: a failing check puts the instance in FAULT (VIPs released at once); else added to the priority. */
    keepalived_check_weight: integer(-253, 253).default(0),
  })
  .superRefine((v, ctx) => {
    if (!v.keepalived_preempt && v.keepalived_state === 'MASTER') {
      ctx.addIssue({ code: 'custom', path: ['keepalived_state'], message: 'nopreempt (keepalived_preempt: false) needs state BACKUP' });
    }
    const seen = new Set<string>();
    for (const [i, x] of v.keepalived_vips.entries()) {
      if (seen.has(x.address)) ctx.addIssue({ code: 'custom', path: ['keepalived_vips', i, 'address'], message: `VIP ${x.address} is listed twice` });
      seen.add(x.address);
    }
  });

export type KeepalivedVars = z.infer<typeof keepalivedVars>;

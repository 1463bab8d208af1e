// The base role's variables: flat, prefixed `base_`, parsed from the host's merged vars
// (inventory < play vars < -e) with these defaults. Flags, CIDRs, ports and numbers use the
// shared helpers of lib/vars, so INI and -e spellings ("yes", "6443") parse as in every role. Values that depend on other hosts (NTP
// server address, allowed subnet) default to undefined here and are derived at task time
// from the inventory and facts (see ntp.ts).
import { z } from 'zod';
import { secret } from '../../lib/secrets/redact.ts';
import { cidr, flag, groupName, integer, portSpec } from '../../lib/vars/index.ts';

const userName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'expected a POSIX user name (lowercase, digits, _ and -)');

export const adminUser = z.object({
  name: userName,
  /** Public keys (authorized_keys lines). */
  keys: z.array(z.string().min(1)).default([]),
  /** May use sudo (a line in /etc/sudoers.d/drover-admins). */
  sudo: flag().default(false),
  /** sudo without a password (NOPASSWD). */
  sudo_nopasswd: flag().default(false),
  shell: z.string().default('/bin/bash'),
  /** crypt(3) hash for sudo with a password; a secret (redacted everywhere). */
  password_hash: secret().optional(),
});
export type AdminUser = z.infer<typeof adminUser>;

export const baseVars = z.object({
  /** Hostname; default: the inventory name. */
  base_hostname: z.string().optional(),
  /** Manage a block in /etc/hosts with every inventory host (name -> its peer address). */
  base_etc_hosts: flag().default(true),
  base_timezone: z.string().default('Europe/Madrid'),
  /** Packages installed everywhere (chrony, nftables and sudo are added when needed). */
  base_packages: z.array(z.string().min(1)).default(['ca-certificates', 'curl', 'tzdata']),
  base_admin_users: z.array(adminUser).default([]),
  /** authorized_keys holds exactly the listed keys (others removed). */
  base_admin_keys_exclusive: flag().default(true),

  base_sshd_password_authentication: flag().default(false),
  base_sshd_permit_root_login: z.enum(['yes', 'no', 'prohibit-password', 'forced-commands-only']).default('prohibit-password'),
  /** More sshd keywords for the drop-in, e.g. { MaxAuthTries: 3 }. */
  base_sshd_options: z.record(z.string().regex(/^[A-Za-z]+$/), z.union([z.string(), z.number(), z.boolean()])).default({}),

  /** Install and configure chrony. */
  base_ntp_enabled: flag().default(true),
  /** Hosts of this group serve NTP; the others use the first of them. */
  base_ntp_server_group: groupName().default('infra'),
  /** The client's NTP servers; default: the address of the first host of base_ntp_server_group. */
  base_ntp_servers: z.array(z.string().min(1)).optional(),
  /** Upstream pools of the NTP server itself (and of clients when there is no server group). */
  base_ntp_upstream: z.array(z.string().min(1)).default(['2.debian.pool.ntp.org']),
  /** Subnets the NTP server answers; default: the subnet of its inventory address (from facts). */
  base_ntp_allow: z.array(cidr()).optional(),
  /** Stratum the server claims from its own clock when no upstream is reachable. */
  base_ntp_local_stratum: integer(1, 15).default(10),

  /** nftables allow-list: protected ports only reachable from the allowed sources. */
  base_nftables_enabled: flag().default(false),
  /** Sources allowed to reach the protected ports (default: the private LAN/VPN ranges). */
  base_nftables_allowed_cidrs: z.array(cidr()).default(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']),
  /** Ports reachable only from the allowed sources (seed 004: the K3s API). */
  base_nftables_protected_ports: z.array(portSpec()).default(['6443/tcp']),
});

export type BaseVars = z.infer<typeof baseVars>;

import { z } from 'zod';

export const InterfaceFactSchema = z.object({
  name: z.string(),
  mac: z.string().optional(),
  up: z.boolean(),
  /** CIDR form, e.g. 10.17.4.21/24 and fe80::1/64 */
  addresses: z.array(z.string()),
});

export const FactsSchema = z.object({
  hostname: z.string(),
  os: z.object({
    /** os-release ID: debian, ubuntu, almalinux, rocky, flatcar ... */
    id: z.string(),
    /** Family: debian | redhat | flatcar | alpine | arch | suse | unknown */
    family: z.enum(['debian', 'redhat', 'flatcar', 'alpine', 'arch', 'suse', 'unknown']),
    version: z.string(),
    versionMajor: z.number().int().nullable(),
    codename: z.string().optional(),
    prettyName: z.string().optional(),
  }),
  kernel: z.string(),
  arch: z.string(),
  init: z.enum(['systemd', 'openrc', 'sysvinit', 'unknown']),
  pkgManager: z.enum(['apt', 'dnf', 'yum', 'apk', 'none']),
  /** systemd-detect-virt --container / markers: 'systemd-nspawn', 'docker', 'lxc', ... or null */
  container: z.string().nullable(),
  /** systemd-detect-virt --vm: 'kvm', 'qemu', ... or null */
  vm: z.string().nullable(),
  python: z.string().nullable(),
  interfaces: z.array(InterfaceFactSchema),
  defaultIpv4: z.string().nullable(),
  memTotalMb: z.number(),
  cpus: z.number().int(),
  /** uid of the login user, and whether sudo works without a password */
  uid: z.number().int(),
  selinux: z.enum(['enforcing', 'permissive', 'disabled', 'absent']),
});

export type Facts = z.infer<typeof FactsSchema>;
export type InterfaceFact = z.infer<typeof InterfaceFactSchema>;

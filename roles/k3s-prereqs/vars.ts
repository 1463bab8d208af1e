// The k3s-prereqs role's variables (prefix k3s_prereqs_), plus the two base_nftables_* vars
// it shares with role base: when base manages the nftables allow-list, this role adds the
// K3s ports to it.
import { z } from 'zod';
import { cidr, flag, groupName, port, portSpec } from '../../lib/vars/index.ts';
import { baseVars } from './from-base.ts';

export const K3S_SYSCTL_FILE = '90-k3s';

export const k3sPrereqsVars = z.object({
  /** Kernel modules K3s needs, persisted in /etc/modules-load.d/k3s.conf and loaded. */
  k3s_prereqs_modules: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/)).default(['overlay', 'br_netfilter']),
  /** Turn swap off now and comment swap lines out of /etc/fstab. */
  k3s_prereqs_disable_swap: flag().default(true),
  /** More sysctls for /etc/sysctl.d/90-k3s.conf (key -> value). */
  k3s_prereqs_sysctls_extra: z.record(z.string().regex(/^[a-z0-9_.\/-]+$/), z.union([z.string(), z.number()])).default({}),
  /** RHEL family: put SELinux in permissive mode (now and in /etc/selinux/config). */
  k3s_prereqs_selinux_permissive: flag().default(true),
  /** K3s API, etcd, kubelet, flannel VXLAN, flannel WireGuard (IPv4, IPv6). */
  k3s_prereqs_firewall_ports: z.array(portSpec()).default(['6443/tcp', '2379-2380/tcp', '10250/tcp', '8472/udp', '51820-51821/udp']),
  /** The cluster's nodes: their addresses may reach the K3s ports. */
  k3s_prereqs_nodes_group: groupName().default('k3s_cluster'),
  /** Pod and service networks (K3s defaults), trusted like nodes (pods reach kubelet and the API). */
  k3s_prereqs_cluster_cidrs: z.array(cidr()).default(['10.42.0.0/16', '10.43.0.0/16']),
  /** Groups whose hosts may reach the API port only (seed 004: the HAProxy pair). */
  k3s_prereqs_api_client_groups: z.array(groupName()).default(['loadbalancers']),
  k3s_prereqs_api_port: port().default(6443),
  base_nftables_enabled: baseVars.shape.base_nftables_enabled,
});

export type K3sPrereqsVars = z.infer<typeof k3sPrereqsVars>;

/** The sysctls K3s needs (forwarding for pod traffic, bridged traffic through iptables). */
export const FORWARDING_SYSCTLS = { 'net.ipv4.ip_forward': '1', 'net.ipv6.conf.all.forwarding': '1' } as const;
export const BRIDGE_SYSCTLS = { 'net.bridge.bridge-nf-call-iptables': '1', 'net.bridge.bridge-nf-call-ip6tables': '1' } as const;

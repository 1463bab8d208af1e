// The variables of roles k3s-master and k3s-worker (one schema: the cluster-wide values must be
// the same for both, and the cilium role reads k3s_flannel_backend, k3s_disable_network_policy
// and k3s_disable_kube_proxy from it). Flat, prefixed `k3s_`, parsed from the host's merged vars.
import { isIP } from 'node:net';
import { z } from 'zod';
import { secret } from '../../lib/secrets/redact.ts';
import { cidr, duration, flag, groupName, hostAddress, port } from '../../lib/vars/index.ts';

/** A K3s release tag: v1.31.12+k3s1, v1.32.0-rc1+k3s1. */
export const K3S_VERSION_RE = /^v\d+\.\d+\.\d+(-rc\d+)?\+k3s\d+$/;

/** K3s's packaged components that `disable:` accepts (docs/installation/packaged-components.md). */
export const K3S_COMPONENTS = ['coredns', 'servicelb', 'traefik', 'local-storage', 'metrics-server', 'runtimes'] as const;

/** A node name: K3s registers it as a Kubernetes Node (RFC 1123 subdomain, lower case). */
const nodeName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'expected a lower-case node name (RFC 1123: a-z, 0-9, - and .)')
  .max(253);

/**
 * The cluster token: written into config.yaml (0600), never on a command line. A plain secret
 * (the first server can only take a short token) or the secure K10... form read from a server.
 * No whitespace: it is one YAML scalar and one line of the env file.
 */
const token = z
  .string()
  .min(8, 'the K3s token must have at least 8 characters')
  .refine((s) => !/[\s'"\\]/.test(s), { message: 'the K3s token may not contain whitespace, quotes or backslashes' })
  .pipe(secret());

/** Config keys given as YAML values: scalars or lists of scalars. */
const configValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]);
const configExtra = z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*\+?$/, 'expected a K3s flag name without the leading -- (e.g. kubelet-arg)'), configValue);

export const k3sVars = z
  .object({
    /** The K3s release to install (pinned; an upgrade is a change of this value). */
    k3s_version: z.string().regex(K3S_VERSION_RE, 'expected a K3s release tag such as v1.31.12+k3s1').default('v1.31.12+k3s1'),
    /** download: from the release on each host, checked against sha256sum-<arch>.txt; airgap: upload from k3s_airgap_dir. */
    k3s_install_method: z.enum(['download', 'airgap']).default('download'),
    /** Base URL of the releases: <url>/<version>/k3s and <url>/<version>/sha256sum-<arch>.txt. */
    k3s_release_url: z.string().regex(/^https?:\/\/[^\s'"]+$/, 'expected an http(s) URL').default('https://github.com/k3s-io/k3s/releases/download'),
    /** Controller folder with the air-gap artifacts: k3s (k3s-arm64 ...), k3s-airgap-images-<arch>.tar[.zst|.gz], sha256sum-<arch>.txt. */
    k3s_airgap_dir: z.string().min(1).optional(),

    /** The cluster token (secret). Unset: the first server generates one and the others read it from it. */
    k3s_token: token.optional(),

    /** The API VIP (seed 004: keepalived on the load balancers); falls back to `api_vip`. */
    k3s_api_vip: hostAddress().optional(),
    api_vip: hostAddress().optional(),
    k3s_api_port: port().default(6443),
    /** Inventory groups: servers (the first one bootstraps the cluster) and agents. */
    k3s_server_group: groupName().default('masters'),
    k3s_agent_group: groupName().default('workers'),
    /** Names the kubeconfig's cluster, user and context on the controller. */
    k3s_cluster_name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a name (letters, digits, _ . -)').default('k3s'),
    /** Where the kubeconfig goes on the controller (default ~/.kube/<cluster>.yaml). */
    k3s_kubeconfig_path: z.string().min(1).optional(),

    /** This node's Kubernetes name (default: the inventory name). */
    k3s_node_name: nodeName.optional(),
    /** The address K3s advertises (node-ip; etcd peers use it). Default: the inventory's peer address. */
    k3s_node_ip: z.string().refine((s) => isIP(s) !== 0, { message: 'expected an IP address' }).optional(),
    k3s_node_labels: z.array(z.string().regex(/^\S+=\S*$/, 'expected key=value')).default([]),
    k3s_node_taints: z.array(z.string().regex(/^\S+(=\S*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/, 'expected key[=value]:Effect')).default([]),

    /** More names/addresses in the serving certificate (the VIP is always added). */
    k3s_tls_san: z.array(hostAddress()).default([]),
    /** Packaged components not to deploy (seed 004 keeps Traefik and servicelb for ingress). */
    k3s_disable: z.array(z.enum(K3S_COMPONENTS)).default([]),
    /** Critical values (identical on every server; checked before any join). Cilium: none, true, true. */
    k3s_flannel_backend: z.enum(['vxlan', 'host-gw', 'wireguard-native', 'none']).default('vxlan'),
    k3s_disable_network_policy: flag().default(false),
    k3s_disable_kube_proxy: flag().default(false),
    k3s_cluster_cidr: cidr().optional(),
    k3s_service_cidr: cidr().optional(),
    k3s_cluster_dns: z.string().refine((s) => isIP(s) !== 0, { message: 'expected an IP address' }).optional(),
    k3s_cluster_domain: z.string().regex(/^[a-z0-9.-]+$/).optional(),
    k3s_secrets_encryption: flag().default(false),
    /** Mode of /etc/rancher/k3s/k3s.yaml on the servers (K3s's default 0600: root only). */
    k3s_write_kubeconfig_mode: z.string().regex(/^0?[0-7]{3}$/).default('0600'),
    /** More config.yaml keys (flag names without --), merged last. */
    k3s_server_config_extra: configExtra.default({}),
    k3s_agent_config_extra: configExtra.default({}),
    /** Environment of the unit (k3s.service.env, 0600): HTTP_PROXY, NO_PROXY, CONTAINERD_* ... */
    k3s_service_env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().refine((s) => !/[\n\r]/.test(s))).default({}),
    /** kubectl, crictl and ctr links to k3s in /usr/local/bin (as install.sh makes them). */
    k3s_symlinks: flag().default(true),

    /** Bound of every wait: a start, readiness, an etcd join, an agent's registration. */
    k3s_ready_timeout: duration().default(300_000),
    /**
     * TEST ONLY: turn the roll's safety off (servers restarted all at once, no readiness gate),
     * so a lab test can show that without the gates the cluster loses quorum. Never on real hosts.
     */
    k3s_test_unsafe_roll: flag().default(false),
  })
  .superRefine((v, c) => {
    if (v.k3s_install_method === 'airgap' && !v.k3s_airgap_dir) {
      c.addIssue({ code: 'custom', path: ['k3s_airgap_dir'], message: 'k3s_airgap_dir (a controller folder) is required when k3s_install_method is airgap' });
    }
    if (!v.k3s_api_vip && !v.api_vip) {
      c.addIssue({ code: 'custom', path: ['k3s_api_vip'], message: 'k3s_api_vip (or api_vip) is required: servers join and agents register through it' });
    }
  });

export type K3sVars = z.infer<typeof k3sVars>;

/** The API address every join goes through. */
export function apiVip(v: Pick<K3sVars, 'k3s_api_vip' | 'api_vip'>): string {
  return (v.k3s_api_vip ?? v.api_vip)!;
}

/** ready timeout in whole seconds (for the on-host wait loops). */
export const timeoutSec = (v: Pick<K3sVars, 'k3s_ready_timeout'>): number => Math.max(1, Math.ceil(v.k3s_ready_timeout / 1000));


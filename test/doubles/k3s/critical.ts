// The server flags that must be equal on every server (docs/cli/server.md "critical
// configuration", plus disable-kube-proxy from docs/datastore/ha-embedded.md). A joining server
// compares its own values with the cluster's and stops with K3s's fatal message on a mismatch.
import type { Flags } from './config.ts';

export type CriticalConfig = Record<string, string>;

export const CRITICAL_MISMATCH = 'critical configuration value mismatch between servers';

export function criticalOf(f: Flags): CriticalConfig {
  const list = (k: string, d: string) => (f.list(k).length ? f.list(k) : [d]).join(',');
  return {
    'agent-token': f.str('agent-token'),
    'cluster-cidr': list('cluster-cidr', '10.42.0.0/16'),
    'cluster-dns': list('cluster-dns', '10.43.0.10'),
    'cluster-domain': f.str('cluster-domain', 'cluster.local'),
    'disable-cloud-controller': String(f.bool('disable-cloud-controller')),
    'disable-helm-controller': String(f.bool('disable-helm-controller')),
    'disable-kube-proxy': String(f.bool('disable-kube-proxy')),
    'disable-network-policy': String(f.bool('disable-network-policy')),
    'disable=servicelb': String(f.list('disable').includes('servicelb')),
    'egress-selector-mode': f.str('egress-selector-mode', 'agent'),
    'embedded-registry': String(f.bool('embedded-registry')),
    'flannel-backend': f.str('flannel-backend', 'vxlan'),
    'flannel-external-ip': String(f.bool('flannel-external-ip')),
    'flannel-ipv6-masq': String(f.bool('flannel-ipv6-masq')),
    'secrets-encryption': String(f.bool('secrets-encryption')),
    'service-cidr': list('service-cidr', '10.43.0.0/16'),
  };
}

/** Keys whose values differ (a key missing on one side counts as different). */
export function criticalMismatches(mine: CriticalConfig, cluster: CriticalConfig): string[] {
  const keys = new Set([...Object.keys(mine), ...Object.keys(cluster)]);
  return [...keys].filter((k) => mine[k] !== cluster[k]).sort();
}

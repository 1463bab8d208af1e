// The files the K3s roles write, as pure functions (golden-tested): config.yaml, the systemd
// units and env files exactly as K3s's install.sh writes them (the role replaces the script:
// ExecStart is only `k3s server` / `k3s agent`, every setting lives in config.yaml, as
// k3s-ansible does since 1eca3a1), and the controller's kubeconfig rewritten to the VIP.
import { parse as parseYaml, stringify } from 'yaml';
import { REDACTED } from '../../lib/secrets/redact.ts';
import type { K3sConfig } from './model.ts';

export const K3S_BIN = '/usr/local/bin/k3s';
export const CONFIG_DIR = '/etc/rancher/k3s';
export const CONFIG_PATH = `${CONFIG_DIR}/config.yaml`;
export const ADMIN_KUBECONFIG = `${CONFIG_DIR}/k3s.yaml`;
export const DATA_DIR = '/var/lib/rancher/k3s';
export const SERVER_TOKEN = `${DATA_DIR}/server/token`;
export const IMAGES_DIR = `${DATA_DIR}/agent/images`;
export const SYSTEMD_DIR = '/etc/systemd/system';

export type K3sKind = 'server' | 'agent';
/** install.sh's names: k3s.service for a server, k3s-agent.service for an agent. */
export const unitName = (kind: K3sKind): string => (kind === 'server' ? 'k3s' : 'k3s-agent');
export const unitFile = (kind: K3sKind): string => `${SYSTEMD_DIR}/${unitName(kind)}.service`;
export const envFile = (kind: K3sKind): string => `${SYSTEMD_DIR}/${unitName(kind)}.service.env`;

const HEADER = (role: string) => `# Managed by drover (role ${role}): local changes are overwritten.`;

/** /etc/rancher/k3s/config.yaml: one key per flag, lists for repeatable flags (mode 0600: it holds the token). */
export function renderConfig(c: K3sConfig, role: 'k3s-master' | 'k3s-worker'): string {
  return `${HEADER(role)}\n${stringify(c, { lineWidth: 0, defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN' })}`;
}

/** The config with the token masked (for --diff and messages). */
export function maskConfig(text: string): string {
  return text.replace(/^(\s*(?:token|agent-token):\s*).+$/gm, `$1${REDACTED}`);
}

/**
 * The unit install.sh (k3s-io/k3s@0136cf25) writes for `INSTALL_K3S_EXEC=server` (or agent),
 * byte for byte but for the header comment: Type=notify (systemctl start returns on READY),
 * TimeoutStartSec=0 (so every wait of the roles is bounded by the roles), Restart=always.
 */
export function renderUnit(kind: K3sKind): string {
  return [
    '[Unit]',
    'Description=Lightweight Kubernetes',
    'Documentation=https://k3s.io',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
    '[Service]',
    'Type=notify',
    'EnvironmentFile=-/etc/default/%N',
    'EnvironmentFile=-/etc/sysconfig/%N',
    `EnvironmentFile=-${envFile(kind)}`,
    'KillMode=process',
    'Delegate=yes',
    'User=root',
    '# Having non-zero Limit*s causes performance problems due to accounting overhead',
    '# in the kernel. We recommend using cgroups to do container-local accounting.',
    'LimitNOFILE=1048576',
    'LimitNPROC=infinity',
    'LimitCORE=infinity',
    'TasksMax=infinity',
    'TimeoutStartSec=0',
    'Restart=always',
    'RestartSec=5s',
    "ExecStartPre=-/bin/sh -xc '! /usr/bin/systemctl is-enabled --quiet nm-cloud-setup.service 2>/dev/null'",
    'ExecStartPre=-/sbin/modprobe br_netfilter',
    'ExecStartPre=-/sbin/modprobe overlay',
    `ExecStart=${K3S_BIN} \\`,
    `    ${kind} \\`,
    '',
    '',
  ].join('\n');
}

/** The unit's env file (0600, as install.sh makes it): K3S_*, CONTAINERD_*, proxies. */
export function renderEnv(env: Readonly<Record<string, string>>, role: 'k3s-master' | 'k3s-worker'): string {
  const keys = Object.keys(env).sort();
  return [HEADER(role), ...keys.map((k) => `${k}=${env[k]}`)].join('\n') + '\n';
}

/**
 * The admin kubeconfig for the controller: every cluster's server rewritten to the VIP, and
 * K3s's cluster/user/context `default` renamed after the cluster, so it can sit next to others.
 */
export function controllerKubeconfig(k3sYaml: string, o: { server: string; name: string }): string {
  const doc = parseYaml(k3sYaml) as {
    clusters?: Array<{ name: string; cluster: Record<string, unknown> }>;
    users?: Array<{ name: string }>;
    contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
    'current-context'?: string;
  };
  if (!doc || !Array.isArray(doc.clusters) || !Array.isArray(doc.contexts)) throw new Error('k3s.yaml is not a kubeconfig (no clusters/contexts)');
  const rename = (n: string) => (n === 'default' ? o.name : n);
  for (const c of doc.clusters) {
    c.name = rename(c.name);
    c.cluster.server = o.server;
  }
  for (const u of doc.users ?? []) u.name = rename(u.name);
  for (const c of doc.contexts) {
    c.name = rename(c.name);
    c.context.cluster = rename(c.context.cluster);
    c.context.user = rename(c.context.user);
  }
  if (doc['current-context']) doc['current-context'] = rename(doc['current-context']);
  return stringify(doc, { lineWidth: 0 });
}

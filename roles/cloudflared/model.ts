// From the variables to the Kubernetes objects of the tunnel (seed 000: cloudflared as a
// Deployment in the cluster): a Namespace, a Secret with the token or credentials, a ConfigMap
// with config.yaml, a Deployment of >= 2 connectors and a PodDisruptionBudget keeping one up
// during drains. Pure; golden-tested and validated against the Kubernetes schemas in
// test/unit/roles/cloudflared.test.ts.
import { createHash } from 'node:crypto';
// Types only (erased at run time): the object literals below are checked field by field
// against the Kubernetes API types by tsc, so a misspelt field does not compile.
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IConfigMap, IContainer, INamespace, ISecret, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import { stringify } from 'yaml';
import { withCatchAll, type IngressRule } from './ingress.ts';
import { parseCredentials, type CloudflaredVars } from './vars.ts';

export type K8sObject = Record<string, unknown>;

export const CONFIG_DIR = '/etc/cloudflared/config';
export const CONFIG_FILE = `${CONFIG_DIR}/config.yaml`;
export const CREDS_DIR = '/etc/cloudflared/creds';
export const CREDS_FILE = `${CREDS_DIR}/credentials.json`;
/** The distroless image's nonroot user. */
const NONROOT = 65532;

export const mode = (v: CloudflaredVars): 'token' | 'credentials' => (v.cloudflared_tunnel_token !== undefined ? 'token' : 'credentials');

/** The rules config.yaml gets: the variables' rules plus the final catch-all when missing. */
export const ingressRules = (v: CloudflaredVars): IngressRule[] => withCatchAll(v.cloudflared_ingress as IngressRule[], v.cloudflared_catch_all_service);

/** config.yaml, as `cloudflared tunnel --config ... run` reads it. */
export function tunnelConfig(v: CloudflaredVars): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  if (mode(v) === 'credentials') {
    const creds = parseCredentials(v.cloudflared_credentials_json ?? '');
    c.tunnel = v.cloudflared_tunnel ?? (typeof creds === 'string' ? '' : creds.tunnelId);
    c['credentials-file'] = CREDS_FILE;
  } else if (v.cloudflared_tunnel !== undefined) {
    c.tunnel = v.cloudflared_tunnel;
  }
  // 0.0.0.0: the kubelet's liveness probe reaches /ready on the pod IP.
  c.metrics = `0.0.0.0:${v.cloudflared_metrics_port}`;
  c['no-autoupdate'] = true;
  c.loglevel = v.cloudflared_loglevel;
  if (v.cloudflared_origin_request !== undefined) c.originRequest = v.cloudflared_origin_request;
  c.ingress = ingressRules(v);
  return c;
}

export const renderTunnelConfig = (v: CloudflaredVars): string => stringify(tunnelConfig(v), { lineWidth: 0, aliasDuplicateObjects: false });

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export interface CloudflaredObjects {
  namespace: INamespace;
  secret: ISecret;
  configMap: IConfigMap;
  deployment: IDeployment;
  podDisruptionBudget: IPodDisruptionBudget;
}

export function cloudflaredObjects(v: CloudflaredVars): CloudflaredObjects {
  const ns = v.cloudflared_namespace;
  const name = v.cloudflared_name;
  const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/managed-by': 'drover' };
  const selector = { 'app.kubernetes.io/name': name };
  const token = mode(v) === 'token';
  const secretKey = token ? 'token' : 'credentials.json';
  const secretValue = (token ? v.cloudflared_tunnel_token : v.cloudflared_credentials_json) ?? '';
  const config = renderTunnelConfig(v);

  const namespace: INamespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } };
  const secret: ISecret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: ns, labels },
    type: 'Opaque',
    data: { [secretKey]: Buffer.from(secretValue).toString('base64') },
  };
  const configMap: IConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels }, data: { 'config.yaml': config } };

  const volumeMounts: IVolumeMount[] = [{ name: 'config', mountPath: CONFIG_DIR, readOnly: true }];
  const volumes: IVolume[] = [{ name: 'config', configMap: { name, items: [{ key: 'config.yaml', path: 'config.yaml' }] } }];
  if (!token) {
    volumeMounts.push({ name: 'creds', mountPath: CREDS_DIR, readOnly: true });
    volumes.push({ name: 'creds', secret: { secretName: name, defaultMode: 0o400, items: [{ key: 'credentials.json', path: 'credentials.json' }] } });
  }
  const container: IContainer = {
    name: 'cloudflared',
    image: v.cloudflared_image,
    args: ['tunnel', '--config', CONFIG_FILE, 'run'],
    ...(token ? { env: [{ name: 'TUNNEL_TOKEN', valueFrom: { secretKeyRef: { name, key: 'token' } } }] } : {}),
    ports: [{ name: 'metrics', containerPort: v.cloudflared_metrics_port, protocol: 'TCP' }],
    // /ready answers 200 once the connector holds a connection to the edge (Cloudflare's own
    // Kubernetes example probes it the same way).
    livenessProbe: { httpGet: { path: '/ready', port: v.cloudflared_metrics_port }, initialDelaySeconds: 10, periodSeconds: 10, failureThreshold: 1 },
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, runAsUser: NONROOT, capabilities: { drop: ['ALL'] } },
    volumeMounts,
  };
  const deployment: IDeployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas: v.cloudflared_replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels,
          // cloudflared reads its config once: a changed config or secret rolls the pods.
          annotations: { 'drover/config-sha256': sha256(config), 'drover/secret-sha256': sha256(secretValue) },
        },
        spec: {
          // Connectors on different nodes: losing a node keeps the tunnel up.
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: selector }, topologyKey: 'kubernetes.io/hostname' } },
              ],
            },
          },
          // ICMP proxying needs ping sockets for the nonroot group (a namespaced, safe sysctl).
          securityContext: { sysctls: [{ name: 'net.ipv4.ping_group_range', value: `${NONROOT} ${NONROOT}` }], seccompProfile: { type: 'RuntimeDefault' } },
          containers: [container],
          volumes,
        },
      },
    },
  };
  const podDisruptionBudget: IPodDisruptionBudget = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: ns, labels },
    spec: { minAvailable: 1, selector: { matchLabels: selector } },
  };
  return { namespace, secret, configMap, deployment, podDisruptionBudget };
}

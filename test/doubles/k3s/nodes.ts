// Node objects as K3s's kubelet and etcd controller leave them: labels, InternalIP, taints,
// nodeInfo, the Ready condition (NotReady without a CNI config while flannel is off) and the
// EtcdIsVoter condition. Stored as JSON in etcd under /registry/minions/<name>.
import { randomUUID } from 'node:crypto';
import { release } from 'node:os';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastHeartbeatTime: string;
  lastTransitionTime: string;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Node {
  apiVersion: 'v1';
  kind: 'Node';
  metadata: { name: string; uid: string; creationTimestamp: string; resourceVersion?: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { podCIDR?: string; providerID: string; taints?: Taint[]; unschedulable?: boolean };
  status: {
    addresses: { type: string; address: string }[];
    conditions: Condition[];
    nodeInfo: Record<string, string>;
  };
}

export const NODE_PREFIX = '/registry/minions/';
export const nodeKey = (name: string) => `${NODE_PREFIX}${name}`;

export function parseTaint(s: string): Taint {
  const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(s.trim());
  if (!m) throw new Error(`invalid taint spec: ${s}`);
  return m[2] !== undefined ? { key: m[1]!, value: m[2], effect: m[3]! } : { key: m[1]!, effect: m[3]! };
}

export function parseLabel(s: string): [string, string] {
  const i = s.indexOf('=');
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

export interface NodeInput {
  name: string;
  hostname: string;
  ip: string;
  server: boolean;
  nodeLabels: readonly string[];
  nodeTaints: readonly string[];
  version: string;
  /** The node has a CNI network config (or flannel is on). */
  networkReady: boolean;
  now: string;
}

export function readyCondition(networkReady: boolean, now: string, prev?: Condition): Condition {
  const next: Omit<Condition, 'lastTransitionTime'> = networkReady
    ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now }
    : {
        type: 'Ready',
        status: 'False',
        reason: 'KubeletNotReady',
        message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
        lastHeartbeatTime: now,
      };
  return { ...next, lastTransitionTime: prev && prev.status === next.status ? prev.lastTransitionTime : now };
}

export function setCondition(node: Node, c: Condition): void {
  const i = node.status.conditions.findIndex((x) => x.type === c.type);
  if (i >= 0) node.status.conditions[i] = c;
  else node.status.conditions.push(c);
}

export function conditionOf(node: Node, type: string): Condition | undefined {
  return node.status.conditions.find((c) => c.type === type);
}

/** Create or refresh a Node as its kubelet registers it; conditions set by others are kept. */
export function buildNode(prev: Node | undefined, i: NodeInput): Node {
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/instance-type': 'k3s',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': i.hostname,
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': 'k3s',
  };
  if (i.server) {
    labels['node-role.kubernetes.io/control-plane'] = 'true';
    labels['node-role.kubernetes.io/etcd'] = 'true';
    labels['node-role.kubernetes.io/master'] = 'true';
  }
  for (const l of i.nodeLabels) {
    const [k, v] = parseLabel(l);
    labels[k] = v;
  }
  const taints = i.nodeTaints.map(parseTaint);
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: i.name,
      uid: prev?.metadata.uid ?? randomUUID(),
      creationTimestamp: prev?.metadata.creationTimestamp ?? i.now,
      labels: { ...(prev?.metadata.labels ?? {}), ...labels },
      annotations: { ...(prev?.metadata.annotations ?? {}), 'k3s.io/hostname': i.hostname, 'k3s.io/internal-ip': i.ip, 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { providerID: `k3s://${i.name}`, ...(taints.length ? { taints } : {}), ...(prev?.spec.unschedulable ? { unschedulable: true } : {}) },
    status: {
      addresses: [
        { type: 'InternalIP', address: i.ip },
        { type: 'Hostname', address: i.hostname },
      ],
      conditions: (prev?.status.conditions ?? []).filter((c) => c.type !== 'Ready'),
      nodeInfo: {
        architecture: 'amd64',
        bootID: prev?.status.nodeInfo.bootID ?? randomUUID(),
        containerRuntimeVersion: 'containerd://1.7.23-k3s2',
        kernelVersion: release(),
        kubeProxyVersion: i.version,
        kubeletVersion: i.version,
        machineID: '',
        operatingSystem: 'linux',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        systemUUID: '',
      },
    },
  };
  setCondition(node, readyCondition(i.networkReady, i.now, prev ? conditionOf(prev, 'Ready') : undefined));
  return node;
}

/** The EtcdIsVoter condition K3s's etcd controller (on the leader) keeps on server nodes. */
export function etcdVoterCondition(state: 'voter' | 'learner' | 'not-member', now: string, prev?: Condition): Condition {
  const c =
    state === 'voter'
      ? { status: 'True' as const, reason: 'MemberNotLearner', message: 'Node is a voting member of the etcd cluster' }
      : state === 'learner'
        ? { status: 'False' as const, reason: 'MemberIsLearner', message: 'Node has not been promoted to voting member of the etcd cluster' }
        : { status: 'False' as const, reason: 'NotAMember', message: 'Node is not a member of the etcd cluster' };
  return { type: 'EtcdIsVoter', ...c, lastHeartbeatTime: now, lastTransitionTime: prev && prev.status === c.status && prev.reason === c.reason ? prev.lastTransitionTime : now };
}

/** Label selector as kubectl -l takes it: k=v, k==v, k!=v, k, !k, comma = and. */
export function matchSelector(labels: Record<string, string>, selector: string): boolean {
  for (const raw of selector.split(',')) {
    const term = raw.trim();
    if (!term) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([^!=]+)!=(.*)$/.exec(term))) {
      if (labels[m[1]!.trim()] === m[2]!.trim()) return false;
    } else if ((m = /^([^!=]+)==?(.*)$/.exec(term))) {
      if (labels[m[1]!.trim()] !== m[2]!.trim()) return false;
    } else if (term.startsWith('!')) {
      if (term.slice(1).trim() in labels) return false;
    } else if (!(term in labels)) return false;
  }
  return true;
}

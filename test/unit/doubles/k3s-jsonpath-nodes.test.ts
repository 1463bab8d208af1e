// kubectl JSONPath templates roles use, and Node objects as the double builds them.
import { describe, expect, it } from 'vitest';
import { jsonpath } from '../../doubles/k3s/jsonpath.ts';
import { buildNode, etcdVoterCondition, matchSelector, setCondition } from '../../doubles/k3s/nodes.ts';

const now = '2026-12-06T22:00:00Z';
const server = buildNode(undefined, { name: 'master1', hostname: 'master1', ip: '10.17.4.21', server: true, nodeLabels: ['zone=a'], nodeTaints: ['CriticalAddonsOnly=true:NoExecute'], version: 'v1.31.4+k3s1', networkReady: false, now });
setCondition(server, etcdVoterCondition('voter', now));
const agent = buildNode(undefined, { name: 'worker1', hostname: 'worker1', ip: '10.17.4.24', server: false, nodeLabels: [], nodeTaints: [], version: 'v1.31.4+k3s1', networkReady: true, now });
const list = { apiVersion: 'v1', kind: 'List', items: [server, agent] };

describe('k3s double: Node objects', () => {
  it('carries K3s labels, InternalIP, kubeletVersion and taints', () => {
    expect(server.metadata.labels).toMatchObject({
      'node-role.kubernetes.io/control-plane': 'true',
      'node-role.kubernetes.io/etcd': 'true',
      'node-role.kubernetes.io/master': 'true',
      'kubernetes.io/hostname': 'master1',
      'node.kubernetes.io/instance-type': 'k3s',
      zone: 'a',
    });
    expect(agent.metadata.labels['node-role.kubernetes.io/control-plane']).toBeUndefined();
    expect(server.status.addresses).toContainEqual({ type: 'InternalIP', address: '10.17.4.21' });
    expect(server.status.nodeInfo.kubeletVersion).toBe('v1.31.4+k3s1');
    expect(server.spec.taints).toEqual([{ key: 'CriticalAddonsOnly', value: 'true', effect: 'NoExecute' }]);
  });

  it('is NotReady (cni plugin not initialized) without a CNI, Ready with one, and keeps EtcdIsVoter on refresh', () => {
    const ready = server.status.conditions.find((c) => c.type === 'Ready')!;
    expect([ready.status, ready.reason]).toEqual(['False', 'KubeletNotReady']);
    expect(ready.message).toContain('cni plugin not initialized');
    const again = buildNode(server, { name: 'master1', hostname: 'master1', ip: '10.17.4.21', server: true, nodeLabels: [], nodeTaints: [], version: 'v1.31.4+k3s1', networkReady: true, now: '2026-12-06T22:01:00Z' });
    expect(again.status.conditions.find((c) => c.type === 'Ready')!.status).toBe('True');
    expect(again.status.conditions.find((c) => c.type === 'EtcdIsVoter')!.reason).toBe('MemberNotLearner');
    expect(again.metadata.uid).toBe(server.metadata.uid);
  });

  it('selects by label like kubectl -l', () => {
    expect(matchSelector(server.metadata.labels, 'node-role.kubernetes.io/control-plane=true')).toBe(true);
    expect(matchSelector(agent.metadata.labels, 'node-role.kubernetes.io/control-plane=true')).toBe(false);
    expect(matchSelector(agent.metadata.labels, '!node-role.kubernetes.io/master,kubernetes.io/os=linux')).toBe(true);
    expect(matchSelector(server.metadata.labels, 'zone!=a')).toBe(false);
  });
});

describe('k3s double: kubectl jsonpath', () => {
  it('prints the EtcdIsVoter status with a filter', () => {
    expect(jsonpath('{.status.conditions[?(@.type=="EtcdIsVoter")].status}', server)).toBe('True');
    expect(jsonpath('{.status.conditions[?(@.type=="EtcdIsVoter")].status}', agent)).toBe('');
  });

  it('prints names space-separated, ranges and literals', () => {
    expect(jsonpath('{.items[*].metadata.name}', list)).toBe('master1 worker1');
    expect(jsonpath('{range .items[*]}{.metadata.name}{"\\n"}{end}', list)).toBe('master1\nworker1\n');
    expect(jsonpath('{.items[0].status.nodeInfo.kubeletVersion}', list)).toBe('v1.31.4+k3s1');
    expect(jsonpath('{..kubeletVersion}', list)).toBe('v1.31.4+k3s1 v1.31.4+k3s1');
    expect(jsonpath('{.metadata.nosuch}', server)).toBe('');
  });
});

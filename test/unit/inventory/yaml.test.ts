import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseInventoryText } from '../../../lib/inventory/index.ts';
import { FIXTURES } from './helpers.ts';

describe('YAML inventory', () => {
  const file = 'yaml/hosts.yml';
  const inv = parseInventoryText(readFileSync(FIXTURES + file, 'utf8'), file);

  it('reads hosts in definition order, with ranges expanded and null host entries', () => {
    expect([...inv.hosts.keys()]).toEqual(['bastion', 'master1', 'master2', 'master3', 'worker1', 'worker2', 'worker3', 'lb1']);
    expect(inv.hosts.get('master3')!.vars).toEqual({ level: 'inv_k3s_cluster', ansible_user: 'debian', depth_test: 'masters', sibling: 'masters' });
  });

  it('builds groups: all, ungrouped, nested children, a host in several groups', () => {
    expect([...inv.groups.keys()]).toEqual(['all', 'ungrouped', 'k3s_cluster', 'masters', 'etcd', 'workers', 'lb']);
    expect(inv.groups.get('all')!.children).toEqual(['ungrouped', 'k3s_cluster', 'lb']);
    expect(inv.groups.get('k3s_cluster')!.children).toEqual(['masters', 'etcd', 'workers']);
    expect(inv.groups.get('ungrouped')!.hosts).toEqual(['bastion']);
    expect(inv.groups.get('lb')!.hosts).toEqual(['lb1', 'master1']);
    expect(inv.hosts.get('master1')!.groups).toEqual(['all', 'etcd', 'k3s_cluster', 'lb', 'masters']);
    expect(inv.hosts.get('bastion')!.groups).toEqual(['all', 'ungrouped']);
    expect(inv.groups.get('masters')!.vars).toEqual({ depth_test: 'masters', sibling: 'masters' });
  });

  it('merges inventory vars: child beats parent, siblings by name, host vars beat groups', () => {
    const m1 = inv.hosts.get('master1')!;
    expect(m1.vars).toMatchObject({
      level: 'inv_k3s_cluster',
      depth_test: 'masters',
      sibling: 'masters', // etcd < masters by name: masters wins
      ansible_host: '10.17.4.21',
    });
    expect(m1.origins.depth_test).toEqual({ file, line: 17, col: 13 });
    expect(m1.origins.ansible_host).toEqual({ file, line: 21, col: 15 });
    const w2 = inv.hosts.get('worker2')!;
    expect(w2.vars).toMatchObject({ ansible_port: 2222, depth_test: 'k3s_cluster' });
    expect(w2.origins.ansible_port).toEqual({ file, line: 35, col: 15 });
  });

  it('reads host:port keys, YAML 1.1 booleans, anchors and merge keys', () => {
    const inv2 = parseInventoryText(
      [
        'all:',
        '  vars: &common',
        '    ansible_become: yes',
        '    ntp: pool.ntp.org',
        '  hosts:',
        '    "10.0.0.9:2200":',
        '    db1:',
        '      <<: *common',
        '      ntp: local',
      ].join('\n'),
      'h.yaml',
    );
    expect(inv2.hosts.get('10.0.0.9')!.vars).toMatchObject({ ansible_port: 2200, ansible_become: true });
    expect(inv2.hosts.get('db1')!.vars).toEqual({ ansible_become: true, ntp: 'local' });
    expect(inv2.hosts.get('db1')!.origins.ntp).toEqual({ file: 'h.yaml', line: 9, col: 7 });
  });

  it('accepts top-level groups besides all, and an empty file with a warning', () => {
    const inv3 = parseInventoryText('web:\n  hosts:\n    w1:\ndb:\n  hosts:\n    d1:\n', 'x.yml');
    expect(inv3.groups.get('all')!.children).toEqual(['ungrouped', 'web', 'db']);
    expect(inv3.hosts.get('d1')!.groups).toEqual(['all', 'db']);
    const empty = parseInventoryText('# nothing yet\n', 'e.yml');
    expect(empty.hosts.size).toBe(0);
    expect(empty.warnings).toEqual(['e.yml: the inventory is empty']);
  });

  it('uses ansible_group_priority before names among siblings', () => {
    const inv4 = parseInventoryText(
      'all:\n  children:\n    a:\n      vars: { x: a, ansible_group_priority: 10 }\n      hosts: { h: }\n    b:\n      vars: { x: b }\n      hosts: { h: }\n',
      'p.yml',
    );
    expect(inv4.hosts.get('h')!.vars.x).toBe('a');
  });
});

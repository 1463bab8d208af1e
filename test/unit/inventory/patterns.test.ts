import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lib/errors.ts';
import { parseInventoryText, selectHosts } from '../../../lib/inventory/index.ts';
import { splitPattern } from '../../../lib/inventory/patterns.ts';
import { FIXTURES } from './helpers.ts';

// Hosts: bastion, master1-3, worker1-3, lb1. Groups: k3s_cluster{masters, etcd{master1},
// workers}, lb{lb1, master1}, ungrouped{bastion}.
const inv = parseInventoryText(readFileSync(FIXTURES + 'yaml/hosts.yml', 'utf8'), 'hosts.yml');
const ALL = ['bastion', 'master1', 'master2', 'master3', 'worker1', 'worker2', 'worker3', 'lb1'];
const sel = (p: string | string[]) => selectHosts(inv, p);

describe('selectHosts', () => {
  const cases: [string, string[]][] = [
    ['all', ALL],
    ['*', ALL],
    ['masters', ['master1', 'master2', 'master3']],
    ['k3s_cluster', ['master1', 'master2', 'master3', 'worker1', 'worker2', 'worker3']],
    ['ungrouped', ['bastion']],
    ['lb1', ['lb1']],
    ['lb:masters', ['master1', 'master2', 'master3', 'lb1']], // inventory order, not pattern order
    ['lb1,bastion', ['bastion', 'lb1']],
    ['k3s_cluster:&lb', ['master1']],
    ['k3s_cluster:!masters', ['worker1', 'worker2', 'worker3']],
    ['!k3s_cluster', ['bastion', 'lb1']],
    ['&lb', ['master1', 'lb1']],
    ['all:!etcd:!lb1', ['bastion', 'master2', 'master3', 'worker1', 'worker2', 'worker3']],
    ['masters:!master2,lb', ['master1', 'master3', 'lb1']],
    ['worker*', ['worker1', 'worker2', 'worker3']],
    ['*1', ['master1', 'worker1', 'lb1']],
    ['master?', ['master1', 'master2', 'master3']],
    ['master[12]', ['master1', 'master2']], // no group "master": a glob class
    ['master[!1s]', ['master2', 'master3']], // [!1] alone would match the group "masters" too
    ['masters[0]', ['master1']],
    ['masters[-1]', ['master3']],
    ['masters[1:]', ['master2', 'master3']],
    ['masters[0:1]', ['master1', 'master2']],
    ['~^master\\d$', ['master1', 'master2', 'master3']],
    ['~^w', ['worker1', 'worker2', 'worker3']],
    ['~(lb|etcd)$', ['master1', 'lb1']], // matches the groups lb and etcd: their hosts
  ];
  for (const [pattern, hosts] of cases) {
    it(pattern, () => {
      const r = sel(pattern);
      expect(r.hosts).toEqual(hosts);
      expect(r.warnings).toEqual([]);
    });
  }

  it('unknown names select nothing and warn, like Ansible', () => {
    expect(sel('nosuch')).toEqual({ hosts: [], warnings: ['Could not match supplied host pattern, ignoring: nosuch'] });
    expect(sel('masters:nosuch*')).toEqual({
      hosts: ['master1', 'master2', 'master3'],
      warnings: ['Could not match supplied host pattern, ignoring: nosuch*'],
    });
    expect(sel('masters[7]').hosts).toEqual([]);
    expect(sel('masters[7]').warnings[0]).toBe('host pattern masters[7]: index 7 is out of range (3 hosts)');
  });

  it('accepts a list (a play\'s hosts: [a, b])', () => {
    expect(sel(['lb', 'bastion']).hosts).toEqual(['bastion', 'master1', 'lb1']);
  });

  it('keeps IPv6 addresses and ranges whole when splitting', () => {
    expect(splitPattern('fe80::1')).toEqual(['fe80::1']);
    expect(splitPattern('web[1:3]:db')).toEqual(['web[1:3]', 'db']);
    expect(splitPattern('a:&b:!c')).toEqual(['a', '&b', '!c']);
    expect(splitPattern('a, b ,')).toEqual(['a', 'b']);
    expect(splitPattern('a:!b,~^x:y$,fe80::2')).toEqual(['a', '!b', '~^x:y$', 'fe80::2']);
    const v6 = parseInventoryText('[x]\nfe80::1\n10.0.0.1:2200\n', 'h.ini');
    expect([...v6.hosts.keys()]).toEqual(['fe80::1', '10.0.0.1']);
    expect(selectHosts(v6, 'fe80::1').hosts).toEqual(['fe80::1']);
  });

  it('a bad regex is an InputError naming the pattern', () => {
    expect(() => sel('~(')).toThrow(InputError);
    expect(() => sel('~(')).toThrow(/key "~\(": invalid regular expression/);
  });
});

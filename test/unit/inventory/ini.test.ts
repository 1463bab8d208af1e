import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseInventoryText } from '../../../lib/inventory/index.ts';
import { iniValue } from '../../../lib/inventory/ini-format.ts';
import { FIXTURES, inputError } from './helpers.ts';

describe('INI inventory (Terraform style)', () => {
  const file = 'ini/hosts.ini';
  const inv = parseInventoryText(readFileSync(FIXTURES + file, 'utf8'), file);

  it('reads ungrouped hosts, groups, ranges, host:port and :children', () => {
    expect([...inv.hosts.keys()]).toEqual(['bastion', 'master1', 'master2', 'master3', 'worker01.lab', 'worker02.lab', 'worker03.lab', 'storage1']);
    expect(inv.groups.get('ungrouped')!.hosts).toEqual(['bastion']);
    expect(inv.groups.get('k3s_cluster')!.children).toEqual(['masters', 'workers']);
    expect(inv.groups.get('all')!.children).toEqual(['ungrouped', 'k3s_cluster']);
    expect(inv.hosts.get('worker02.lab')!.groups).toEqual(['all', 'k3s_cluster', 'workers']);
    expect(inv.hosts.get('master3')!.vars).toMatchObject({ ansible_port: 2222, ansible_host: '10.17.4.23', node_labels: 'role=db zone=a' });
    expect(inv.hosts.get('master2')!.vars.ansible_host).toBe('10.17.4.22'); // trailing # comment dropped
    expect(inv.hosts.get('worker01.lab')!.vars.ansible_user).toBe('admin'); // host var beats [all:vars]
    expect(inv.hosts.get('bastion')!.vars.ansible_user).toBe('root');
  });

  it('types values like Ansible (documented differences aside)', () => {
    const s = inv.hosts.get('storage1')!.vars;
    expect(s).toMatchObject({ longhorn: true, disks: ['/dev/vdb', '/dev/vdc'], quoted_num: '22' });
    expect(inv.groups.get('k3s_cluster')!.vars).toEqual({
      k3s_version: 'v1.30.4+k3s1',
      install_timeout: 300,
      enable_cilium: true,
      ratio: 0.5,
      mode: '0755',
      nothing: null,
      plain: 'hello world',
    });
    expect(inv.groups.get('all')!.vars.ansible_ssh_common_args).toBe('-o ProxyJump=admin@10.17.3.2:22 -o StrictHostKeyChecking=accept-new');
  });

  it('records the line and column of each key', () => {
    const m3 = inv.hosts.get('master3')!;
    expect(m3.origins.ansible_host).toEqual({ file, line: 8, col: 14 });
    expect(m3.origins.ansible_port).toEqual({ file, line: 8, col: 1 });
    expect(m3.origins.install_timeout).toEqual({ file, line: 20, col: 1 });
    expect(m3.origins.ansible_user).toEqual({ file, line: 28, col: 1 });
  });

  it('iniValue: numbers, booleans, None, JSON, quotes', () => {
    expect(iniValue('42', false)).toBe(42);
    expect(iniValue('-3', false)).toBe(-3);
    expect(iniValue('1.30', false)).toBe(1.3);
    expect(iniValue('0755', false)).toBe('0755');
    expect(iniValue('True', false)).toBe(true);
    expect(iniValue('FALSE', false)).toBe(false);
    expect(iniValue('yes', false)).toBe('yes');
    expect(iniValue('None', false)).toBe(null);
    expect(iniValue('{"a": 1}', false)).toEqual({ a: 1 });
    expect(iniValue('[not json', false)).toBe('[not json');
    expect(iniValue('42', true)).toBe('42');
    expect(iniValue('["a b"]', true)).toEqual(['a b']);
    expect(iniValue('10.0.0.1', false)).toBe('10.0.0.1');
  });
});

describe('INI errors name file:line:col and key', () => {
  const cases: [string, string, string][] = [
    ['[web]\nw1 ansible_host=10.0.0.1 ansbile_user=x\n', 'h.ini:2:26: key "ansbile_user": looks like a misspelt connection variable: did you mean ansible_user?', 'typo on a host line'],
    ['[web]\nw1\n[web:vars]\n  ansible_prot = 22\n', 'h.ini:4:3: key "ansible_prot": unknown connection variable: did you mean ansible_port?', 'typo in :vars'],
    ['[web]\nw1 ansible_port=abc\n', 'h.ini:2:4: key "ansible_port": must be an integer from 1 to 65535 (got "abc")', 'bad type'],
    ['[web]\nw1 ansible_host=10.0.0.1 stray\n', 'h.ini:2:26: key "stray": expected key=value after the host name (values with spaces need quotes)', 'bad host line'],
    ['[web]\nw1 ansible_user= root\n', 'h.ini:2:4: key "ansible_user": value missing: no spaces around "=" on host lines', 'space after ='],
    ['[web\nw1\n', 'h.ini:1:1: bad section header: expected [group], [group:vars] or [group:children]', 'bad header'],
    ['[web:host]\nw1\n', 'h.ini:1:1: key "web": unknown section type ":host": expected :vars or :children', 'bad section type'],
    ['[web]\nw1\n[wbe:vars]\nx=1\n', 'h.ini:3:2: key "wbe": [wbe:vars] is for a group that is never defined', 'vars for unknown group'],
    ['[web:children]\nweb\n', 'h.ini:2:1: key "web": group "web" cannot be its own child', 'self child'],
    ['[web:children]\ndb stray\n', 'h.ini:2:1: key "db stray": a [web:children] line names one group', 'two words in children'],
    ['[web]\nw1 x="unterminated\n', 'h.ini:2:6: unterminated double quote', 'unterminated quote'],
    ['[web]\nweb[3:1]\n', 'h.ini:2:1: key "web[3:1]": bad host entry: range [3:1] starts after it ends', 'bad range'],
    ['[web]\nweb:99999\n', 'h.ini:2:1: key "web:99999": bad host entry: port 99999 is not from 1 to 65535', 'bad port'],
  ];
  for (const [text, message, what] of cases) {
    it(what, () => {
      const e = inputError(() => parseInventoryText(text, 'h.ini'));
      expect(e.message).toBe(message);
    });
  }

  it('detects a loop in :children at the edge that closes it', () => {
    const e = inputError(() => parseInventoryText('[a:children]\nb\n[b:children]\na\n', 'h.ini'));
    expect(e.message).toMatch(/^h\.ini:\d+:1: key "[ab]": group "[ab]" is its own descendant/);
  });
});

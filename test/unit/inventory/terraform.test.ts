import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadInventory, parseInventoryText } from '../../../lib/inventory/index.ts';
import { FIXTURES, inputError } from './helpers.ts';

const tf = (outputs: Record<string, unknown>) =>
  JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([k, value]) => [k, { sensitive: false, type: 'dynamic', value }])), null, 2);

describe('terraform output -json', () => {
  it('maps name->IP, IP lists and name->vars outputs to groups; skips other outputs with a warning', () => {
    const file = 'terraform/outputs.json';
    const inv = parseInventoryText(readFileSync(FIXTURES + file, 'utf8'), file);
    expect([...inv.hosts.keys()]).toEqual(['master1', 'master2', '10.17.4.24', '10.17.4.25', 'pg1', 'pg2']);
    expect(inv.groups.get('masters')!.hosts).toEqual(['master1', 'master2']);
    expect(inv.groups.get('workers')!.hosts).toEqual(['10.17.4.24', '10.17.4.25']);
    expect(inv.hosts.get('master2')!.vars).toEqual({ ansible_host: '10.17.4.22' });
    expect(inv.hosts.get('master2')!.origins.ansible_host).toEqual({ file, line: 7, col: 18 });
    expect(inv.hosts.get('pg1')!.vars).toEqual({ ansible_host: '10.17.3.14', ansible_user: 'postgres', pg_role: 'primary' });
    expect(inv.hosts.get('pg2')!.vars).toEqual({});
    expect(inv.groups.has('kubeconfig_path')).toBe(false);
    expect(inv.warnings).toHaveLength(1);
    expect(inv.warnings![0]).toMatch(/^terraform\/outputs\.json: terraform output "kubeconfig_path" is not a host list/);
  });

  it('reads an output holding an Ansible inventory object, alongside group outputs', async () => {
    const inv = await loadInventory(['terraform/inventory-output.json'], { cwd: FIXTURES });
    expect([...inv.groups.keys()]).toEqual(['all', 'ungrouped', 'masters', 'workers', 'extra_workers']);
    expect(inv.hosts.get('worker1')!.vars).toEqual({ ansible_user: 'debian', ansible_host: '10.17.4.24' });
    expect(inv.hosts.get('10.17.4.30')!.vars).toEqual({ ansible_user: 'debian' });
    expect(inv.hosts.get('worker2')!.groups).toEqual(['all', 'workers']);
  });

  it('an inventory object given as top-level groups (no "all") also works', () => {
    const inv = parseInventoryText(tf({ inv: { masters: { hosts: { m1: null } }, workers: { hosts: { w1: null } } } }), 'o.json');
    expect([...inv.groups.keys()]).toEqual(['all', 'ungrouped', 'masters', 'workers']);
  });

  it('a map of group name to address list gives child groups', () => {
    const inv = parseInventoryText(tf({ k3s_nodes: { masters: ['10.0.0.1', '10.0.0.2'], workers: ['10.0.0.5'] } }), 'o.json');
    expect(inv.groups.get('k3s_nodes')!.children).toEqual(['masters', 'workers']);
    expect(inv.groups.get('masters')!.hosts).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(inv.hosts.get('10.0.0.5')!.groups).toEqual(['all', 'k3s_nodes', 'workers']);
  });

  it('a plain JSON file that is not terraform output is read as an inventory object', () => {
    const inv = parseInventoryText('{"all": {"hosts": {"a": {"ansible_port": 2200}}}}', 'inv.json');
    expect(inv.hosts.get('a')!.vars.ansible_port).toBe(2200);
  });

  it('detects JSON by content when the file has no telling extension', () => {
    const inv = parseInventoryText(tf({ web: ['10.0.0.1'] }), 'tf-output');
    expect(inv.groups.get('web')!.hosts).toEqual(['10.0.0.1']);
  });

  it('errors: bad host values, bad output keys, bad vars, with positions', () => {
    const mixed = inputError(() => parseInventoryText(tf({ web: { a: '10.0.0.1', b: 3 } }), 'o.json'));
    expect(mixed.message).toMatch(/^o\.json:5:5: key "web": output "web": expected a list of addresses, a map of host name to address/);
    const badItem = inputError(() => parseInventoryText(tf({ web: ['10.0.0.1', 7] }), 'o.json'));
    expect(badItem.message).toBe('o.json:7:7: key "web": group "web": a list of hosts must hold addresses or names (strings)');
    const extraKey = inputError(() =>
      parseInventoryText('{\n  "web": {"value": ["a"], "type": "x"},\n  "db": {"value": ["b"], "valu": 1}\n}', 'o.json'),
    );
    expect(extraKey.message).toBe('o.json:3:26: key "valu": unknown key in a terraform output: expected value, type and sensitive');
    const badVar = inputError(() => parseInventoryText(tf({ db: { pg1: { ansible_prot: 5432 } } }), 'o.json'));
    expect(badVar.message).toBe('o.json:7:9: key "ansible_prot": unknown connection variable: did you mean ansible_port?');
    const emptyIp = inputError(() => parseInventoryText(tf({ db: { pg1: '' } }), 'o.json'));
    expect(emptyIp.message).toBe('o.json:6:14: key "ansible_host": must be a host name (RFC 1123), an IPv4 or an IPv6 address (got "")');
  });
});

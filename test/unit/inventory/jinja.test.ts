// Jinja in inventory values: evaluated per host and lazily, Ansible's filters and magic
// variables, Python's way of writing values, and exit-65 errors naming file:line:col, the
// expression and what is unsupported.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lib/errors.ts';
import { loadInventory, parseInventoryText } from '../../../lib/inventory/index.ts';
import { renderTemplate, supportedNames, type Scope } from '../../../lib/inventory/jinja-env.ts';
import { findUnresolved, Unresolved } from '../../../lib/inventory/jinja-resolve.ts';
import { parseRoleVars } from '../../../lib/run/vars.ts';
import { z } from 'zod';
import { inputError, inputErrorAsync } from './helpers.ts';

function scope(vars: Record<string, unknown>): Scope {
  return { has: (k) => k in vars, get: (k) => vars[k], cwd: process.cwd() };
}
const r = (src: string, vars: Record<string, unknown> = {}) => renderTemplate(src, scope(vars));

const CLUSTER = `
all:
  vars:
    apiserver_endpoint: 192.168.30.222
    k3s_token: "{{ lookup('env', 'DROVER_TEST_TOKEN') }}"
    api_endpoint: "{{ hostvars[groups['server'][0]]['ansible_host'] | default(groups['server'][0]) }}"
    extra_server_args: "--tls-san {{ apiserver_endpoint }} --node-name {{ inventory_hostname_short }}"
    servers_csv: "{{ groups['server'] | join(',') }}"
    server_ips: "{{ groups['server'] | map('extract', hostvars, 'ansible_host') | list }}"
    first_server: "{{ groups['server'][0] }}"
    is_server: "{{ 'server' in group_names }}"
    node_port: "{{ base_port | int + 1 }}"
    base_port: "6443"
  children:
    server:
      hosts:
        master1.lab: { ansible_host: 10.17.4.21 }
        master2.lab: { ansible_host: "{{ net_prefix }}.22" }
      vars:
        net_prefix: "10.17.4"
    agent:
      hosts:
        worker1: { ansible_port: "{{ 2200 + 22 }}" }
`;

describe('Jinja values in an inventory', () => {
  it('evaluates per host, lazily, with hostvars, groups, inventory_hostname and group_names', () => {
    process.env.DROVER_TEST_TOKEN = 'tok-123';
    const inv = parseInventoryText(CLUSTER, 'k3s.yaml');
    const m1 = inv.hosts.get('master1.lab')!.vars;
    const w1 = inv.hosts.get('worker1')!.vars;
    expect(m1.api_endpoint).toBe('10.17.4.21');
    expect(w1.api_endpoint).toBe('10.17.4.21');
    expect(m1.extra_server_args).toBe('--tls-san 192.168.30.222 --node-name master1');
    expect(w1.extra_server_args).toBe('--tls-san 192.168.30.222 --node-name worker1');
    expect(m1.servers_csv).toBe('master1.lab,master2.lab');
    // master2's own address is a template of a group var: rendered in master2's context.
    expect(m1.server_ips).toEqual(['10.17.4.21', '10.17.4.22']);
    expect(inv.hosts.get('master2.lab')!.vars.ansible_host).toBe('10.17.4.22');
    expect(m1.is_server).toBe(true);
    expect(w1.is_server).toBe(false);
    // A lone expression keeps its type (a number, a list, a boolean); defined after use is fine.
    expect(m1.node_port).toBe(6444);
    expect(w1.ansible_port).toBe(2222);
    expect(m1.k3s_token).toBe('tok-123');
  });

  it('lets -e extra vars win inside templates, as Ansible does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drover-jinja-'));
    writeFileSync(join(dir, 'hosts.yaml'), CLUSTER);
    const inv = await loadInventory(['hosts.yaml'], { cwd: dir, extraVars: { apiserver_endpoint: '10.0.0.9' } });
    expect(inv.hosts.get('worker1')!.vars.extra_server_args).toBe('--tls-san 10.0.0.9 --node-name worker1');
    const raw = await loadInventory(['hosts.yaml'], { cwd: dir, templates: 'keep' });
    expect(raw.hosts.get('worker1')!.vars.extra_server_args).toBe('--tls-san {{ apiserver_endpoint }} --node-name {{ inventory_hostname_short }}');
  });

  it('writes values inside text as Python does', () => {
    expect(r('x={{ a }} {{ b }} {{ c }} {{ d }}', { a: true, b: null, c: ['w1', "it's"], d: { k: 1 } })).toBe(`x=True  ['w1', "it's"] {'k': 1}`);
    expect(r("{{ 'a' ~ false ~ 1 }}")).toBe('aFalse1');
    expect(r('{{ x }}', { x: [1, 2] })).toEqual([1, 2]);
    expect(r(' {{ x }}', { x: 5 })).toBe(' 5');
  });

  it('has the common Jinja and Ansible filters with their semantics', () => {
    expect(r("{{ 'abc' | int }} {{ '3.7' | int }} {{ '0x1F' | int(base=16) }}")).toBe('0 3 31');
    expect(r("{{ x | default('d') }} {{ y | d('e') }} {{ '' | default('f', true) }}", { y: null })).toBe('d  f');
    expect(r("{{ 'yes' | bool }} {{ 'off' | bool }} {{ 1 | bool }}")).toBe('True False True');
    expect(r("{{ ['a', 'B'] | join('-') | upper }} {{ 'MiX' | lower }}")).toBe('A-B mix');
    expect(r("{{ 'k3s-v1.30.2' | regex_replace('^k3s-v(\\d+)\\.(\\d+).*$', '\\1.\\2') }}")).toBe('1.30');
    expect(r("{{ 'eth0: 10.0.0.5/24' | regex_search('(\\d+\\.){3}\\d+') }}")).toBe('10.0.0.5');
    expect(r("{{ {'b': 1, 'a': [true, none]} | to_json }}")).toBe('{"b": 1, "a": [true, null]}');
    expect(r("{{ {'b': 1, 'a': 2} | to_nice_json }}")).toBe('{\n    "a": 2,\n    "b": 1\n}');
    expect(r("{{ '[1, 2]' | from_json }}")).toEqual([1, 2]);
    expect(r("{{ x | ternary('yes', 'no') }}", { x: false })).toBe('no');
    expect(r("{{ a | combine({'a': {'y': 2} }, recursive=true) }}", { a: { a: { x: 1 } } })).toEqual({ a: { x: 1, y: 2 } });
    expect(r("{{ {'a': 1} | dict2items }}")).toEqual([{ key: 'a', value: 1 }]);
    expect(r("{{ [[1, [2]], 3] | flatten }}")).toEqual([1, 2, 3]);
    expect(r("{{ [3, 1, 3] | unique | sort }}")).toEqual([1, 3]);
    expect(r("{{ hosts | selectattr('role', 'equalto', 'db') | map(attribute='name') | list }}", {
      hosts: [{ name: 'a', role: 'db' }, { name: 'b', role: 'web' }],
    })).toEqual(['a']);
    expect(r("{{ 'a b' | quote }} {{ 'x' | b64encode }} {{ '/etc/k3s/config.yaml' | basename }}")).toBe("'a b' eGA= config.yaml".replace('eGA=', 'eA=='));
    expect(r("{{ '1.30.2+k3s1' is version('1.29', '>=') }} {{ x is none }} {{ y is defined }}", { x: null })).toBe('True True False');
    expect(r("{{ 'a,b'.split(',') }}")).toEqual(['a', 'b']);
    expect(r("{{ 'k3s-server'.startswith('k3s') }} {{ ' x '.strip() }}")).toBe('True x');
    expect(r("{{ d.items() | list }}", { d: { a: 1 } })).toEqual([['a', 1]]);
    expect(r("{{ x | ansible.builtin.to_json }}", { x: 'é' })).toBe('"\\u00e9"');
  });

  it('lists what it supports', () => {
    const s = supportedNames();
    for (const f of ['default', 'd', 'join', 'lower', 'upper', 'int', 'bool', 'regex_replace', 'to_json', 'map', 'combine']) expect(s.filters).toContain(f);
    expect(s.lookups).toEqual(['env', 'file']);
  });
});

describe('what cannot be evaluated is exit 65 with file:line:col, the expression and the reason', () => {
  const bad = (value: string) =>
    inputError(() => parseInventoryText(`all:\n  hosts:\n    h1:\n  vars:\n    ok: 1\n    v: "${value}"\n`, 'inv.yaml'));

  it('an unknown filter, even in a branch that would not run', () => {
    const e = bad("{{ x | ipaddr('net') if false else 1 }}");
    expect(e.exitCode).toBe(65);
    expect(e.message).toContain('inv.yaml:6:5');
    expect(e.message).toContain('key "v"');
    expect(e.message).toContain(`{{ x | ipaddr('net') if false else 1 }}`);
    expect(e.message).toContain('unknown filter "ipaddr"');
  });

  it('an FQCN filter from a collection Drover does not have', () => {
    expect(bad('{{ x | ansible.utils.ipwrap }}').message).toContain('unknown filter "ansible.utils.ipwrap"');
  });

  it('a lookup plugin Drover does not have', () => {
    expect(bad("{{ lookup('password', '/tmp/p length=20') }}").message).toContain('lookup plugin "password" is not supported (Drover has: env, file)');
  });

  it('an unknown test and an unknown function', () => {
    expect(bad('{{ x is ansible.utils.ip_address }}').message).toContain('unknown test "ansible.utils.ip_address"');
    expect(bad('{{ now() }}').message).toContain('unknown function "now()"');
  });

  it('a syntax error', () => {
    expect(bad('{{ x | }}').message).toMatch(/inv\.yaml:6:5: key "v": cannot evaluate .*template syntax error/);
  });

  it('a variable that refers to itself', () => {
    const e = inputError(() => parseInventoryText('all:\n  hosts:\n    h1:\n  vars:\n    a: "{{ b }}"\n    b: "x{{ a }}"\n', 'loop.yaml'));
    expect(e.message).toContain('recursive loop');
    expect(e.message).toMatch(/loop\.yaml:[56]:5/);
  });

  it('the error names the variable whose template is at fault, not the one using it', () => {
    const e = inputError(() => parseInventoryText('all:\n  hosts:\n    h1:\n  vars:\n    a: "{{ b }}"\n    b: "{{ 1 | nope }}"\n', 'v.yaml'));
    expect(e.message).toContain('v.yaml:6:5: key "b"');
  });

  it('a connection variable that renders to a bad value, at its position', () => {
    const e = inputError(() => parseInventoryText('all:\n  hosts:\n    h1:\n      ansible_port: "{{ 70000 + 1 }}"\n', 'p.yaml'));
    expect(e.message).toContain('p.yaml:4:7: key "ansible_port"');
    expect(e.message).toContain('from 1 to 65535');
  });

  it('an error in a vars file names the vars file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drover-jinja-'));
    writeFileSync(join(dir, 'hosts.ini'), '[web]\nweb1\n');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'group_vars'));
    writeFileSync(join(dir, 'group_vars', 'web.yml'), 'port: 80\nurl: "{{ port | to_url }}"\n');
    const e = await inputErrorAsync(() => loadInventory(['hosts.ini'], { cwd: dir }));
    expect(e.message).toContain('group_vars/web.yml:2:1: key "url"');
    expect(e.message).toContain('unknown filter "to_url"');
  });
});

describe('templates that need facts stay unresolved until something uses them', () => {
  const FACTS = `all:
  hosts:
    m1:
  vars:
    flannel_iface: eth0
    k3s_node_ip: '{{ ansible_facts[flannel_iface]["ipv4"]["address"] }}'
    extra_args: "--node-ip={{ k3s_node_ip }}"
    tls_san: "{{ flannel_iface }}"
`;
  it('loads; unused, the value is an Unresolved that shows its template', () => {
    const v = parseInventoryText(FACTS, 'f.yaml').hosts.get('m1')!.vars;
    expect(v.tls_san).toBe('eth0');
    expect(v.extra_args).toBeInstanceOf(Unresolved);
    expect(JSON.stringify(v.extra_args)).toBe('"--node-ip={{ k3s_node_ip }}"');
    expect((v.extra_args as Unresolved).missing).toEqual(['ansible_facts']);
  });

  it('a role that uses it fails with exit 65 naming the variable, where it is and what is missing', () => {
    const host = parseInventoryText(FACTS, 'f.yaml').hosts.get('m1')!;
    const role = { name: 'k3s', vars: z.object({ extra_args: z.string(), tls_san: z.string() }), tasks: [] };
    const e = inputError(() => parseRoleVars(role as never, 'm1', { vars: host.vars, origins: host.origins }));
    expect(e.message).toContain('f.yaml:7:5: key "extra_args"');
    expect(e.message).toContain('undefined variable: ansible_facts');
    // A role that does not use it is not bothered.
    const other = { name: 'base', vars: z.object({ tls_san: z.string() }), tasks: [] };
    expect(parseRoleVars(other as never, 'm1', { vars: host.vars, origins: host.origins })).toEqual({ tls_san: 'eth0' });
    expect(findUnresolved(host.vars, ['tls_san'])).toBeUndefined();
  });

  it('a connection variable must evaluate at load', () => {
    const e = inputError(() => parseInventoryText('all:\n  hosts:\n    m1:\n      ansible_host: "{{ ansible_default_ipv4.address }}"\n', 'c.yaml'));
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toContain('c.yaml:4:7: key "ansible_host"');
    expect(e.message).toContain('undefined variable: ansible_default_ipv4');
  });
});

describe('drover inventory with templates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-jinja-cli-'));
  writeFileSync(join(dir, 'ok.yaml'), 'all:\n  hosts:\n    m1:\n  vars:\n    iface: eth0\n    ip: "{{ ansible_facts[iface].ipv4.address }}"\n    name: "{{ inventory_hostname | upper }}"\n');
  writeFileSync(join(dir, 'bad.yaml'), 'all:\n  hosts:\n    m1:\n  vars:\n    cidr: "{{ \'10.0.0.0/8\' | ansible.utils.ipaddr(\'net\') }}"\n');
  const cli = async (args: string[]) => {
    const { runInventoryCommand } = await import('../../../lib/cli/inventory.ts');
    let out = '';
    let err = '';
    const code = await runInventoryCommand(args, { cwd: dir, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
    return { code, out, err };
  };

  it('--host shows evaluated values; one needing a fact as written, named on stderr', async () => {
    const r = await cli(['-i', 'ok.yaml', '--host', 'm1']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ iface: 'eth0', ip: '{{ ansible_facts[iface].ipv4.address }}', name: 'M1' });
    expect(r.err).toContain('warning: not evaluated (shown as written): ok.yaml:6:5: m1: ip: undefined variable: ansible_facts');
    const raw = await cli(['-i', 'ok.yaml', '--host', 'm1', '--raw']);
    expect(JSON.parse(raw.out).name).toBe('{{ inventory_hostname | upper }}');
  });

  it('an unsupported filter is exit 65 with file:line:col, the expression and the filter', async () => {
    const r = await cli(['-i', 'bad.yaml', '--list']);
    expect(r.code).toBe(65);
    expect(r.out).toBe('');
    expect(r.err).toContain(`bad.yaml:5:5: key "cidr": cannot evaluate "{{ '10.0.0.0/8' | ansible.utils.ipaddr('net') }}": unknown filter "ansible.utils.ipaddr"`);
  });
});

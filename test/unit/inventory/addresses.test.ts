// Addresses are checked where the inventory is read: ansible_host and the peer-address
// variables go into ssh, /etc/hosts, chrony and haproxy configurations, so a value with
// spaces or option syntax in it (issue 13: "10.0.0.1 -oProxyCommand=touch /tmp/pwned") is an
// input error naming file:line:col and the key, in YAML, INI, vars files and -e.
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../lib/errors.ts';
import { connectionFor, parseInventoryText, parseVarsText, validateVar } from '../../../lib/inventory/index.ts';
import { isHostAddress } from '../../../lib/inventory/known-vars.ts';
import { inputError } from './helpers.ts';

const PWNED = '10.0.0.1 -oProxyCommand=touch /tmp/pwned';
const EXPECT = 'must be a host name (RFC 1123), an IPv4 or an IPv6 address';

describe('host addresses', () => {
  it('accepts host names, IPv4, IPv6 (bare, %zone, [bracketed]) and refuses anything else', () => {
    const good = ['10.0.0.1', 'master1', 'lb-1.lab.example.com', 'example.com.', '::1', '2001:db8::17', 'fe80::1%eth0', '[2001:db8::1]', 'x'];
    const bad = [PWNED, '10.0.0.1;id', '$(id)', '`id`', '256.1.1.1', '10.1', '-oProxyCommand=x', 'a..b', 'under_score', '[10.0.0.1]', '[::1', 'a'.repeat(64), 'host\nname', 'é.example'];
    expect(good.filter((a) => !isHostAddress(a))).toEqual([]);
    expect(bad.filter((a) => isHostAddress(a))).toEqual([]);
  });

  it('refuses a bad ansible_host in a YAML inventory at file:line:col with the key (exit 65)', () => {
    const e = inputError(() => parseInventoryText(`all:\n  hosts:\n    master1:\n      ansible_host: "${PWNED}"\n`, 'inv.yml'));
    expect(e.message).toBe(`inv.yml:4:7: key "ansible_host": ${EXPECT} (got "10.0.0.1 -oProxyCommand=touch /tmp/p...)`);
    expect(e.exitCode).toBe(EXIT.invalidInput);
  });

  it('in INI host lines and [group:vars], and for the peer-address variables', () => {
    expect(inputError(() => parseInventoryText(`[web]\nw1 ansible_host="${PWNED}"\n`, 'hosts.ini')).message).toMatch(/^hosts\.ini:2:4: key "ansible_host": must be a host name/);
    expect(inputError(() => parseInventoryText(`[web]\nw1\n[web:vars]\ndrover_peer_address = 10.0.0.1 x\n`, 'hosts.ini')).message).toMatch(/^hosts\.ini:4:1: key "drover_peer_address": must be a host name/);
    expect(inputError(() => parseInventoryText(`all:\n  vars:\n    peer_address: "a b"\n  hosts:\n    h:\n`, 'inv.yml')).message).toBe(`inv.yml:3:5: key "peer_address": ${EXPECT} (got "a b")`);
    expect(inputError(() => parseInventoryText(`all:\n  hosts:\n    h: {ansible_ssh_host: "h;reboot"}\n`, 'inv.yml')).message).toMatch(/^inv\.yml:3:9: key "ansible_ssh_host": must be a host name/);
  });

  it('in vars files and -e (validateVar), and good addresses load and reach the connection', () => {
    expect(inputError(() => parseVarsText(`drover_host: "${PWNED}"\n`, 'host_vars/h.yml')).message).toMatch(/^host_vars\/h\.yml:1:1: key "drover_host": must be a host name/);
    expect(inputError(() => validateVar('ansible_host', PWNED, { file: '-e #1' })).message).toMatch(/^-e #1: key "ansible_host": must be a host name/);
    const inv = parseInventoryText(`all:\n  hosts:\n    a: {ansible_host: 10.17.4.11, drover_peer_address: "fd00::11"}\n    b: {ansible_host: "[2001:db8::2]"}\n    c: {ansible_host: c.lab.example.}\n`, 'inv.yml');
    expect([...inv.hosts.values()].map((h) => connectionFor(h).address)).toEqual(['10.17.4.11', '[2001:db8::2]', 'c.lab.example.']);
  });

  it('a Jinja template is left for the renderer, which checks the rendered value', () => {
    const inv = parseInventoryText(`all:\n  vars:\n    base: 10.0.0\n  hosts:\n    h: {ansible_host: "{{ base }}.5"}\n`, 'inv.yml');
    expect(inv.hosts.get('h')!.vars.ansible_host).toBe('10.0.0.5');
    expect(inputError(() => parseInventoryText(`all:\n  vars:\n    base: "10.0.0.1 -oX=y"\n  hosts:\n    h: {ansible_host: "{{ base }}"}\n`, 'inv.yml')).message).toMatch(
      /^inv\.yml:5:9: key "ansible_host": must be a host name/,
    );
  });
});

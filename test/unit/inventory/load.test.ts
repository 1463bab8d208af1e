import { afterEach, describe, expect, it } from 'vitest';
import { layerVars, loadInventory } from '../../../lib/inventory/index.ts';
import { clearSecrets, redact, REDACTED } from '../../../lib/secrets/redact.ts';
import { FIXTURES, inputErrorAsync } from './helpers.ts';

afterEach(() => clearSecrets());

describe('loadInventory with group_vars/ and host_vars/', () => {
  it('applies the documented precedence and records where each value came from', async () => {
    const inv = await loadInventory(['yaml/hosts.yml'], { cwd: FIXTURES });
    const m1 = inv.hosts.get('master1')!;
    expect(m1.vars).toMatchObject({
      level: 'gv_masters', // group_vars/ files beat inventory group vars at any depth
      depth_test: 'masters',
      sibling: 'masters',
      inv_vs_groupvars: 'inventory_host', // inventory host vars beat group_vars/
      inv_vs_hostvars: 'host_vars', // host_vars/ beats everything
      k3s_version: 'v1.30.4+k3s1',
      token_from: 'more', // group_vars/k3s_cluster/ folder: files in name order
      ansible_user: 'debian',
    });
    expect(m1.origins.level).toEqual({ file: 'yaml/group_vars/masters.yaml', line: 2, col: 1 });
    expect(m1.origins.inv_vs_groupvars).toEqual({ file: 'yaml/hosts.yml', line: 22, col: 15 });
    expect(m1.origins.inv_vs_hostvars).toEqual({ file: 'yaml/host_vars/master1.yml', line: 1, col: 1 });
    expect(m1.origins.token_from).toEqual({ file: 'yaml/group_vars/k3s_cluster/20-more.yaml', line: 1, col: 1 });
    expect(m1.origins.ansible_user).toEqual({ file: 'yaml/hosts.yml', line: 5, col: 5 });

    const w1 = inv.hosts.get('worker1')!;
    // group_vars/all.yml beats inventory vars of k3s_cluster (Ansible's order).
    expect(w1.vars.level).toBe('gv_all');
    expect(w1.origins.level).toEqual({ file: 'yaml/group_vars/all.yml', line: 1, col: 1 });
    expect(inv.hosts.get('bastion')!.vars.k3s_version).toBeUndefined();

    expect(inv.groups.get('masters')!.vars).toMatchObject({ depth_test: 'masters', level: 'gv_masters' });
    expect(inv.warnings).toEqual(['yaml/group_vars/nosuchgroup.yml: no group named "nosuchgroup" in the inventory; ignored']);
  });

  it('registers secret connection vars from host_vars files', async () => {
    await loadInventory(['yaml/hosts.yml'], { cwd: FIXTURES });
    expect(redact('sudo pw s3cret-from-host-vars')).toBe(`sudo pw ${REDACTED}`);
  });

  it('names the vars file, line, column and key of an error in host_vars/', async () => {
    const e = await inputErrorAsync(() => loadInventory(['bad/hosts.yml'], { cwd: FIXTURES }));
    expect(e.message).toBe('bad/host_vars/h1.yml:2:1: key "ansible_usr": unknown connection variable: did you mean ansible_user?');
    expect(e.pos).toEqual({ file: 'bad/host_vars/h1.yml', line: 2, col: 1 });
    expect(e.key).toBe('ansible_usr');
  });

  it('merges several -i sources and loads a folder source with its own group_vars', async () => {
    const inv = await loadInventory(['dir', 'ini/hosts.ini', '10.9.9.9,10.9.9.10:2200'], { cwd: FIXTURES });
    expect(inv.sources).toEqual(['dir', 'ini/hosts.ini', '10.9.9.9,10.9.9.10:2200']);
    expect(inv.groups.get('web')!.hosts).toEqual(['web1', 'web2']);
    // dir/group_vars/web.yml (9090) beats the inventory group var (8080)
    expect(inv.hosts.get('web1')!.vars.http_port).toBe(9090);
    expect(inv.hosts.get('master1')!.groups).toContain('k3s_cluster');
    expect(inv.hosts.get('10.9.9.10')!.vars.ansible_port).toBe(2200);
    expect(inv.groups.get('ungrouped')!.hosts).toEqual(['bastion', '10.9.9.9', '10.9.9.10']);
  });

  it('reads a comma list: "host," and several hosts', async () => {
    const one = await loadInventory(['10.0.0.5,']);
    expect([...one.hosts.keys()]).toEqual(['10.0.0.5']);
    expect(one.hosts.get('10.0.0.5')!.groups).toEqual(['all', 'ungrouped']);
    const two = await loadInventory([' 10.0.0.5, 10.0.0.6 ']);
    expect([...two.hosts.keys()]).toEqual(['10.0.0.5', '10.0.0.6']);
  });

  it('a missing path without a comma is an error naming it', async () => {
    const e = await inputErrorAsync(() => loadInventory(['nope/hosts.yml'], { cwd: FIXTURES }));
    expect(e.message).toMatch(/^nope\/hosts\.yml: inventory source not found/);
  });

  it('a later source replaces an earlier one at the same level', async () => {
    const inv = await loadInventory(['dir/10-hosts.ini', 'dir/20-more.yaml'], { cwd: FIXTURES });
    expect(inv.hosts.get('web2')!.vars.http_port).toBe(9090);
  });
});

describe('layerVars', () => {
  it('puts play vars and -e over inventory vars, tracking origins', () => {
    const base = { a: 1, b: { x: 1 }, ansible_user: 'debian' };
    const baseOrigins = { a: { file: 'inv.yml', line: 2, col: 3 }, b: { file: 'inv.yml', line: 3, col: 3 }, ansible_user: { file: 'inv.yml', line: 4, col: 3 } };
    const play = layerVars(base, baseOrigins, { b: { y: 2 } }, { b: { file: 'site.ts', line: 10, col: 5 } });
    const extra = layerVars(play.vars, play.origins, { a: 'cli', ansible_user: 'root' }, { file: '-e' });
    expect(extra.vars).toEqual({ a: 'cli', b: { y: 2 }, ansible_user: 'root' });
    expect(extra.origins).toEqual({ a: { file: '-e' }, b: { file: 'site.ts', line: 10, col: 5 }, ansible_user: { file: '-e' } });
    expect(base.a).toBe(1); // inputs untouched
  });

  it('validates connection vars in the layer', () => {
    expect(() => layerVars({}, {}, { ansible_prot: 22 }, { file: '-e' })).toThrow('-e: key "ansible_prot": unknown connection variable: did you mean ansible_port?');
  });
});

describe('format detection', () => {
  it('uses the extension, else the content', async () => {
    const { detectFormat } = await import('../../../lib/inventory/detect.ts');
    expect(detectFormat('', 'a.yml')).toBe('yaml');
    expect(detectFormat('', 'a.YAML')).toBe('yaml');
    expect(detectFormat('', 'a.json')).toBe('json');
    expect(detectFormat('all:\n', 'a.ini')).toBe('ini');
    expect(detectFormat('# hosts\n[web]\nw1\n', 'hosts')).toBe('ini');
    expect(detectFormat('10.0.0.1 ansible_user=x\n', 'hosts')).toBe('ini');
    expect(detectFormat('10.0.0.1:2222\n', 'hosts')).toBe('ini');
    expect(detectFormat('# inv\nall:\n  hosts:\n', 'hosts')).toBe('yaml');
    expect(detectFormat('---\nweb: {}\n', 'hosts')).toBe('yaml');
    expect(detectFormat('\n  {"web": {"value": []}}', 'out')).toBe('json');
  });
});

describe('unreadable files', () => {
  it('a vars file that cannot be read (a dangling link) is an input error naming it, not a crash', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'drv-unread-'));
    try {
      writeFileSync(join(dir, 'hosts.yml'), 'all:\n  hosts:\n    h1:\n');
      mkdirSync(join(dir, 'group_vars'));
      symlinkSync(join(dir, 'nowhere.yml'), join(dir, 'group_vars', 'all.yml'));
      const e = await inputErrorAsync(() => loadInventory([join(dir, 'hosts.yml')], { cwd: dir }));
      expect(e.message).toBe('group_vars/all.yml: cannot read: ENOENT');
      expect(e.exitCode).toBe(65);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

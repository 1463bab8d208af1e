// The double's config resolution against K3s's documented behaviour
// (docs/installation/configuration.md "Multiple Config Files" and flag precedence).
import { describe, expect, it } from 'vitest';
import { Flags, mergeConfigFiles, parseArgs, resolveConfig } from '../../doubles/k3s/config.ts';

const DOC_EXAMPLE = [
  { path: '/etc/rancher/k3s/config.yaml', text: 'token: boop\nnode-label:\n  - foo=bar\n  - bar=baz\n' },
  { path: '/etc/rancher/k3s/config.yaml.d/test1.yaml', text: 'write-kubeconfig-mode: 600\nnode-taint:\n  - alice=bob:NoExecute\n' },
  { path: '/etc/rancher/k3s/config.yaml.d/test2.yaml', text: 'write-kubeconfig-mode: 777\nnode-label:\n  - other=what\n  - foo=three\nnode-taint+:\n  - charlie=delta:NoSchedule\n' },
];

describe('k3s double: config files', () => {
  it('merges the documented multi-file example to the documented result', () => {
    const merged = Object.fromEntries(mergeConfigFiles(DOC_EXAMPLE));
    // The docs' stated final configuration.
    expect(merged).toEqual({
      'write-kubeconfig-mode': 777,
      token: 'boop',
      'node-label': ['other=what', 'foo=three'],
      'node-taint': ['alice=bob:NoExecute', 'charlie=delta:NoSchedule'],
    });
    const r = resolveConfig({ cmd: 'server', args: [], env: {}, files: DOC_EXAMPLE });
    expect(r.values).toEqual({
      'write-kubeconfig-mode': '777',
      token: 'boop',
      'node-label': ['other=what', 'foo=three'],
      'node-taint': ['alice=bob:NoExecute', 'charlie=delta:NoSchedule'],
    });
    expect(r.warnings).toEqual([]);
  });

  it('appends with key+ to a string by comma and to a missing key by setting it', () => {
    const m = mergeConfigFiles([
      { path: 'a', text: 'kube-apiserver-arg+: [a=1]\ndisable: traefik\n' },
      { path: 'b', text: 'disable+: servicelb\n' },
    ]);
    expect(Object.fromEntries(m)).toEqual({ 'kube-apiserver-arg': ['a=1'], disable: 'traefik,servicelb' });
    const r = resolveConfig({ cmd: 'server', args: [], env: {}, files: [{ path: 'a', text: 'disable: traefik\n' }, { path: 'b', text: 'disable+: servicelb\n' }] });
    expect(r.values.disable).toEqual(['traefik', 'servicelb']);
  });

  it('warns about and skips unknown keys, and keys of the other subcommand', () => {
    const files = [{ path: 'c', text: 'disable-kube-prxy: true\ncluster-init: true\nnode-ip: 10.0.0.5\n' }];
    const server = resolveConfig({ cmd: 'server', args: [], env: {}, files });
    expect(server.warnings).toEqual(['Unknown flag --disable-kube-prxy found in config.yaml, skipping']);
    expect(server.values).toEqual({ 'cluster-init': true, 'node-ip': ['10.0.0.5'] });
    const agent = resolveConfig({ cmd: 'agent', args: [], env: {}, files });
    expect(agent.warnings).toEqual(['Unknown flag --disable-kube-prxy found in config.yaml, skipping', 'Unknown flag --cluster-init found in config.yaml, skipping']);
  });

  it('gives CLI args precedence; a repeatable CLI flag replaces the whole list', () => {
    const files = [{ path: 'c', text: 'tls-san: [a.example, 10.0.0.100]\nflannel-backend: vxlan\n' }];
    const r = resolveConfig({ cmd: 'server', args: ['--tls-san', 'b.example', '--flannel-backend=none'], env: {}, files });
    expect(r.values['tls-san']).toEqual(['b.example']);
    expect(r.values['flannel-backend']).toBe('none');
  });

  it('uses K3S_* environment only for flags neither args nor config set', () => {
    const files = [{ path: 'c', text: 'token: from-config\n' }];
    const r = resolveConfig({ cmd: 'agent', args: [], env: { K3S_TOKEN: 'from-env', K3S_URL: 'https://10.0.0.100:6443' }, files });
    expect(r.values.token).toBe('from-config');
    expect(r.values.server).toBe('https://10.0.0.100:6443');
    const r2 = resolveConfig({ cmd: 'agent', args: [], env: { K3S_TOKEN: 'from-env' }, files: [] });
    expect(r2.values.token).toBe('from-env');
  });

  it('parses booleans, aliases and comma lists like the real CLI; refuses unknown CLI flags', () => {
    expect(parseArgs('server', ['--cluster-init', '-t', 'x', '--disable-kube-proxy=false']).values).toEqual({ 'cluster-init': true, token: 'x', 'disable-kube-proxy': false });
    const r = resolveConfig({ cmd: 'server', args: ['--disable=traefik,servicelb'], env: {}, files: [] });
    expect(new Flags(r.values).list('disable')).toEqual(['traefik', 'servicelb']);
    expect(() => parseArgs('server', ['--no-such-flag'])).toThrow('flag provided but not defined: -no-such-flag');
    expect(() => parseArgs('agent', ['--cluster-init'])).toThrow('flag provided but not defined');
  });

  it('names the file in a YAML error', () => {
    expect(() => mergeConfigFiles([{ path: '/etc/rancher/k3s/config.yaml.d/bad.yaml', text: 'a: [\n' }])).toThrow('/etc/rancher/k3s/config.yaml.d/bad.yaml');
  });
});

// Token format, critical-flag comparison and serving-certificate SANs of the K3s double.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Flags, resolveConfig } from '../../doubles/k3s/config.ts';
import { criticalMismatches, criticalOf } from '../../doubles/k3s/critical.ts';
import { firstServiceIp, servingSans } from '../../doubles/k3s/sans.ts';
import { checkCaHash, formatToken, isBootstrapToken, parseToken } from '../../doubles/k3s/token.ts';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

describe('k3s double: tokens', () => {
  it('formats the secure token as K10<sha256 of the CA PEM>::server:<password>', () => {
    const hash = createHash('sha256').update(CA).digest('hex');
    expect(formatToken(CA, 'server', 'pw')).toBe(`K10${hash}::server:pw`);
    expect(formatToken(CA, 'server', 'pw')).toMatch(/^K10[0-9a-f]{64}::server:pw$/);
  });

  it('parses secure and short tokens', () => {
    expect(parseToken(`K10${'a'.repeat(64)}::server:s3cret`)).toEqual({ caHash: 'a'.repeat(64), username: 'server', password: 's3cret' });
    expect(parseToken('changeme!')).toEqual({ password: 'changeme!' });
    expect(isBootstrapToken('abcdef.0123456789abcdef')).toBe(true);
    expect(isBootstrapToken('changeme!')).toBe(false);
  });

  it('reports a CA hash mismatch with K3s\'s text, and accepts the right hash or none', () => {
    const good = parseToken(formatToken(CA, 'server', 'x'));
    expect(checkCaHash(good, CA)).toBeUndefined();
    expect(checkCaHash(parseToken('x'), CA)).toBeUndefined();
    const bad = parseToken(`K10${'0'.repeat(64)}::server:x`);
    expect(checkCaHash(bad, CA)).toBe(`token CA hash does not match the Cluster CA certificate hash: ${'0'.repeat(64)} != ${createHash('sha256').update(CA).digest('hex')}`);
  });
});

const flagsOf = (yaml: string) => new Flags(resolveConfig({ cmd: 'server', args: [], env: {}, files: [{ path: 'c', text: yaml }] }).values);

describe('k3s double: critical configuration', () => {
  const first = flagsOf('cluster-init: true\nflannel-backend: none\ndisable-network-policy: true\ndisable-kube-proxy: true\ndisable: [traefik, servicelb]\n');

  it('matches a joiner with the same critical flags, whatever else differs', () => {
    const joiner = flagsOf('server: https://10.0.0.100:6443\nflannel-backend: none\ndisable-network-policy: true\ndisable-kube-proxy: true\ndisable: [servicelb, traefik]\nnode-taint: [a=b:NoSchedule]\n');
    expect(criticalMismatches(criticalOf(joiner), criticalOf(first))).toEqual([]);
  });

  it('names every mismatched critical key (k3s#12745: a joiner without the Cilium flags)', () => {
    const joiner = flagsOf('server: https://10.0.0.100:6443\ndisable: [traefik]\n');
    expect(criticalMismatches(criticalOf(joiner), criticalOf(first))).toEqual(['disable-kube-proxy', 'disable-network-policy', 'disable=servicelb', 'flannel-backend']);
  });

  it('treats traefik in disable as non-critical and defaults as equal to explicit defaults', () => {
    expect(criticalMismatches(criticalOf(flagsOf('disable: [traefik]\n')), criticalOf(flagsOf('cluster-cidr: 10.42.0.0/16\nservice-cidr: 10.43.0.0/16\nflannel-backend: vxlan\n')))).toEqual([]);
    expect(criticalMismatches(criticalOf(flagsOf('cluster-cidr: 10.52.0.0/16\n')), criticalOf(flagsOf('')))).toEqual(['cluster-cidr']);
    expect(criticalMismatches(criticalOf(flagsOf('service-cidr: 10.53.0.0/16\n')), criticalOf(flagsOf('')))).toEqual(['service-cidr']);
  });
});

describe('k3s double: serving certificate SANs', () => {
  it('holds loopback, the first service IP, node name, hostname, node IP and every tls-san', () => {
    const s = servingSans({ hostname: 'master1', nodeName: 'master1', nodeIps: ['10.17.4.21'], tlsSans: ['10.17.4.32', 'k8s.example.lan'], serviceCidr: '10.43.0.0/16', clusterDomain: 'cluster.local' });
    expect(s.ips).toEqual(['127.0.0.1', '::1', '10.43.0.1', '10.17.4.21', '10.17.4.32']);
    expect(s.dns).toEqual(['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost', 'master1', 'k8s.example.lan']);
  });

  it('leaves the VIP out when tls-san does not name it', () => {
    const s = servingSans({ hostname: 'master2', nodeName: 'master2', nodeIps: ['10.17.4.22'], tlsSans: [], serviceCidr: '10.43.0.0/16', clusterDomain: 'cluster.local' });
    expect(s.ips).not.toContain('10.17.4.32');
  });

  it('computes the kubernetes service IP from service-cidr', () => {
    expect(firstServiceIp('10.43.0.0/16')).toBe('10.43.0.1');
    expect(firstServiceIp('10.96.5.7/12')).toBe('10.96.0.1');
  });
});

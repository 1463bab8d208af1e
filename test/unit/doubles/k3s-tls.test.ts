// The double's certificates (openssl) and client errors: a server certificate without the
// address the client dials fails like Go's x509 check (k3s#9257: the VIP missing from tls-san).
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCa, newLeaf } from '../../doubles/k3s/certs.ts';
import { request } from '../../doubles/k3s/http.ts';
import { servingSans } from '../../doubles/k3s/sans.ts';

const ca = newCa('k3s-server-ca@1');
let server: https.Server;
let goodServer: https.Server;
let port = 0;

beforeAll(async () => {
  // The serving SANs of a server with node-ip 10.17.4.21, minus the address the client dials.
  const sans = servingSans({ hostname: 'master1', nodeName: 'master1', nodeIps: ['10.17.4.21'], tlsSans: [], serviceCidr: '10.43.0.0/16', clusterDomain: 'cluster.local' });
  const leaf = newLeaf(ca, { cn: 'kube-apiserver', sans: { dns: sans.dns, ips: sans.ips.filter((ip) => ip !== '127.0.0.1') }, usage: 'server' });
  const good = newLeaf(ca, { cn: 'kube-apiserver', sans, usage: 'server' });
  server = https.createServer({ key: leaf.key, cert: leaf.crt }, (_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
  // The same SANs with 127.0.0.1 kept, on a second server, for the positive case.
  goodServer = https.createServer({ key: good.key, cert: good.crt }, (_req, res) => res.end('ok'));
  await new Promise<void>((r) => goodServer.listen(0, '127.0.0.1', () => r()));
});

afterAll(() => {
  server?.close();
  goodServer?.close();
});

describe('k3s double: TLS', () => {
  it('fails a client whose address is not in the serving certificate with the x509 text', async () => {
    await expect(request(`https://127.0.0.1:${port}/readyz`, { tls: { ca: ca.crt } })).rejects.toThrow(
      /tls: failed to verify certificate: x509: certificate is valid for .*10\.17\.4\.21.*, not 127\.0\.0\.1/,
    );
  });

  it('accepts it when the address is a SAN, and rejects another CA as unknown authority', async () => {
    const p = (goodServer.address() as AddressInfo).port;
    expect((await request(`https://127.0.0.1:${p}/x`, { tls: { ca: ca.crt } })).body).toBe('ok');
    const other = newCa('other');
    await expect(request(`https://127.0.0.1:${p}/x`, { tls: { ca: other.crt } })).rejects.toThrow('x509: certificate signed by unknown authority');
  });
});

// Subject alternative names of a server's serving certificate, as K3s builds them: the
// in-cluster names of the kubernetes service, localhost, loopback, the first service IP, the
// node's name, hostname and IPs, and every tls-san. A VIP left out of tls-san is therefore
// missing, and a client going through the VIP fails certificate verification (k3s#9257).
import { isIP } from 'node:net';

export interface SanInput {
  hostname: string;
  nodeName: string;
  nodeIps: readonly string[];
  tlsSans: readonly string[];
  serviceCidr: string;
  clusterDomain: string;
}

export interface SanList {
  dns: string[];
  ips: string[];
}

/** The first usable address of an IPv4 CIDR (the kubernetes service's ClusterIP). */
export function firstServiceIp(cidr: string): string {
  const [addr, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!addr || isIP(addr) !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 30) throw new Error(`invalid service-cidr ${cidr}`);
  const n = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const first = ((n & mask) >>> 0) + 1;
  return [24, 16, 8, 0].map((s) => (first >>> s) & 255).join('.');
}

export function servingSans(i: SanInput): SanList {
  const dns: string[] = [];
  const ips: string[] = [];
  const add = (v: string) => {
    const s = v.trim();
    if (!s) return;
    const list = isIP(s) ? ips : dns;
    if (!list.includes(s)) list.push(s);
  };
  for (const d of ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${i.clusterDomain}`, 'localhost']) add(d);
  add(i.hostname);
  add(i.nodeName);
  add('127.0.0.1');
  add('::1');
  add(firstServiceIp(i.serviceCidr.split(',')[0]!));
  for (const ip of i.nodeIps) add(ip);
  for (const s of i.tlsSans) add(s);
  return { dns, ips };
}

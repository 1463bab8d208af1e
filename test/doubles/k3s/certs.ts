// Certificates with the openssl CLI (present on Debian hosts through ca-certificates): ECDSA
// P-256 CAs and leaves at K3s's file names under server/tls/.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SanList } from './sans.ts';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface KeyPair {
  crt: string;
  key: string;
}

export function writeAtomic(path: string, data: string, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

export function newCa(cn: string): KeyPair {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-ca-'));
  try {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${dir}/k`]);
    openssl([
      'req', '-x509', '-new', '-key', `${dir}/k`, '-sha256', '-days', '3650', '-subj', `/CN=${cn}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
      '-out', `${dir}/c`,
    ]);
    return { crt: readFileSync(`${dir}/c`, 'utf8'), key: readFileSync(`${dir}/k`, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LeafSpec {
  cn: string;
  org?: string;
  sans?: SanList;
  usage: 'server' | 'client';
}

export function newLeaf(ca: KeyPair, spec: LeafSpec): KeyPair {
  const dir = mkdtempSync(join(tmpdir(), 'k3s-leaf-'));
  try {
    writeFileSync(`${dir}/ca.crt`, ca.crt);
    writeFileSync(`${dir}/ca.key`, ca.key, { mode: 0o600 });
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${dir}/k`]);
    const subj = spec.org ? `/O=${spec.org}/CN=${spec.cn}` : `/CN=${spec.cn}`;
    openssl(['req', '-new', '-key', `${dir}/k`, '-subj', subj, '-out', `${dir}/csr`]);
    const ext = [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${spec.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
    ];
    if (spec.sans && (spec.sans.dns.length || spec.sans.ips.length)) {
      ext.push(`subjectAltName=${[...spec.sans.dns.map((d) => `DNS:${d}`), ...spec.sans.ips.map((i) => `IP:${i}`)].join(',')}`);
    }
    writeFileSync(`${dir}/ext`, `${ext.join('\n')}\n`);
    const serial = `0x${Buffer.from(Array.from({ length: 8 }, () => Math.floor(Math.random() * 256))).toString('hex')}`;
    openssl(['x509', '-req', '-in', `${dir}/csr`, '-CA', `${dir}/ca.crt`, '-CAkey', `${dir}/ca.key`, '-set_serial', serial, '-days', '365', '-sha256', '-extfile', `${dir}/ext`, '-out', `${dir}/c`]);
    return { crt: readFileSync(`${dir}/c`, 'utf8'), key: readFileSync(`${dir}/k`, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function readPair(base: string): KeyPair {
  return { crt: readFileSync(`${base}.crt`, 'utf8'), key: readFileSync(`${base}.key`, 'utf8') };
}

export function writePair(base: string, p: KeyPair): void {
  writeAtomic(`${base}.key`, p.key, 0o600);
  writeAtomic(`${base}.crt`, p.crt, 0o644);
}

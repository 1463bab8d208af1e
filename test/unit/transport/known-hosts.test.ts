import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkHostKey,
  fingerprint,
  formatKnownHostsLine,
  hashHostId,
  hostFieldMatches,
  knownHostId,
  knownKeyTypes,
  parseKeyBlob,
  parseKnownHosts,
} from '../../../lib/transport/known-hosts.ts';

// Keys in the real wire format (type string, then key data), as ssh-keygen writes them.
const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const ED2 = 'AAAAC3NzaC1lZDI1NTE5AAAAIHm2eYbtxu5x0tBVBdCXiShsW2mRDyCdGh8TBOTaZ3Dp';
const RSA = 'AAAAB3NzaC1yc2EAAAADAQABAAAAgQDKqH0eZ1cBmJdcpcKx3Rl3KhDxy3YVtCfAPwq2CqVEVoS2H7M4';

describe('knownHostId', () => {
  it('uses the bare host on port 22 and [host]:port otherwise', () => {
    expect(knownHostId('Web1.Example', 22)).toBe('web1.example');
    expect(knownHostId('10.0.0.5', 2222)).toBe('[10.0.0.5]:2222');
  });
});

describe('parseKnownHosts', () => {
  it('reads plain, hashed, marked, commented and blank lines with line numbers', () => {
    const text = [
      '# comment',
      '',
      `web1,10.0.0.5 ssh-ed25519 ${ED} comment here`,
      `|1|c2FsdA==|aGFzaA== ssh-rsa ${RSA}`,
      `@revoked * ssh-ed25519 ${ED2}`,
      `@cert-authority *.example ssh-ed25519 ${ED}`,
      '@bogus host ssh-ed25519 AAAA',
      'incomplete-line ssh-ed25519',
    ].join('\n');
    const e = parseKnownHosts(text, '/kh');
    expect(e).toHaveLength(4);
    expect(e[0]).toEqual({ file: '/kh', line: 3, hosts: 'web1,10.0.0.5', keyType: 'ssh-ed25519', key: ED });
    expect(e[1]!.hosts.startsWith('|1|')).toBe(true);
    expect(e[2]!.marker).toBe('revoked');
    expect(e[3]!.marker).toBe('cert-authority');
  });
});

describe('hostFieldMatches', () => {
  it('matches comma lists case-insensitively', () => {
    expect(hostFieldMatches('web1,10.0.0.5', '10.0.0.5')).toBe(true);
    expect(hostFieldMatches('WEB1,10.0.0.5', 'web1')).toBe(true);
    expect(hostFieldMatches('web1,10.0.0.5', 'web2')).toBe(false);
  });
  it('keeps ports apart: [host]:port never matches the bare host', () => {
    expect(hostFieldMatches('[10.0.0.5]:2222', '[10.0.0.5]:2222')).toBe(true);
    expect(hostFieldMatches('[10.0.0.5]:2222', '10.0.0.5')).toBe(false);
    expect(hostFieldMatches('10.0.0.5', '[10.0.0.5]:2222')).toBe(false);
  });
  it('supports * and ? wildcards and ! negation', () => {
    expect(hostFieldMatches('*.lab.example', 'm1.lab.example')).toBe(true);
    expect(hostFieldMatches('m?.lab', 'm1.lab')).toBe(true);
    expect(hostFieldMatches('m?.lab', 'm10.lab')).toBe(false);
    expect(hostFieldMatches('*.lab,!bad.lab', 'bad.lab')).toBe(false);
    expect(hostFieldMatches('!bad.lab', 'good.lab')).toBe(false); // negation alone matches nothing
    expect(hostFieldMatches('a.b', 'axb')).toBe(false); // a dot is literal
  });
  it('matches hashed entries by HMAC-SHA1 of the host id', () => {
    const salt = Buffer.from('0123456789abcdefghij');
    const hash = createHmac('sha1', salt).update('[127.0.0.1]:2222').digest('base64');
    const field = `|1|${salt.toString('base64')}|${hash}`;
    expect(hostFieldMatches(field, '[127.0.0.1]:2222')).toBe(true);
    expect(hostFieldMatches(field, '127.0.0.1')).toBe(false);
    expect(hostFieldMatches(hashHostId('web1'), 'web1')).toBe(true);
    expect(hostFieldMatches('|2|x|y', 'web1')).toBe(false);
  });
});

describe('checkHostKey', () => {
  const entries = parseKnownHosts(
    [
      `web1,10.0.0.5 ssh-ed25519 ${ED}`,
      `web1 ssh-rsa ${RSA}`,
      `${hashHostId('[db1]:2200')} ssh-ed25519 ${ED2}`,
      `@revoked * ssh-ed25519 ${ED2}`,
    ].join('\n'),
    '/kh',
  );

  it('accepts a matching key of any recorded type', () => {
    expect(checkHostKey(entries, 'web1', 22, 'ssh-ed25519', ED).status).toBe('match');
    expect(checkHostKey(entries, 'web1', 22, 'ssh-rsa', RSA).status).toBe('match');
    expect(checkHostKey(entries, '10.0.0.5', 22, 'ssh-ed25519', ED).status).toBe('match');
  });
  it('reports a different key for a known host as a mismatch, with the known entries', () => {
    const r = checkHostKey(entries, 'web1', 22, 'ssh-ed25519', ED2.replace('H', 'J'));
    expect(r.status).toBe('mismatch');
    if (r.status === 'mismatch') expect(r.known.map((e) => e.line)).toEqual([1, 2]);
  });
  it('reports an unknown host as unknown (other port = other host)', () => {
    expect(checkHostKey(entries, 'web2', 22, 'ssh-ed25519', ED).status).toBe('unknown');
    expect(checkHostKey(entries, 'web1', 2222, 'ssh-ed25519', ED).status).toBe('unknown');
  });
  it('refuses a revoked key even where a line would match it', () => {
    const r = checkHostKey(entries, 'db1', 2200, 'ssh-ed25519', ED2);
    expect(r.status).toBe('revoked');
  });
  it('lists the key types known for a host', () => {
    expect(knownKeyTypes(entries, 'web1', 22)).toEqual(['ssh-ed25519', 'ssh-rsa']);
    expect(knownKeyTypes(entries, 'nope', 22)).toEqual([]);
  });
});

describe('key blobs and lines', () => {
  it('reads the type out of a wire-format blob and fingerprints it like ssh-keygen', () => {
    const blob = Buffer.from(ED, 'base64');
    expect(parseKeyBlob(blob)).toEqual({ type: 'ssh-ed25519', base64: ED });
    expect(fingerprint(ED)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(() => parseKeyBlob(Buffer.from([0, 0, 0, 9, 1]))).toThrow(/malformed/);
  });
  it('formats plain and hashed lines that parse back and match', () => {
    const plain = formatKnownHostsLine('127.0.0.1', 2222, 'ssh-ed25519', ED);
    expect(plain).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${ED}`);
    const hashed = formatKnownHostsLine('127.0.0.1', 2222, 'ssh-ed25519', ED, { hash: true });
    const [e] = parseKnownHosts(hashed, 'f');
    expect(checkHostKey([e!], '127.0.0.1', 2222, 'ssh-ed25519', ED).status).toBe('match');
  });
});

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostKeyError } from '../../../lib/errors.ts';
import { decideHostKey, preferredHostKeyAlgorithms } from '../../../lib/transport/host-key.ts';
import { hashHostId, parseKnownHosts } from '../../../lib/transport/known-hosts.ts';

const ED = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const ED_OTHER = 'AAAAC3NzaC1lZDI1NTE5AAAAIHm2eYbtxu5x0tBVBdCXiShsW2mRDyCdGh8TBOTaZ3Dp';
const blob = (b64: string) => Buffer.from(b64, 'base64');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drv-hk-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('decideHostKey', () => {
  it('accepts a key recorded in any of the files', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, `other ssh-ed25519 ${ED_OTHER}\n`);
    writeFileSync(b, `[10.0.0.5]:2222 ssh-ed25519 ${ED}\n`);
    expect(decideHostKey('m1', '10.0.0.5', 2222, blob(ED), { files: [a, b], acceptNew: false })).toEqual({ ok: true });
  });

  it('accepts a hashed entry', () => {
    const f = join(dir, 'kh');
    writeFileSync(f, `${hashHostId('[10.0.0.5]:2222')} ssh-ed25519 ${ED}\n`);
    expect(decideHostKey('m1', '10.0.0.5', 2222, blob(ED), { files: [f], acceptNew: false }).ok).toBe(true);
  });

  it('refuses an unknown host, naming the host, the file and how to opt in', () => {
    const f = join(dir, 'missing');
    const d = decideHostKey('m1', '10.0.0.5', 2222, blob(ED), { files: [f], acceptNew: false });
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.error).toBeInstanceOf(HostKeyError);
    expect(d.error.message).toContain('[10.0.0.5]:2222');
    expect(d.error.message).toContain(f);
    expect(d.error.message).toContain('acceptNewHostKeys');
    expect(d.error.message).toMatch(/SHA256:/);
  });

  it('records an unknown host when opted in (file created 0600, appended after)', () => {
    const f = join(dir, 'sub', 'known_hosts');
    const d = decideHostKey('m1', '10.0.0.5', 2222, blob(ED), { files: [f], acceptNew: true });
    expect(d).toMatchObject({ ok: true });
    expect(readFileSync(f, 'utf8')).toBe(`[10.0.0.5]:2222 ssh-ed25519 ${ED}\n`);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    // Next time it is simply known, and a second host is appended, not overwritten.
    expect(decideHostKey('m1', '10.0.0.5', 2222, blob(ED), { files: [f], acceptNew: false })).toEqual({ ok: true });
    decideHostKey('m2', '10.0.0.6', 22, blob(ED_OTHER), { files: [f], acceptNew: true });
    expect(parseKnownHosts(readFileSync(f, 'utf8'), f)).toHaveLength(2);
  });

  it('adds a newline before appending to a file that lacks one', () => {
    const f = join(dir, 'kh');
    writeFileSync(f, `other ssh-ed25519 ${ED_OTHER}`);
    decideHostKey('m1', 'web', 22, blob(ED), { files: [f], acceptNew: true });
    expect(readFileSync(f, 'utf8').split('\n')).toEqual([`other ssh-ed25519 ${ED_OTHER}`, `web ssh-ed25519 ${ED}`, '']);
  });

  it('always refuses a changed key, loudly, even with acceptNew, and never rewrites the file', () => {
    const f = join(dir, 'kh');
    const before = `[10.0.0.5]:2222 ssh-ed25519 ${ED_OTHER}\n`;
    writeFileSync(f, before);
    const d = decideHostKey('m1', '10.0.0.5', 2222, blob(ED), { files: [f], acceptNew: true });
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.error.message).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED/);
    expect(d.error.message).toMatch(/man-in-the-middle/);
    expect(d.error.message).toContain(`${f}:1`);
    expect(readFileSync(f, 'utf8')).toBe(before);
  });

  it('refuses a revoked key', () => {
    const f = join(dir, 'kh');
    writeFileSync(f, `@revoked * ssh-ed25519 ${ED}\nweb ssh-ed25519 ${ED}\n`);
    const d = decideHostKey('m1', 'web', 22, blob(ED), { files: [f], acceptNew: true });
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.error.message).toMatch(/@revoked/);
  });

  it('reports an unreadable key blob instead of throwing', () => {
    const d = decideHostKey('m1', 'web', 22, Buffer.from([1, 2]), { files: [join(dir, 'x')], acceptNew: true });
    expect(d.ok).toBe(false);
  });
});

describe('preferredHostKeyAlgorithms', () => {
  it('puts the known key types first (RSA as its SHA-2 signature algorithms)', () => {
    const entries = parseKnownHosts(`web ssh-rsa AAAAB3NzaC1yc2E=\n`, 'f');
    const algos = preferredHostKeyAlgorithms(entries, 'web', 22);
    expect(algos.slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(algos).toContain('ssh-ed25519');
    expect(new Set(algos).size).toBe(algos.length);
  });
  it('keeps the default order for an unknown host', () => {
    expect(preferredHostKeyAlgorithms([], 'web', 22)[0]).toBe('ssh-ed25519');
  });
});

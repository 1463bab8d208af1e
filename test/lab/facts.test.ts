// Facts from a real machine: this one, through a real sshd (test/support/sshd.ts) and
// through the local transport, checked against what Node and coreutils say here.
import { execFileSync } from 'node:child_process';
import { hostname, totalmem } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatherFacts } from '../../lib/facts/gather.ts';
import { FactsSchema } from '../../lib/facts/types.ts';
import { createTransport } from '../../lib/transport/index.ts';
import { ConnectionSchema } from '../../lib/transport/connection.ts';
import type { Transport } from '../../lib/transport/types.ts';
import { createTempUser, isLabCapable, labGate, startSshd, tempUserName, type Sshd, type TempUser } from '../support/sshd.ts';

const gate = labGate(isLabCapable(), 'facts lab tests');
if (gate.failInCi) {
  it('has the lab prerequisites', () => {
    throw new Error(gate.failInCi!);
  });
}

const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }).trim();

describe.skipIf(gate.skip)('gatherFacts on a real host', () => {
  let sshd: Sshd;
  let user: TempUser;
  const opened: Transport[] = [];
  const open = (t: Transport) => (opened.push(t), t);

  beforeAll(async () => {
    sshd = await startSshd();
    user = createTempUser(tempUserName(), `pw-${process.pid}-facts`, 'none');
    sshd.authorize(user.name);
  });
  afterAll(async () => {
    await Promise.allSettled(opened.map((t) => t.close()));
    user?.remove();
    await sshd?.stop();
  });

  it('over ssh as root, in one exec, matching this machine', async () => {
    const t = open(createTransport(sshd.connection({ name: 'facts-root' })));
    await t.connect();
    const started = performance.now();
    const f = await gatherFacts(t);
    console.log(`[lab] gatherFacts over ssh took ${(performance.now() - started).toFixed(0)} ms (root login shell rc files included)`);
    expect(FactsSchema.safeParse(f).success).toBe(true);
    const osr = Object.fromEntries(
      sh('cat /etc/os-release')
        .split('\n')
        .map((l) => l.split('=') as [string, string])
        .map(([k, v]) => [k, (v ?? '').replace(/^"|"$/g, '')]),
    );
    expect(f.hostname).toBe(hostname());
    expect(f.os.id).toBe(osr.ID);
    expect(f.os.version).toBe(osr.VERSION_ID ?? '');
    expect(f.kernel).toBe(sh('uname -r'));
    expect(f.arch).toBe(sh('uname -m'));
    expect(f.uid).toBe(0);
    expect(f.cpus).toBe(Number(sh('nproc')));
    expect(Math.abs(f.memTotalMb - totalmem() / 1024 / 1024)).toBeLessThan(2);
    if (osr.ID === 'debian') expect(f.pkgManager).toBe('apt');
    const lo = f.interfaces.find((i) => i.name === 'lo');
    expect(lo?.addresses).toContain('127.0.0.1/8');
    const ipv4s = sh("ip -o -4 addr show | awk '{print $4}'").split('\n');
    expect(f.interfaces.flatMap((i) => i.addresses).filter((a) => a.includes('.'))).toEqual(expect.arrayContaining(ipv4s));
    if (f.defaultIpv4) expect(ipv4s.map((a) => a.split('/')[0])).toContain(f.defaultIpv4);
    if (sh('command -v systemd-detect-virt || true')) {
      const c = sh('systemd-detect-virt --container || true');
      expect(f.container).toBe(c === 'none' ? null : c);
      const v = sh('systemd-detect-virt --vm || true');
      expect(f.vm).toBe(v === 'none' ? null : v);
    }
  });

  it('over ssh as a non-root user: uid is that user, everything else the same machine', async () => {
    const t = open(createTransport(sshd.connection({ name: 'facts-user', user: user.name })));
    const f = await gatherFacts(t);
    expect(f.uid).toBe(Number(sh(`id -u ${user.name}`)));
    expect(f.hostname).toBe(hostname());
    expect(f.interfaces.length).toBeGreaterThan(0);
  });

  it('through the local transport, the same facts as over ssh', async () => {
    const local = open(createTransport(ConnectionSchema.parse({ name: 'controller', kind: 'local', address: 'localhost' })));
    const viaSsh = open(createTransport(sshd.connection({ name: 'facts-root-2' })));
    const [a, b] = await Promise.all([gatherFacts(local), gatherFacts(viaSsh)]);
    // python is left out: it is looked up in each login's PATH, which differs.
    const { python: _pa, ...ra } = a;
    const { python: _pb, ...rb } = b;
    expect(ra).toEqual(rb);
  });
});

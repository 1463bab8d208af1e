// Fault: host keys that do not match what the controller knows, through the command line
// against master1 (its real ed25519 host key), with a known_hosts file of the test's own
// (-e drover_known_hosts=..., which wins over the inventory's).
// - unknown key: refused (exit 4), the message shows the key's SHA256 fingerprint exactly as
//   ssh-keygen -l prints it, and how to add it;
// - --accept-new-host-keys: accepted, recorded in known_hosts (ssh-keygen -F finds it), said
//   in the output; the next run without the flag connects;
// - changed key (known_hosts holds master2's key for master1's address): refused even with
//   --accept-new-host-keys, the message shows both fingerprints, the offending file:line and
//   the `ssh-keygen -f FILE -R HOST` line; that very line fixes it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostPublicKey } from '../../lab/hostfs.ts';
import { FAULT_PLAYBOOK, startRun, type RunEnd } from './support/fault-run.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const HOST = 'master1';
const ADDR = '10.17.4.21';
let lab: Lab | undefined;
const dir = mkdtempSync(join(tmpdir(), 'drover-hostkeys-'));
const kh = join(dir, 'known_hosts');

beforeAll(async () => {
  lab = await useLab();
  if (!lab) console.warn('[faults-host-keys] lab not available here: skipping');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What ssh-keygen -l prints for a public key line: SHA256:... */
function keygenFingerprint(pub: string): string {
  const f = join(dir, 'one.pub');
  writeFileSync(f, `${pub}\n`);
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', f], { encoding: 'utf8' });
  return /(SHA256:\S+)/.exec(out)![1]!;
}

const connect = (...extra: string[]) =>
  startRun(FAULT_PLAYBOOK, ['-i', lab!.inventory, '--limit', HOST, '-e', `drover_known_hosts=${kh}`, '-e', 'fault_run=hostkeys', '-e', 'fault_only=none', ...extra]).done;
const unreachableMsg = (end: RunEnd) => {
  const e = end.events.find((x) => x.type === 'host_state' && x.host === HOST && x.state === 'unreachable');
  return e?.type === 'host_state' ? (e.msg ?? '') : '';
};

describe('host keys through the command line', () => {
  it('an unknown key is refused; --accept-new-host-keys records it; a changed key is always refused, with both fingerprints and the fix', async (ctx) => {
    if (!lab) return ctx.skip();
    const real = hostPublicKey(HOST)!; // "ssh-ed25519 AAAA... root@..."
    const other = hostPublicKey('master2')!;
    const realFp = keygenFingerprint(real);
    const otherFp = keygenFingerprint(other);
    expect(realFp).not.toBe(otherFp);

    // Unknown.
    writeFileSync(kh, '');
    const unknown = await connect();
    expect(unknown.code).toBe(4);
    const m1 = unreachableMsg(unknown);
    expect(m1).toContain(`host key of ${ADDR} is unknown: the fingerprint for the ED25519 key sent by the remote host is ${realFp};`);
    expect(m1).toContain(`ssh-keyscan -p 22 ${ADDR} >> ${kh}`);
    expect(m1).toContain('--accept-new-host-keys');
    expect(readFileSync(kh, 'utf8')).toBe('');

    // Trust on first use, only when asked.
    const accepted = await connect('--accept-new-host-keys');
    expect(accepted.code, accepted.stdout).toBe(0);
    const notice = accepted.events.find((e) => e.type === 'log' && e.host === HOST && e.msg.startsWith('recorded new host key'));
    expect(notice?.type === 'log' && notice.msg).toBe(`recorded new host key in ${kh}: ${ADDR} ssh-ed25519 ${realFp}`);
    const [type, blob] = real.split(' ');
    expect(readFileSync(kh, 'utf8')).toBe(`${ADDR} ${type} ${blob}\n`);
    expect(execFileSync('ssh-keygen', ['-F', ADDR, '-f', kh], { encoding: 'utf8' })).toContain(blob);
    expect((await connect()).code).toBe(0);

    // Changed: the file says master2's key for master1's address.
    const [otype, oblob] = other.split(' ');
    const changedFile = `# lab test\n${ADDR} ${otype} ${oblob}\n`;
    writeFileSync(kh, changedFile);
    const changed = await connect('--accept-new-host-keys');
    expect(changed.code).toBe(4);
    const m2 = unreachableMsg(changed);
    expect(m2).toContain(`WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for ${ADDR}!`);
    expect(m2).toContain(`The fingerprint for the ED25519 key sent by the remote host is ${realFp}.`);
    expect(m2).toContain(`Offending ED25519 key ${otherFp} in ${kh}:2.`);
    expect(m2).toContain('never overridden by --accept-new-host-keys');
    expect(readFileSync(kh, 'utf8')).toBe(changedFile);
    // The fix the message gives, run as given, then trust on first use again.
    const fix = /(ssh-keygen -f "[^"]+" -R "[^"]+")/.exec(m2)?.[1];
    expect(fix).toBe(`ssh-keygen -f "${kh}" -R "${ADDR}"`);
    execFileSync('sh', ['-c', fix!], { stdio: 'ignore' });
    expect(readFileSync(kh, 'utf8')).not.toContain(oblob);
    expect((await connect('--accept-new-host-keys')).code).toBe(0);
    expect((await connect()).code).toBe(0);
    console.log(`[faults-host-keys] 2 key faults injected (unknown, changed); fingerprints match ssh-keygen -l: ${realFp}`);
  });
});

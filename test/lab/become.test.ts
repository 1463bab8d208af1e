// become means what it says, on a real host that logs in as a non-root sudo user with
// ansible_become: true in the inventory (issue 13): with the play's become unset the
// inventory's applies (root), a play's become: false runs as the user (and cannot write
// root's files), become: true runs as root, and an op's sudo: false runs as the user
// whatever the play says. And --check sends no write to the host, only reads.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROLLER_KEY, KNOWN_HOSTS, readTopology } from '../../lab/index.ts';
import { BECOME_DIR, CHECK_MARKER } from './support/become-paths.ts';
import { describeRun, runDrover, type DroverRun } from './support/drover.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const HOST = 'infra';
const USER = 'drover-sudoer';
const PLAYBOOK = 'test/lab/support/become-playbook.ts';
let lab: Lab | undefined;
const tmp = mkdtempSync(join(tmpdir(), 'drover-become-'));
const inventory = join(tmp, 'become.yaml');

beforeAll(async () => {
  lab = await useLab();
  if (!lab) return console.warn('[become] lab not available here: skipping the become tests');
  // A login user that is not root, allowed to sudo without a password, with the lab's key.
  const setup = await lab.sh(
    HOST,
    [
      `id ${USER} >/dev/null 2>&1 || useradd -m -s /bin/sh ${USER}`,
      'command -v sudo >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q sudo >/dev/null',
      `printf '%s\\n' '${USER} ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/${USER}.tmp && chmod 0440 /etc/sudoers.d/${USER}.tmp && visudo -cf /etc/sudoers.d/${USER}.tmp >/dev/null && mv /etc/sudoers.d/${USER}.tmp /etc/sudoers.d/${USER}`,
      `install -d -m 0700 -o ${USER} -g ${USER} /home/${USER}/.ssh && install -m 0600 -o ${USER} -g ${USER} /root/.ssh/authorized_keys /home/${USER}/.ssh/authorized_keys`,
      // A directory only root may write to, and no file from an earlier run.
      `rm -rf ${BECOME_DIR} && install -d -m 0755 -o root -g root ${BECOME_DIR}`,
    ].join(' && '),
    { timeoutMs: 180_000 },
  );
  expect(setup.code, setup.stderr).toBe(0);
  const address = (await readTopology(lab.inventory)).hosts.find((h) => h.name === HOST)!.address;
  writeFileSync(
    inventory,
    [
      'all:',
      '  vars:',
      `    ansible_ssh_private_key_file: ${CONTROLLER_KEY}`,
      `    drover_known_hosts: ${KNOWN_HOSTS}`,
      '  hosts:',
      `    ${HOST}: { ansible_host: ${address}, ansible_user: ${USER}, ansible_become: true }`,
      '',
    ].join('\n'),
  );
}, 240_000);

afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await lab?.sh(HOST, `rm -rf ${BECOME_DIR}; userdel -r ${USER} 2>/dev/null; rm -f /etc/sudoers.d/${USER}`);
});

/** play -> task -> "status: msg" */
function byPlay(run: DroverRun): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const t of run.tasks) {
    if (t.task === 'Gathering Facts') continue;
    (out[t.play] ??= {})[t.task] = `${t.status}: ${t.msg ?? ''}`;
  }
  return out;
}

describe('become on a host that logs in as a non-root sudo user', () => {
  it('play unset: the inventory\'s ansible_become; play false: the user; play true: root; op sudo:false: the user', async (ctx) => {
    if (!lab) return ctx.skip();
    const run = await runDrover(PLAYBOOK, ['-i', inventory, '--tags', 'who']);
    const p = byPlay(run);
    const asUser = `ok: ${USER}`;
    expect(p.inventory, describeRun(run)).toEqual({ $: 'ok: root', command: 'ok: root', 'command sudo:false': asUser, 'command sudo:true': 'ok: root', transport: 'ok: root', file: 'ok: root' });
    // become: false wins over the inventory's ansible_become: true; the user cannot write root's directory.
    expect(p['play-false']!).toMatchObject({ $: asUser, command: asUser, 'command sudo:false': asUser, 'command sudo:true': 'ok: root', transport: asUser });
    expect(p['play-false']!.file).toMatch(/^failed: ignored: .*Permission denied/);
    expect(p['play-true']).toEqual({ $: 'ok: root', command: 'ok: root', 'command sudo:false': asUser, 'command sudo:true': 'ok: root', transport: 'ok: root', file: 'ok: root' });
    expect(run.code).toBe(0); // the failed write of play-false is ignored (ignoreErrors), so the host goes on
    const files = await lab.sh(HOST, `ls ${BECOME_DIR}`);
    expect(files.stdout.split('\n').filter(Boolean).sort()).toEqual(['inventory', 'play-true']);
  });

  it('--check sends only reads: a direct write and a put are refused (skipped, saying what they would do), the read runs', async (ctx) => {
    if (!lab) return ctx.skip();
    const run = await runDrover(PLAYBOOK, ['-i', inventory, '--tags', 'checkmode', '--check']);
    expect(run.code, describeRun(run)).toBe(0);
    expect(byPlay(run).check).toEqual({
      'write directly': `skipped: check mode: not run (would run: touch ${CHECK_MARKER})`,
      'put directly': `skipped: check mode: not run (would write ${CHECK_MARKER})`,
      read: 'ok: root',
    });
    expect((await lab.sh(HOST, `test -e ${CHECK_MARKER}; echo $?`)).stdout.trim()).toBe('1');
  });
});

describe('a command never hangs a run (root login: the pipelined shell runs commands inline)', () => {
  it('a typo (unterminated quote) is a failed task with sh\'s own message, and the next command runs', async (ctx) => {
    if (!lab) return ctx.skip();
    const run = await runDrover(PLAYBOOK, ['-i', lab.inventory, '--limit', HOST, '--tags', 'typo'], { timeoutMs: 60_000 });
    const typo = run.tasks.find((t) => t.task === 'typo')!;
    expect(typo.status, describeRun(run)).toBe('failed');
    expect(`${typo.msg}\n${typo.stderr}`).toMatch(/Syntax error: Unterminated quoted string/);
    // ignoreErrors: the next command runs on the same connection.
    expect(run.tasks.find((t) => t.task === 'after the typo')).toMatchObject({ status: 'ok', msg: 'still here' });
    expect(run.code).toBe(0);
  });

  it('a command without a timeout is stopped by the host\'s default bound (drover_command_timeout), killed on the host, with a clear message', async (ctx) => {
    if (!lab) return ctx.skip();
    const run = await runDrover(PLAYBOOK, ['-i', lab.inventory, '--limit', HOST, '--tags', 'bound', '-e', 'drover_command_timeout=3'], { timeoutMs: 120_000 });
    const t = run.tasks.find((e) => e.task === 'too long')!;
    expect(t.status, describeRun(run)).toBe('failed');
    expect(t.msg).toMatch(new RegExp(`^ignored: ${HOST}: command still running after 3 s, the default bound for a command: killed \\(sleep 301; echo done\\)\\. Give the op or exec a longer timeoutMs`));
    expect(run.tasks.find((e) => e.task === 'after the bound')).toMatchObject({ status: 'ok', msg: 'still here' });
    // Nothing of it is left on the host (its subshell and the sleep were killed).
    const left = await lab.sh(HOST, `for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q '^sleep 301 ' && echo $p; done; true`);
    expect(left.stdout.trim()).toBe('');
  });
});

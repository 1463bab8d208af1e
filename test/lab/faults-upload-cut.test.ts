// Fault: the SSH connection is cut (sshd's session processes SIGKILLed on the host, so the TCP
// connection drops) while Drover is in the middle of an operation on master1.
// - during a 64 MiB upload: the put is retried once on a new connection and the file ends up
//   whole and new; cut again during the retry, the task fails and the file is still the old one;
//   never a partial file, never a temp file left behind;
// - during a read-only probe: retried once on a new connection, the task succeeds;
// - during a command that appends (not safe to repeat): not retried, the host is reported
//   unreachable with a message saying so.
import { beforeAll, describe, expect, it } from 'vitest';
import { processRunning, cutWhen, uploadInFlight } from './support/fault-cut.ts';
import { bigContent, FAULT_DIR, sha256 } from './support/fault-playbook.ts';
import { FAULT_PLAYBOOK, onHost, startRun, taskEnds, type RunEnd } from './support/fault-run.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const HOST = 'master1';
const MB = 64;
const BIG = `${FAULT_DIR}/big.bin`;
let lab: Lab | undefined;
/** Faults injected by this file (reported in the log line at the end). */
let cuts = 0;

beforeAll(async () => {
  lab = await useLab();
  if (!lab) console.warn('[faults-upload-cut] lab not available here: skipping');
});

const args = (run: string, ...extra: string[]) => ['-i', lab!.inventory, '--limit', HOST, '-e', `fault_run=${run}`, ...extra];
const remoteSha = async () => (await onHost(HOST, `sha256sum ${BIG} | cut -d' ' -f1`)).trim();
const leftovers = async () => (await onHost(HOST, `ls -A ${FAULT_DIR} | grep -F .drover- || true`)).trim();
const warnings = (end: RunEnd) => end.events.filter((e) => e.type === 'log' && e.level === 'warn').map((e) => (e.type === 'log' ? e.msg : ''));
function only(end: RunEnd, task: string) {
  const t = taskEnds(end.events).filter((e) => e.host === HOST && e.task === task);
  expect(t.length, `${task} results: ${JSON.stringify(t)}`).toBe(1);
  return t[0]!;
}

describe('SSH connection cut mid-operation (master1)', () => {
  it('an upload cut mid-way is retried once and lands whole; cut twice, the old file stays; never partial', async (ctx) => {
    if (!lab) return ctx.skip();
    const stamp = Date.now();
    await onHost(HOST, `rm -rf ${FAULT_DIR}`);
    // The old content, written without a fault.
    const old = `cut-old-${stamp}`;
    const first = await startRun(FAULT_PLAYBOOK, args(old, '-e', `fault_big_mb=${MB}`, '-e', 'fault_only=big file')).done;
    expect(first.code, first.stderr).toBe(0);
    expect(await remoteSha()).toBe(sha256(bigContent(old, MB)));

    // Cut once during the upload: retried on a new connection, the new file lands whole.
    const fresh = `cut-new-${stamp}`;
    const run = startRun(FAULT_PLAYBOOK, args(fresh, '-e', `fault_big_mb=${MB}`, '-e', 'fault_only=big file'));
    const cut = await cutWhen(HOST, uploadInFlight(BIG));
    cuts++;
    expect(cut.killed).toBeGreaterThan(0);
    const end = await run.done;
    expect(end.code, end.stderr).toBe(0);
    expect(only(end, 'big file').status).toBe('changed');
    expect(warnings(end).some((w) => /connection lost during put \/var\/tmp\/drover-fault\/big\.bin; retrying once on a new connection/.test(w)), warnings(end).join('\n')).toBe(true);
    expect(await remoteSha()).toBe(sha256(bigContent(fresh, MB)));
    expect(await leftovers()).toBe('');

    // Cut during the upload and again during its retry: the task fails, the file is the last whole one.
    const third = `cut-twice-${stamp}`;
    const run2 = startRun(FAULT_PLAYBOOK, args(third, '-e', `fault_big_mb=${MB}`, '-e', 'fault_only=big file'));
    const c1 = await cutWhen(HOST, uploadInFlight(BIG));
    const c2 = await cutWhen(HOST, uploadInFlight(BIG, c1.seen));
    cuts += 2;
    expect(c2.seen).not.toBe(c1.seen);
    const end2 = await run2.done;
    expect(end2.code, end2.stdout).toBe(4);
    const t = only(end2, 'big file');
    expect(t.status).toBe('unreachable');
    expect(t.msg).toMatch(/connection lost/);
    expect(end2.recap!.hosts[HOST]!.unreachable).toBe(1);
    // Whole and old: the two cut uploads left nothing of themselves.
    expect(await remoteSha()).toBe(sha256(bigContent(fresh, MB)));
    expect(await leftovers()).toBe('');
    expect(await onHost(HOST, `stat -c %a ${BIG}`)).toBe('600\n');
  });

  it('a read-only probe cut mid-way is retried once on a new connection and succeeds', async (ctx) => {
    if (!lab) return ctx.skip();
    const run = startRun(FAULT_PLAYBOOK, args(`cut-probe-${Date.now()}`, '-e', 'fault_probe_sleep=3', '-e', 'fault_only=slow probe'));
    await run.waitFor('slow probe start', (e) => e.type === 'task_start' && e.task === 'slow probe');
    await cutWhen(HOST, processRunning('sleep'));
    cuts++;
    const end = await run.done;
    expect(end.code, end.stdout).toBe(0);
    expect(only(end, 'slow probe').status).toBe('ok');
    expect(warnings(end).some((w) => /connection lost during sleep .*; retrying once on a new connection/.test(w)), warnings(end).join('\n')).toBe(true);
  });

  it('a command that changes the host, cut mid-way, is not retried: the host is unreachable and the message says why', async (ctx) => {
    if (!lab) return ctx.skip();
    const id = `cut-cmd-${Date.now()}`;
    const run = startRun(FAULT_PLAYBOOK, args(id, '-e', 'fault_sleep=3', '-e', 'fault_only=journal'));
    await cutWhen(HOST, `grep -x ${`'${id} begin'`} ${FAULT_DIR}/journal`);
    cuts++;
    const end = await run.done;
    expect(end.code, end.stdout).toBe(4);
    const t = only(end, 'journal');
    expect(t.status).toBe('unreachable');
    expect(t.msg).toMatch(/connection lost while running: .*not retried: it may already have changed the host/);
    // It ran once: one begin line (the command itself goes on without its connection: no HUP without a tty).
    expect((await onHost(HOST, `grep -c -x '${id} begin' ${FAULT_DIR}/journal`)).trim()).toBe('1');
    console.log(`[faults-upload-cut] ${cuts} connection cuts injected`);
  });
});

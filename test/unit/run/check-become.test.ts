// Become is one explicit value per context (play > host vars > off; off as root) that every
// exec/put gets, so a play's become: false and an op's sudo: false win over the inventory's
// ansible_become; --check lets only reads reach a host; missing facts fail, never skip.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ops } from '../../../lib/ops/index.ts';
import { ok } from '../../../lib/ops/types.ts';
import { defineRole, type Play, type Task } from '../../../lib/run/types.ts';
import { fakeFacts, harness, makeInventory } from './helpers.ts';

const nonRoot = { gatherFacts: async (t: { name: string }) => fakeFacts(t.name, { uid: 1000 }) };

function play(tasks: Task[], over: Partial<Play> = {}): Play {
  return { name: 'p', hosts: 'all', roles: [defineRole({ name: 'r', vars: z.object({}), tasks })], ...over };
}

/** The sudo option each recorded exec reached the host transport with, by command. */
function sudoBy(h: ReturnType<typeof harness>, host = 'a'): Record<string, unknown> {
  return Object.fromEntries(h.transports.get(host)!.execs.map((e) => [e.command, e.options?.sudo]));
}

describe('become: one explicit value', () => {
  const tasks: Task[] = [
    { name: 'raw exec', run: async (c) => (await c.transport.exec('id -u raw'), ok()) },
    { name: 'op default', run: (c) => c.run(ops.command('id -u op')) },
    { name: 'op sudo false', run: (c) => c.run(ops.command('id -u opfalse', { sudo: false })) },
    { name: 'op sudo true', run: (c) => c.run(ops.command('id -u optrue', { sudo: true })) },
    { name: 'ctx.$', run: async (c) => (await c.$`id -u dollar`, ok()) },
    { name: 'wait', run: (c) => c.run(ops.waitFor.command('id -u wait', { sudo: false })) },
    { name: 'port', run: (c) => c.run(ops.waitFor.port('10.0.0.1', 22, { timeoutMs: 0 })) },
    // Last: the fake has no such file to get, so this task fails after its probe.
    { name: 'fetch', run: (c) => c.run(ops.fetch('/etc/fetched-nosudo', '/nonexistent/drover-test/x', { sudo: false, failOnMissing: false })) },
  ];

  it('the inventory\'s ansible_become applies when the play says nothing; op-level sudo: false still wins', async () => {
    const h = harness(makeInventory({ a: { vars: { ansible_become: 'yes' } } }));
    await h.run([play(tasks)], nonRoot);
    const s = sudoBy(h);
    expect(s['id -u raw']).toBe(true);
    expect(s['id -u op']).toBe(true);
    expect(s['id -u opfalse']).toBe(false);
    expect(s['id -u optrue']).toBe(true);
    expect(s['id -u dollar']).toBe(true);
    expect(Object.entries(s).find(([c]) => c.includes('id -u wait'))![1]).toBe(false);
    expect(Object.entries(s).find(([c]) => c.includes('/etc/fetched-nosudo'))![1]).toBe(false);
    // A port check needs no privilege: never sudo, whatever the play says.
    expect(Object.entries(s).find(([c]) => c.includes('nc -z'))![1]).toBe(false);
    // undefined never reaches the host transport (it would mean "the host default" there).
    expect(h.transports.get('a')!.execs.every((e) => e.options?.sudo !== undefined)).toBe(true);
  });

  it('a play\'s become: false beats ansible_become: true; an op asking sudo: true still gets it', async () => {
    const h = harness(makeInventory({ a: { vars: { ansible_become: true } } }));
    await h.run([play(tasks, { become: false })], nonRoot);
    const s = sudoBy(h);
    expect([s['id -u raw'], s['id -u op'], s['id -u opfalse'], s['id -u dollar']]).toEqual([false, false, false, false]);
    expect(s['id -u optrue']).toBe(true);
  });

  it('a play\'s become: true beats ansible_become: false; logged in as root there is no sudo', async () => {
    const h = harness(makeInventory({ a: { vars: { ansible_become: false } } }));
    await h.run([play(tasks, { become: true })], nonRoot);
    expect(sudoBy(h)['id -u op']).toBe(true);
    const root = harness(makeInventory({ a: { vars: { ansible_become: true } } }));
    await root.run([play(tasks, { become: true })]);
    expect(sudoBy(root)['id -u op']).toBe(false);
  });

  it('puts get the context\'s become too', async () => {
    const h = harness(makeInventory({ a: { vars: { drover_become: true } } }));
    await h.run([play([{ name: 'file', run: (c) => c.run(ops.file('/etc/x', 'x\n')) }], { become: false })], nonRoot);
    expect(h.transports.get('a')!.files.get('/etc/x')!.options!.sudo).toBe(false);
  });
});

describe('--check: only reads reach the host', () => {
  const writes: Task[] = [
    { name: 'raw exec', run: async (c) => (await c.transport.exec('touch /tmp/raw'), ok('touched')) },
    { name: 'raw put', run: async (c) => (await c.transport.put('/tmp/put', 'x'), ok('written')) },
    { name: 'ctx.$ write', run: async (c) => (await c.$`rm -rf ${'/tmp/dollar'}`, ok()) },
    { name: 'probe and get', run: async (c) => (await c.transport.exec('cat /etc/hostname', { probe: true }), await c.$.read`uname -r`, ok('read')) },
    { name: 'declared safe', checkModeSafe: true, run: async (c) => (await c.transport.exec('k3s check-config'), ok('checked')) },
    { name: 'file op', run: (c) => c.run(ops.file('/etc/motd', 'hi\n')) },
    { name: 'command op', run: (c) => c.run(ops.command('systemctl restart x')) },
    { name: 'readOnly command', run: (c) => c.run(ops.command('cat /etc/os-release', { readOnly: true })) },
  ];

  it('refuses (never sends) any other exec or put and reports the task skipped with what it would have run', async () => {
    const h = harness(makeInventory({ a: {} }));
    const recap = await h.run([play(writes)], { check: true });
    const sent = h.transports.get('a')!.commands.join('\n');
    for (const never of ['touch /tmp/raw', '/tmp/dollar', 'systemctl restart x']) expect(sent).not.toContain(never);
    expect(h.transports.get('a')!.files.size).toBe(0);
    for (const read of ['cat /etc/hostname', 'uname -r', 'k3s check-config', 'cat /etc/os-release']) expect(sent).toContain(read);
    const end = Object.fromEntries(h.sink.ends('a').map((e) => [e.task, `${e.status}: ${e.msg}`]));
    expect(end['raw exec']).toBe('skipped: check mode: not run (would run: touch /tmp/raw)');
    expect(end['raw put']).toBe('skipped: check mode: not run (would write /tmp/put)');
    expect(end['ctx.$ write']).toMatch(/^skipped: check mode: not run \(would run: rm -rf \/tmp\/dollar\)/);
    expect(end['probe and get']).toBe('ok: read');
    expect(end['declared safe']).toBe('ok: checked');
    // Ops that know check mode decide without sending anything and say what they would do.
    expect(end['file op']).toMatch(/^changed: would/);
    expect(end['command op']).toBe('changed: would run: systemctl restart x');
    expect(end['readOnly command']).toMatch(/^ok: ran: cat \/etc\/os-release/);
    expect(recap.exitCode).toBe(0);
  });

  it('a refused task is not retried, and handlers are held to the same rule', async () => {
    const h = harness(makeInventory({ a: {} }));
    const role = defineRole({
      name: 'r',
      vars: z.object({}),
      tasks: [
        { name: 'retried', retries: 3, delayMs: 1, run: async (c) => (await c.transport.exec('apt-get -y upgrade'), ok()) },
        { name: 'notifies', notify: 'restart', run: (c) => c.run(ops.file('/etc/conf', 'x\n')) },
      ],
      handlers: [{ name: 'restart', run: async (c) => (await c.transport.exec('systemctl restart conf'), ok()) }],
    });
    await h.run([{ name: 'p', hosts: 'all', roles: [role] }], { check: true });
    expect(h.transports.get('a')!.commands.join('\n')).not.toMatch(/apt-get|systemctl restart/);
    const ends = h.sink.ends('a');
    expect(ends.find((e) => e.task === 'retried')).toMatchObject({ status: 'skipped' });
    expect(ends.find((e) => e.task === 'retried')!.attempts ?? 1).toBe(1);
    expect(ends.find((e) => e.task === 'restart')).toMatchObject({ status: 'skipped', msg: 'check mode: not run (would run: systemctl restart conf)' });
  });

  it('outside --check the same tasks run', async () => {
    const h = harness(makeInventory({ a: {} }));
    await h.run([play(writes.slice(0, 3))]);
    expect(h.transports.get('a')!.commands.join('\n')).toContain('touch /tmp/raw');
    expect(h.transports.get('a')!.files.has('/tmp/put')).toBe(true);
  });
});

describe('facts that were not gathered', () => {
  it('fail the op that needs them with a clear message instead of turning work into a skip', async () => {
    const h = harness(makeInventory({ a: {} }));
    const recap = await h.run([
      play([{ name: 'install', run: (c) => c.run(ops.package(['nginx'])) }], { gatherFacts: false }),
    ]);
    const end = h.sink.ends('a')[0]!;
    expect(end.status).toBe('failed');
    expect(end.msg).toMatch(/needs the fact "pkgManager", which was not gathered \(the play has gatherFacts: false.*set gatherFacts: true/);
    expect(h.transports.get('a')!.commands.join('\n')).not.toContain('apt-get');
    expect(recap.exitCode).toBe(2);
  });

  it('a `when` reading a fact fails the same way; tasks that need no facts run; a later gathered play has real facts', async () => {
    const h = harness(makeInventory({ a: {} }));
    let family = '';
    await h.run([
      play(
        [
          { name: 'no facts needed', run: (c) => c.run(ops.command('true')) },
          { name: 'when on a fact', when: (c) => c.facts.container === null, run: () => ok() },
        ],
        { gatherFacts: false },
      ),
    ]);
    expect(h.sink.ends('a').map((e) => e.status)).toEqual(['changed', 'failed']);
    expect(h.sink.ends('a')[1]!.msg).toMatch(/needs the fact "container"/);
    const g = harness(makeInventory({ a: {} }));
    await g.run([
      play([{ name: 'noop', run: () => ok() }], { gatherFacts: false }),
      play([{ name: 'read', run: (c) => ((family = c.facts.os.family), ok()) }], { name: 'q' }),
    ]);
    expect(family).toBe('debian');
  });
});

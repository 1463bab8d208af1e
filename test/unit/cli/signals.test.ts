// SIGTERM is the graceful stop too (exit 143), and a second signal exits at once with its own
// code. The lab proves it on real hosts (test/lab/faults-signals.test.ts).
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runPlaybook, type PlaybookIO } from '../../../lib/cli/playbook.ts';
import { ok } from '../../../lib/ops/types.ts';
import { defineRole } from '../../../lib/run/types.ts';
import { FakeTransport } from '../../support/fake-transport.ts';
import { fakeFacts, fakeSelect, makeInventory, tick } from '../run/helpers.ts';

class Buf {
  text = '';
  write(s: string) {
    this.text += s;
    return true;
  }
}

const inv = makeInventory({ m1: { groups: ['masters'] }, m2: { groups: ['masters'] } });

function env() {
  const stdout = new Buf();
  const stderr = new Buf();
  const signals = new EventEmitter();
  const exits: number[] = [];
  const io: PlaybookIO = {
    stdout,
    stderr,
    env: {},
    prog: 'site.ts',
    loadInventory: async () => inv,
    selectHosts: fakeSelect,
    connect: (h) => new FakeTransport(h.name),
    gatherFacts: async (t) => fakeFacts(t.name),
    signals,
    exit: (code) => void exits.push(code),
  };
  return { io, stdout, stderr, signals, exits };
}

/** One task that lets `during` act (send signals) mid-task, then a task that must not start. */
function role(during: () => Promise<void>) {
  return defineRole({
    name: 'slow',
    vars: z.object({}),
    tasks: [
      { name: 'one', run: async () => (await during(), ok()) },
      { name: 'two', run: () => ok() },
    ],
  });
}

describe('signals', () => {
  it('SIGTERM: the running task finishes, nothing new starts, the recap says aborted, exit 143', async () => {
    const e = env();
    let finished = 0;
    const r = role(async () => {
      e.signals.emit('SIGTERM');
      await tick(10);
      finished++;
    });
    const code = await runPlaybook({ name: 's', plays: [{ name: 'p', hosts: 'masters', roles: [r] }] }, ['-i', 'x', '-f', '1'], e.io);
    expect(code).toBe(143);
    expect(finished).toBe(1);
    expect(e.stderr.text).toContain('Terminated (SIGTERM): no new task will start; waiting for running tasks (a second signal stops now)');
    expect(e.stdout.text).not.toContain('[slow : two]');
    expect(e.stdout.text).toMatch(/ABORTED/);
    expect(e.exits).toEqual([]);
    expect(e.signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('a second signal exits at once with its own code (SIGINT then SIGTERM: 143)', async () => {
    const e = env();
    const r = role(async () => {
      e.signals.emit('SIGINT');
      e.signals.emit('SIGTERM');
      await tick(1);
    });
    await runPlaybook({ name: 's', plays: [{ name: 'p', hosts: 'masters', roles: [r] }] }, ['-i', 'x', '-f', '1'], e.io);
    expect(e.exits).toEqual([143]);
    expect(e.stderr.text).toContain('Interrupted: no new task will start');
  });
});

// createTui as the runner uses it: fake TTY streams, events in, frames out.
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTui, type TuiOptions } from '../../../ui/index.ts';
import { addSecret, clearSecrets } from '../../../lib/secrets/redact.ts';
import type { DroverEvent } from '../../../lib/report/events.ts';
import { ev, normalise, plain, recapRow } from './fixtures.ts';

class FakeStdout extends EventEmitter {
  isTTY = true;
  columns = 100;
  rows = 30;
  frames: string[] = [];
  write = (s: string) => {
    this.frames.push(s);
    return true;
  };
  /** The last frame with text in it (Ink's last writes on unmount are cursor escapes). */
  last = () => [...this.frames].reverse().find((f) => plain(f).trim() !== '') ?? '';
}

class FakeStdin extends EventEmitter {
  data: string | null = null;
  rawMode = false;
  constructor(readonly isTTY: boolean) {
    super();
  }
  write(data: string) {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  }
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode(on: boolean) {
    this.rawMode = on;
  }
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
  clearSecrets();
});

function start(over: Partial<TuiOptions> & { stdinTTY?: boolean } = {}) {
  const stdout = new FakeStdout();
  const stdin = new FakeStdin(over.stdinTTY ?? true);
  const onAbort = vi.fn();
  const tui = createTui({
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    verbose: false,
    diff: false,
    onAbort,
    throttleMs: 0,
    tickMs: 0,
    debug: true,
    ...over,
  });
  open.push(tui);
  return { tui, stdout, stdin, onAbort };
}

describe('createTui', () => {
  it('draws events and, on close, the recap as the final frame; done settles after', async () => {
    const { tui, stdout } = start();
    let finished = false;
    void tui.done.then(() => (finished = true));
    tui.emit(ev.runStart(['lb1', 'm1']));
    tui.emit(ev.taskStart('m1', 'install k3s', 1, { role: 'k3s-master' }));
    tui.emit(ev.taskStart('lb1', 'apt', 3));
    // Events sent before the UI finished loading are kept and drawn once it is up.
    await tui.ready;
    await settle();
    expect(normalise(stdout.last())).toContain('* m#   running        #    #    #    #   #.#s  k#s-master › install k#s');
    tui.emit(ev.taskEnd('m1', 'install k3s', 'changed', 5, { role: 'k3s-master', durationMs: 4000 }));
    tui.emit(ev.recap({ lb1: recapRow({ ok: 3 }), m1: recapRow({ ok: 5, changed: 1, durationMs: 5000 }) }));
    expect(finished).toBe(false);
    await tui.close();
    expect(finished).toBe(true);
    const f = plain(stdout.last());
    expect(f).toContain('PLAY RECAP 2 hosts');
    expect(f).toMatch(/\nm1\s+5\s+1\s+0\s+0\s+0\s+5\.0s/);
    expect(f).toContain('slowest task\n     4.0s  m1    k3s-master › install k3s');
    // Events after close are ignored, and closing twice is harmless.
    const n = stdout.frames.length;
    tui.emit(ev.taskStart('lb1', 'late', 9));
    await tui.close();
    await settle();
    expect(stdout.frames.length).toBe(n);
  });

  it('throttles: a burst of 4,000 events from 100 hosts costs a few frames, not thousands', async () => {
    const { tui, stdout } = start({ throttleMs: 60 });
    const hosts = Array.from({ length: 100 }, (_, i) => `h${i}`);
    const events: DroverEvent[] = [ev.runStart(hosts)];
    for (let t = 0; t < 20; t++) {
      for (const h of hosts) {
        events.push(ev.taskStart(h, `task ${t}`, t));
        events.push(ev.taskEnd(h, `task ${t}`, t === 19 ? 'changed' : 'ok', t + 0.5));
      }
    }
    hosts.forEach((h) => events.push(ev.hostState(h, 'done', 21)));
    await tui.ready;
    await settle();
    const before = stdout.frames.length;
    for (const e of events) tui.emit(e);
    await sleep(150);
    const drawn = stdout.frames.length - before;
    expect(drawn).toBeGreaterThanOrEqual(1);
    expect(drawn).toBeLessThanOrEqual(3);
    expect(plain(stdout.last())).toContain('100/100 hosts done');
    expect(plain(stdout.last())).toMatch(/\.\.\. and \d+ more: \d+ changed/);
  });

  it('q asks the runner to stop, once', async () => {
    const { tui, stdin, stdout, onAbort } = start();
    tui.emit(ev.runStart(['a']));
    await tui.ready;
    await settle();
    expect(stdin.rawMode).toBe(true);
    stdin.write('q');
    stdin.write('q');
    await settle();
    expect(onAbort).toHaveBeenCalledTimes(1);
    expect(plain(stdout.last())).toContain('stopping: waiting for in-flight tasks...');
    await tui.close();
    // The terminal is handed back in cooked mode.
    expect(stdin.rawMode).toBe(false);
  });

  it('without a TTY on stdin there are no keys: no hint line, no selection marker', async () => {
    const { tui, stdin, stdout, onAbort } = start({ stdinTTY: false });
    tui.emit(ev.runStart(['a', 'b']));
    await tui.ready;
    await settle();
    stdin.write('q');
    await settle();
    expect(onAbort).not.toHaveBeenCalled();
    const f = plain(stdout.last());
    expect(f).not.toContain('q stop');
    expect(f).not.toContain('›');
    expect(f).toMatch(/\n· a\s+waiting/);
  });

  it('never prints a registered secret', async () => {
    addSecret('s3cr3t-token-value');
    const { tui, stdout } = start();
    tui.emit(ev.runStart(['a']));
    tui.emit(
      ev.taskEnd('a', 'join', 'failed', 1, {
        msg: 'curl -H "Authorization: s3cr3t-token-value" failed',
        stderr: 'bad token s3cr3t-token-value\n',
      }),
    );
    await tui.ready;
    await settle();
    const all = stdout.frames.join('');
    expect(all).not.toContain('s3cr3t-token-value');
    expect(plain(stdout.last())).toContain('│ bad token ********');
  });

  it('renders in place (not debug) and still leaves the recap on screen after close', async () => {
    const { tui, stdout } = start({ debug: false, patchConsole: false, throttleMs: 20 });
    tui.emit(ev.runStart(['a']));
    tui.emit(ev.recap({ a: recapRow({ ok: 2 }) }, { exitCode: 0 }));
    await tui.close();
    const all = plain(stdout.frames.join(''));
    expect(all).toContain('PLAY RECAP 1 host');
    expect(all).toMatch(/\na\s+2\s+0\s+0\s+0\s+0\s+1\.0s/);
  });
});

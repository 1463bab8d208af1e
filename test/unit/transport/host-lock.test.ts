// The host lock's script run by the local /bin/sh with util-linux flock on a temp file: the
// same script the ssh transport sends (lib/transport/host-lock.ts). The lab test
// (test/lab/faults-host-lock.test.ts) proves it between two real runs over SSH.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hostLockScript, lockHolderLine } from '../../../lib/transport/host-lock.ts';

let dir: string;
const running: ChildProcessWithoutNullStreams[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drv-lock-'));
});
afterEach(() => {
  for (const c of running.splice(0)) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Start the script; resolves with the child once a line with `until` appears. */
function start(wait: number, holder: string, connMark?: string): { child: ChildProcessWithoutNullStreams; lines: string[]; when: (word: string) => Promise<string> } {
  const child = spawn('/bin/sh', ['-c', hostLockScript(wait, holder, join(dir, 'drover.lock'), connMark)]);
  running.push(child);
  const lines: string[] = [];
  let buf = '';
  const waiters: Array<{ word: string; resolve: (l: string) => void }> = [];
  const check = () => {
    for (const w of [...waiters]) {
      const l = lines.find((x) => x.startsWith(`drover-lock:${w.word}`));
      if (l) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  };
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
    check();
  });
  return {
    child,
    lines,
    when: (word) =>
      new Promise((resolve, reject) => {
        waiters.push({ word, resolve });
        check();
        child.on('exit', () => setTimeout(() => reject(new Error(`exited without "${word}": ${lines.join(' | ')}`)), 20));
      }),
  };
}

describe('host lock script', () => {
  it('holds the lock while its input is open and writes the holder line', async () => {
    const a = start(0, 'run A');
    expect(await a.when('held')).toBe(`drover-lock:held ${join(dir, 'drover.lock')}`);
    expect(readFileSync(join(dir, 'drover.lock'), 'utf8')).toBe('run A\n');
  });

  it('a second script with wait 0 refuses at once, naming the holder', async () => {
    const a = start(0, 'run A');
    await a.when('held');
    const b = start(0, 'run B');
    expect(await b.when('busy')).toBe('drover-lock:busy run A');
    expect(await b.when('timeout')).toBe('drover-lock:timeout run A');
    expect(b.lines.some((l) => l.startsWith('drover-lock:held'))).toBe(false);
  });

  it('a waiting script gets the lock when the holder ends its input (the connection closes)', async () => {
    const a = start(0, 'run A');
    await a.when('held');
    const b = start(30, 'run B');
    await b.when('busy');
    a.child.stdin.end();
    expect(await b.when('held')).toMatch(/^drover-lock:held /);
    expect(readFileSync(join(dir, 'drover.lock'), 'utf8')).toBe('run B\n');
  });

  it('a holder killed with SIGKILL releases the lock (the kernel drops it with the process)', async () => {
    const a = start(0, 'run A');
    await a.when('held');
    const b = start(30, 'run B');
    await b.when('busy');
    a.child.kill('SIGKILL');
    expect(await b.when('held')).toMatch(/^drover-lock:held /);
  });

  it('after its connection is gone, keeps the lock until the commands marked with its DROVER_CONN have ended', async () => {
    const mark = `t${process.pid}${Date.now()}`;
    const a = start(0, 'run A', mark);
    await a.when('held');
    // A command of A's connection, still running on the host when the connection drops.
    const cmd = spawn('sleep', ['1'], { env: { ...process.env, DROVER_CONN: mark } });
    const cmdEnded = new Promise<void>((r) => cmd.on('exit', () => r()));
    const b = start(30, 'run B');
    await b.when('busy');
    a.child.stdin.end();
    await b.when('held');
    // B got the lock only once A's command had ended.
    expect(cmd.exitCode).not.toBeNull();
    await cmdEnded;
    expect(readFileSync(join(dir, 'drover.lock'), 'utf8')).toBe('run B\n');
  });

  it('describes the holder by pid, controller, user and start time', () => {
    expect(lockHolderLine(new Date('2026-01-02T03:04:05Z'))).toMatch(/^drover pid \d+( \(.+\))? on \S+ as \S+, since 2026-01-02T03:04:05.000Z$/);
  });
});

// The UI in its own process, as the runner starts it: events over IPC (redacted before they
// leave), console output forwarded, the final frame drawn before close() settles, and plain
// output if the UI process dies mid-run. The child's stdout is a pipe here so the test can read
// it (Ink in debug mode: whole frames); a real terminal is tested in test/lab/tui-tmux.test.ts.
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { getPriority } from 'node:os';
import { UI_NICENESS, type UiProcessStartOptions } from '../../../ui/remote/parent.ts';
import { startTestUi, stopTestUis } from './ui-process-harness.ts';
import { addSecret, clearSecrets } from '../../../lib/secrets/redact.ts';
import { cachedChildBundle, childBundle } from '../../../ui/remote/child-bundle.ts';
import { existsSync } from 'node:fs';
import { ev, recapRow } from './fixtures.ts';

afterEach(async () => {
  await stopTestUis();
  clearSecrets();
});

// Under tsx from the source by default; the bundle has a test of its own below.
const start = (over: Partial<UiProcessStartOptions> = {}) => startTestUi({ debug: true, execArgv: ['--import', 'tsx'], ...over });

describe('the UI process', () => {
  it('draws what the playbook process sends and exits after the final frame', async () => {
    const { ui, out, err } = await start();
    addSecret('hunter2-token');
    ui.emit(ev.runStart(['db1', 'db2']));
    ui.emit(ev.playStart('db', ['db1', 'db2']));
    ui.emit(ev.taskEnd('db1', 'set password', 'failed', 1, { msg: 'psql: auth failed for hunter2-token' }));
    await ui.ready;
    // It draws with the CPU the run leaves.
    expect(getPriority(ui.child.pid)).toBe(Math.min(19, getPriority() + UI_NICENESS));
    console.log('a line from the playbook with hunter2-token in it');
    ui.emit(ev.recap({ db1: recapRow({ failed: 1 }), db2: recapRow({ ok: 3 }) }, { exitCode: 2 }));
    await ui.close();
    expect(ui.child.exitCode).toBe(0);
    const text = out();
    expect(text).toContain('PLAY db');
    expect(text).toMatch(/failed\s+db1\s+base › set password/);
    expect(text).toContain('a line from the playbook with');
    expect(text).toContain('PLAY RECAP');
    expect(text + err()).not.toContain('hunter2-token');
    expect(err()).toBe('');
  }, 30_000);

  it('gives console back when closed', async () => {
    const log = console.log;
    const { ui } = await start();
    expect(console.log).not.toBe(log);
    await ui.close();
    expect(console.log).toBe(log);
  }, 30_000);

  it('goes on with plain output when the UI process dies mid-run', async () => {
    const fallback = new PassThrough();
    let plainOut = '';
    fallback.on('data', (d: Buffer) => (plainOut += d.toString()));
    const { ui } = await start({ fallbackOut: fallback });
    ui.emit(ev.runStart(['web1']));
    await ui.ready;
    const gone = new Promise((resolve) => ui.child.once('exit', resolve));
    ui.child.kill('SIGKILL');
    await gone;
    ui.emit(ev.taskEnd('web1', 'install nginx', 'changed', 1));
    ui.emit(ev.recap({ web1: recapRow({ changed: 1 }) }));
    await ui.close();
    expect(plainOut).toMatch(/terminal UI stopped/);
    expect(plainOut).toMatch(/changed: \[web1\]|web1.*changed/);
    expect(plainOut).toContain('PLAY RECAP');
  }, 30_000);

  it('starts from its prebuilt bundle under plain node, built once and reused', async () => {
    const entry = await childBundle();
    expect(entry).toMatch(/node_modules\/\.cache\/drover\/ui-child\/b-[^/]+\/child\.js$/);
    expect(existsSync(entry!)).toBe(true);
    // Unchanged inputs: the same build, no second one.
    expect(cachedChildBundle()).toBe(entry);
    expect(await childBundle()).toBe(entry);

    const { ui, out } = await start({ execArgv: undefined });
    expect(ui.child.spawnargs).toContain(entry);
    expect(ui.child.spawnargs.join(' ')).not.toContain('tsx');
    ui.emit(ev.runStart(['web1']));
    ui.emit(ev.taskEnd('web1', 'install nginx', 'changed', 1));
    ui.emit(ev.recap({ web1: recapRow({ changed: 1 }) }));
    await ui.close();
    expect(ui.child.exitCode).toBe(0);
    expect(out()).toMatch(/changed\s+web1\s+base › install nginx/);
    expect(out()).toContain('PLAY RECAP');
  }, 30_000);
});

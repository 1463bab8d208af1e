// What a person sees: App rendered with ink-testing-library, frames normalised (no colors,
// digits as #, spinner glyphs as *).
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../../ui/components/App.tsx';
import { createUiStore } from '../../../ui/store.ts';
import { initialState, type UiInput } from '../../../ui/state.ts';
import { ev, normalise, plain, recapRow } from './fixtures.ts';

const mounted: Array<{ unmount: () => void }> = [];
afterEach(() => {
  for (const m of mounted.splice(0)) m.unmount();
});

/** React commits store updates on a microtask: let them land. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function mount(opts: { verbose?: boolean; diff?: boolean; maxRows?: number } = {}) {
  const store = createUiStore({ throttleMs: 0, initial: initialState({ verbose: opts.verbose, diff: opts.diff }) });
  const onAbort = vi.fn();
  const r = render(<App store={store} onAbort={onAbort} tickMs={0} maxRows={opts.maxRows} inlineScrollback />);
  mounted.push(r);
  await settle();
  return {
    store,
    onAbort,
    r,
    async send(...inputs: UiInput[]) {
      for (const i of inputs) store.dispatch(i);
      await settle();
    },
    async keys(...ks: string[]) {
      for (const k of ks) {
        r.stdin.write(k);
        await settle();
      }
    },
    frame: () => normalise(r.lastFrame()),
    raw: () => plain(r.lastFrame()),
  };
}

const lines = (frame: string) => frame.split('\n');

describe('host rows', () => {
  it('shows every host state with its glyph, counts, elapsed time and task', async () => {
    const ui = await mount();
    await ui.send(
      ev.runStart(['wait1', 'conn1', 'run1', 'ok1', 'chg1', 'fail1', 'down1']),
      ev.playStart('k3s', ['wait1', 'conn1', 'run1', 'ok1', 'chg1', 'fail1', 'down1']),
      ev.hostState('conn1', 'connecting', 1),
      ev.hostState('run1', 'running', 1),
      ev.taskStart('run1', 'install k3s', 2, { role: 'k3s-master' }),
      ev.taskEnd('ok1', 'apt', 'ok', 2),
      ev.hostState('ok1', 'done', 3),
      ev.taskEnd('chg1', 'apt', 'changed', 2),
      ev.hostState('chg1', 'done', 3),
      ev.taskEnd('fail1', 'apt', 'failed', 2, { msg: 'apt-get exited 100' }),
      ev.hostState('fail1', 'failed', 3),
      ev.hostState('down1', 'unreachable', 3, 'ssh: connect ECONNREFUSED'),
    );
    const rows = lines(ui.frame());
    // Host rows start with the selection marker column and a glyph.
    const row = (name: string) => rows.find((l) => /^[ ›] \S /.test(l) && l.slice(4).startsWith(`${name.replace(/\d/g, '#')} `)) ?? `(no row for ${name})`;
    expect(rows).toContain('    host  state         ok  chg fail skip   time  task');
    expect(row('wait1')).toBe('› · wait# waiting        #    #    #    #');
    expect(row('conn1')).toBe('  * conn# connecting     #    #    #    #   #.#s');
    expect(row('run1')).toBe('  * run#  running        #    #    #    #   #.#s  k#s-master › install k#s');
    expect(row('ok1')).toBe('  ✓ ok#   ok             #    #    #    #   #.#s  done');
    expect(row('chg1')).toBe('  ● chg#  changed        #    #    #    #   #.#s  done');
    expect(row('fail1')).toBe('  ✗ fail# failed         #    #    #    #   #.#s  base › apt: apt-get exited ###');
    expect(row('down1')).toBe('  ! down# unreachable    #    #    #    #         ssh: connect ECONNREFUSED');
    // A host that dropped out says why above the rows, so it outlives the live table.
    expect(rows).toContain('unreachable down# ssh: connect ECONNREFUSED');
    // Exact numbers: counts land in their columns.
    // ok counts the changed result too, as in the recap.
    expect(ui.raw()).toMatch(/chg1\s+changed\s+1\s+1\s+0\s+0\s+2\.2s/);
    expect(ui.raw()).toMatch(/fail1\s+failed\s+0\s+0\s+1\s+0/);
    expect(ui.frame()).toContain('drover site.ts  play: k#s · #/# hosts done · forks ## · #.#s');
  });

  it('keeps rows in inventory order whatever finishes first', async () => {
    const ui = await mount();
    await ui.send(ev.runStart(['c', 'a', 'b']), ev.hostState('b', 'done', 1), ev.taskStart('a', 'x', 2), ev.hostState('c', 'failed', 3));
    const names = lines(ui.frame())
      .map((l) => /^[ ›] \S (\w)\s/.exec(l)?.[1])
      .filter(Boolean);
    expect(names).toEqual(['c', 'a', 'b']);
  });
});

describe('scroll-back lines', () => {
  it('prints a failure with its stderr indented under it', async () => {
    const ui = await mount();
    await ui.send(
      ev.runStart(['db1']),
      ev.taskStart('db1', 'install postgres', 1, { role: 'postgres' }),
      ev.taskEnd('db1', 'install postgres', 'failed', 2, {
        role: 'postgres',
        msg: 'command failed',
        rc: 100,
        stderr: 'E: Unable to locate package postgresql-17\nE: giving up\n',
      }),
    );
    const f = ui.frame();
    expect(f).toContain('failed      db#  postgres › install postgres  #.#s  (rc=###)  command failed\n    │ E: Unable to locate package postgresql-##\n    │ E: giving up');
  });

  it('shows a failure without stderr with its stdout, and keeps only the tail of long output', async () => {
    const ui = await mount();
    const long = Array.from({ length: 30 }, (_, i) => `out line ${i}`).join('\n');
    await ui.send(ev.runStart(['a']), ev.taskEnd('a', 'check', 'failed', 1, { stdout: long }));
    const f = ui.raw();
    expect(f).toContain('    │ ... 10 earlier lines\n    │ out line 10');
    expect(f).toContain('    │ out line 29');
    expect(f).not.toContain('out line 9\n');
  });

  it('prints handler runs, and ok lines only when verbose', async () => {
    const ui = await mount();
    await ui.send(
      ev.runStart(['m1']),
      ev.playStart('k3s', ['m1']),
      ev.taskEnd('m1', 'write config', 'changed', 1, { role: 'k3s-master' }),
      ev.taskEnd('m1', 'check version', 'ok', 1, { role: 'k3s-master' }),
      ev.notify('m1', 'restart k3s', 'write config', 1),
      ev.taskStart('m1', 'restart k3s', 2, { role: 'k3s-master', handler: true }),
    );
    expect(ui.frame()).toContain('› * m#   running        #    #    #    #   #.#s  k#s-master › handler: restart k#s');
    await ui.send(ev.taskEnd('m1', 'restart k3s', 'changed', 3, { role: 'k3s-master', handler: true }));
    const f = ui.frame();
    expect(f).toContain('PLAY k#s  # host · linear');
    expect(f).toContain('changed     m#   k#s-master › write config  #.#s');
    expect(f).toContain('changed     m#   k#s-master › handler: restart k#s  #.#s');
    expect(f).not.toContain('check version');
  });

  it('shows diffs of changed tasks under --diff, as +/- lines', async () => {
    const diff = [{ path: '/etc/haproxy/haproxy.cfg', before: 'global\n  maxconn 100\nfrontend k8s\n', after: 'global\n  maxconn 4000\nfrontend k8s\n' }];
    const withDiff = await mount({ diff: true });
    await withDiff.send(ev.runStart(['lb1']), ev.taskEnd('lb1', 'haproxy.cfg', 'changed', 1, { role: 'haproxy', diff }));
    expect(withDiff.raw()).toContain(
      [
        'changed     lb1  haproxy › haproxy.cfg  1.2s',
        '    --- /etc/haproxy/haproxy.cfg (before)',
        '    +++ /etc/haproxy/haproxy.cfg (after)',
        '      global',
        '    -   maxconn 100',
        '    +   maxconn 4000',
        '      frontend k8s',
      ].join('\n'),
    );
    const without = await mount({ diff: false });
    await without.send(ev.runStart(['lb1']), ev.taskEnd('lb1', 'haproxy.cfg', 'changed', 1, { role: 'haproxy', diff }));
    expect(without.raw()).toContain('changed     lb1  haproxy › haproxy.cfg');
    expect(without.raw()).not.toContain('maxconn');
  });

  it('prints warnings from the run', async () => {
    const ui = await mount();
    await ui.send(ev.runStart(['a']), ev.log('warn', 'host key changed', 'a'));
    expect(ui.raw()).toContain('warn        a    host key changed');
  });
});

describe('recap', () => {
  it('replaces the live rows with per-host counts, durations and the slowest tasks', async () => {
    const ui = await mount();
    const events: UiInput[] = [ev.runStart(['lb1', 'm1', 'w1'])];
    [
      ['m1', 'install k3s', 42_000],
      ['m1', 'wait for node Ready', 30_500],
      ['w1', 'join cluster', 12_000],
      ['lb1', 'apt install haproxy', 8_000],
      ['lb1', 'template cfg', 300],
      ['w1', 'sysctl', 100],
    ].forEach(([h, t, d]) => events.push(ev.taskEnd(h as string, t as string, 'changed', 1, { durationMs: d as number })));
    events.push(
      ev.recap(
        {
          lb1: recapRow({ ok: 10, changed: 2, durationMs: 9_100 }),
          m1: recapRow({ ok: 20, changed: 5, skipped: 3, durationMs: 75_000 }),
          w1: recapRow({ ok: 4, failed: 1, durationMs: 13_000 }),
        },
        { exitCode: 2, durationMs: 76_000 },
      ),
    );
    await ui.send(...events);
    const f = ui.raw();
    expect(f).toContain(
      [
        'PLAY RECAP 3 hosts · 1m16s · exit 2',
        'host  ok  changed  failed  unreachable  skipped  time',
        'lb1   10        2       0            0        0  9.1s',
        'm1    20        5       0            0        3  1m15s',
        'w1     4        0       1            0        0  13s',
        '1 host failed or unreachable',
        '',
        'slowest 5 tasks',
        '      42s  m1    base › install k3s',
        '      30s  m1    base › wait for node Ready',
        '      12s  w1    base › join cluster',
        '     8.0s  lb1   base › apt install haproxy',
        '    300ms  lb1   base › template cfg',
      ].join('\n'),
    );
    // The live table is gone once the recap is printed.
    expect(f).not.toContain('hosts done');
    expect(f).not.toContain('q stop');
  });

  it('says the run was aborted and how many tasks each host did not run', async () => {
    const ui = await mount();
    await ui.send(
      ev.runStart(['a', 'b']),
      ev.recap({ a: recapRow({ ok: 3, aborted: 4 }), b: recapRow({ ok: 7 }) }, { aborted: true, exitCode: 130 }),
    );
    const f = ui.raw();
    expect(f).toContain('aborted: stopped on request, 4 tasks not run');
    expect(f).toContain('host  ok  changed  failed  unreachable  skipped  aborted  time');
    expect(f).toMatch(/\na\s+3\s+0\s+0\s+0\s+0\s+4\s+1\.0s/);
    expect(f).toMatch(/\nb\s+7\s+0\s+0\s+0\s+0\s+0\s+1\.0s/);
  });
});

describe('height cap', () => {
  const hosts = Array.from({ length: 100 }, (_, i) => `node${i + 1}`);

  it('shows at most maxRows lines of hosts with "... and N more" for the rest', async () => {
    const ui = await mount({ maxRows: 10 });
    const events: UiInput[] = [ev.runStart(hosts)];
    hosts.slice(0, 30).forEach((h) => events.push(ev.hostState(h, 'done', 2)));
    hosts.slice(30, 40).forEach((h) => events.push(ev.taskStart(h, 'apt', 3)));
    await ui.send(...events);
    const rows = lines(ui.frame());
    const hostRows = rows.filter((l) => /^[ ›] \S node/.test(l));
    expect(hostRows).toHaveLength(9);
    // The selected host, then the running ones: all in inventory order.
    expect(hostRows.map((l) => l.split(/\s+/)[2])).toEqual(['node#', 'node##', 'node##', 'node##', 'node##', 'node##', 'node##', 'node##', 'node##']);
    expect(ui.raw()).toContain('... and 91 more: 29 ok, 2 running, 60 waiting');
  });

  it('defaults to the terminal height (24 rows when unknown), never below 5', async () => {
    const ui = await mount();
    await ui.send(ev.runStart(hosts));
    const hostRows = lines(ui.frame()).filter((l) => /^[ ›] \S node/.test(l));
    expect(hostRows).toHaveLength(19);
    expect(ui.raw()).toContain('... and 81 more: 81 waiting');
  });
});

describe('keyboard', () => {
  it('q calls onAbort once and shows that it is stopping; Ctrl-C then asks again (stop now)', async () => {
    const ui = await mount();
    await ui.send(ev.runStart(['a']), ev.taskStart('a', 'x', 1));
    await ui.keys('q', 'q');
    expect(ui.onAbort).toHaveBeenCalledTimes(1);
    expect(ui.frame()).toContain('stopping: waiting for in-flight tasks... (Ctrl-C again to stop now)');
    ui.r.stdin.write('\u0003');
    await settle();
    expect(ui.onAbort).toHaveBeenCalledTimes(2);
  });

  it('Ctrl-C does the same as q, and a second Ctrl-C asks again', async () => {
    const ui = await mount();
    await ui.send(ev.runStart(['a']));
    await ui.keys('\u0003');
    expect(ui.onAbort).toHaveBeenCalledTimes(1);
    expect(ui.frame()).toContain('stopping: waiting for in-flight tasks...');
    await ui.keys('\u0003');
    expect(ui.onAbort).toHaveBeenCalledTimes(2);
  });

  it('arrows and j/k move the selection; v toggles verbose for the selected host', async () => {
    const ui = await mount();
    await ui.send(ev.runStart(['a', 'b', 'c']), ev.taskEnd('b', 'probe', 'ok', 1, { stderr: 'note: cgroup v1' }));
    expect(ui.frame()).toContain('v verbose a (off)');
    await ui.keys('\u001B[B', 'j', 'k');
    expect(ui.frame()).toContain('v verbose b (off)');
    expect(lines(ui.frame()).find((l) => l.startsWith('›'))).toMatch(/^› \* b /);
    await ui.keys('\u001B[A');
    expect(ui.frame()).toContain('v verbose a (off)');
    await ui.keys('j', 'v');
    let f = ui.frame();
    expect(f).toContain('v verbose b (on)');
    // The verbose panel: last tasks and last stderr of the selected host.
    expect(f).toContain('  b (verbose)\n    ok         base › probe  #.#s\n    last stderr:\n      │ note: cgroup v#');
    // From now on b's ok lines scroll by; a's do not.
    await ui.send(ev.taskEnd('b', 'second', 'ok', 2), ev.taskEnd('a', 'quiet', 'ok', 2));
    f = ui.frame();
    expect(f).toContain('ok          b    base › second  #.#s');
    expect(f).not.toContain('ok          a    base › quiet');
    await ui.keys('v');
    f = ui.frame();
    expect(f).toContain('v verbose b (off)');
    expect(f).not.toContain('(verbose)');
    await ui.send(ev.taskEnd('b', 'third', 'ok', 3));
    expect(ui.frame()).not.toContain('ok          b    base › third');
    expect(ui.onAbort).not.toHaveBeenCalled();
  });
});

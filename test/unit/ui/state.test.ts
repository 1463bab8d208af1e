import { describe, expect, it } from 'vitest';
import { hostElapsed, hostWindow, initialState, reduce, type UiInput, type UiState } from '../../../ui/state.ts';
import { ev, recapRow, T0 } from './fixtures.ts';

function fold(inputs: UiInput[], start: UiState = initialState()): UiState {
  return inputs.reduce(reduce, start);
}

/** Freeze deeply so a reducer that mutates its input throws. */
function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

describe('ui reducer: hosts', () => {
  it('lists run_start hosts in inventory order as waiting, and adds later ones after them', () => {
    const s = fold([ev.runStart(['lb1', 'm1', 'm2']), ev.playStart('k3s', ['m2', 'w1', 'm1'])]);
    expect(s.order).toEqual(['lb1', 'm1', 'm2', 'w1']);
    expect(Object.values(s.hosts).map((h) => h.phase)).toEqual(['waiting', 'waiting', 'waiting', 'waiting']);
    expect(s.playbook).toBe('site.ts');
    expect(s.play).toBe('k3s');
    expect(s.forks).toBe(10);
  });

  it('follows host_state through connecting, running and done (ok or changed)', () => {
    let s = fold([ev.runStart(['a', 'b']), ev.hostState('a', 'connecting', 1), ev.hostState('b', 'connecting', 1)]);
    expect(s.hosts.a?.phase).toBe('connecting');
    expect(s.hosts.a?.startedAt).toBe(T0 + 1000);
    s = fold([ev.hostState('a', 'running', 2), ev.taskStart('a', 'apt', 2), ev.taskEnd('a', 'apt', 'changed', 3)], s);
    s = fold([ev.hostState('b', 'running', 2), ev.taskStart('b', 'apt', 2), ev.taskEnd('b', 'apt', 'ok', 3)], s);
    expect(s.hosts.a?.phase).toBe('running');
    s = fold([ev.hostState('a', 'done', 4), ev.hostState('b', 'done', 5)], s);
    expect(s.hosts.a?.phase).toBe('changed');
    expect(s.hosts.b?.phase).toBe('ok');
    // Connected at 1 s, done at 4 s: the row's elapsed time.
    expect(hostElapsed(s, s.hosts.a!)).toBe(3000);
    expect(hostElapsed(s, s.hosts.b!)).toBe(4000);
  });

  it('marks failed and unreachable hosts with their message', () => {
    const s = fold([
      ev.runStart(['a', 'b']),
      ev.hostState('a', 'unreachable', 1, 'connect ECONNREFUSED 10.0.0.5:22'),
      ev.taskStart('b', 'apt', 1),
      ev.taskEnd('b', 'apt', 'failed', 2, { stderr: 'E: no space left\n', msg: 'apt-get failed' }),
      ev.hostState('b', 'failed', 2),
    ]);
    expect(s.hosts.a).toMatchObject({ phase: 'unreachable', msg: 'connect ECONNREFUSED 10.0.0.5:22', endedAt: T0 + 1000 });
    expect(s.hosts.b).toMatchObject({ phase: 'failed', lastStderr: 'E: no space left\n' });
    expect(s.hosts.b?.counts).toEqual({ ok: 0, changed: 0, failed: 1, skipped: 0, unreachable: 0 });
    // The reason an unreachable host dropped out is printed; the failed task already was.
    expect(s.staticItems.map((i) => (i.kind === 'host' ? `${i.state}:${i.host}:${i.msg}` : i.kind))).toEqual([
      'unreachable:a:connect ECONNREFUSED 10.0.0.5:22',
      'task',
    ]);
  });

  it('a task reported unreachable makes its host unreachable', () => {
    const s = fold([ev.runStart(['a']), ev.taskStart('a', 'x', 1), ev.taskEnd('a', 'x', 'unreachable', 2)]);
    expect(s.hosts.a?.phase).toBe('unreachable');
    expect(s.hosts.a?.counts.unreachable).toBe(1);
  });

  it('tracks the current role and task, and counts every status', () => {
    let s = fold([ev.runStart(['a']), ev.taskStart('a', 'install k3s', 1, { role: 'k3s-master' })]);
    expect(s.hosts.a).toMatchObject({ phase: 'running', role: 'k3s-master', task: 'install k3s', inTask: true, startedAt: T0 + 1000 });
    s = fold(
      [
        ev.taskEnd('a', 'install k3s', 'changed', 2, { role: 'k3s-master' }),
        ev.taskEnd('a', 'b', 'ok', 3),
        ev.taskEnd('a', 'c', 'ok', 3, { stderr: 'warning: x' }),
        ev.taskEnd('a', 'd', 'skipped', 3, { stderr: '' }),
        ev.taskEnd('a', 'e', 'failed', 4),
      ],
      s,
    );
    // A changed result counts as ok too (as in the recap).
    expect(s.hosts.a?.counts).toEqual({ ok: 3, changed: 1, failed: 1, skipped: 1, unreachable: 0 });
    expect(s.hosts.a?.inTask).toBe(false);
    // The last stderr that said anything is kept.
    expect(s.hosts.a?.lastStderr).toBe('warning: x');
    expect(s.hosts.a?.recent.map((r) => r.task)).toEqual(['install k3s', 'b', 'c', 'd', 'e']);
  });

  it('keeps a failed host failed while its notified handlers run', () => {
    const s = fold([
      ev.runStart(['a']),
      ev.taskEnd('a', 'x', 'failed', 1),
      ev.hostState('a', 'failed', 1),
      ev.taskStart('a', 'restart k3s', 2, { handler: true }),
    ]);
    expect(s.hosts.a).toMatchObject({ phase: 'failed', task: 'restart k3s', handler: true, inTask: true });
  });

  it('tracks pending handlers from notify until the handler runs', () => {
    let s = fold([ev.runStart(['a']), ev.notify('a', 'restart k3s', 'write config', 1), ev.notify('a', 'restart k3s', 'write env', 1)]);
    expect(s.hosts.a?.pendingHandlers).toEqual(['restart k3s']);
    s = fold([ev.taskEnd('a', 'restart k3s', 'changed', 2, { handler: true })], s);
    expect(s.hosts.a?.pendingHandlers).toEqual([]);
  });

  it('never mutates the state it was given', () => {
    const s0 = deepFreeze(fold([ev.runStart(['a', 'b']), ev.taskStart('a', 'x', 1)]));
    expect(() =>
      fold([ev.taskEnd('a', 'x', 'changed', 2), ev.hostState('a', 'done', 2), ev.notify('b', 'h', 'x'), { type: 'ui:select', delta: 1 }, { type: 'ui:toggleVerbose' }], s0),
    ).not.toThrow();
    expect(s0.hosts.a?.counts.changed).toBe(0);
  });
});

describe('ui reducer: what scrolls by', () => {
  const kinds = (s: UiState) =>
    s.staticItems.map((i) => (i.kind === 'task' ? `${i.result.status}:${i.result.host}:${i.result.task}${i.showDiff ? '+diff' : ''}` : i.kind));

  it('prints changed, failed and handler lines, and ok/skipped ones only when verbose', () => {
    const events = [
      ev.runStart(['a']),
      ev.playStart('site', ['a']),
      ev.taskEnd('a', 'ok task', 'ok', 1),
      ev.taskEnd('a', 'skip task', 'skipped', 1),
      ev.taskEnd('a', 'chg task', 'changed', 1),
      ev.taskEnd('a', 'bad task', 'failed', 1),
      ev.taskEnd('a', 'restart', 'ok', 2, { handler: true }),
    ];
    expect(kinds(fold(events))).toEqual(['play', 'changed:a:chg task', 'failed:a:bad task', 'ok:a:restart']);
    expect(kinds(fold(events, initialState({ verbose: true })))).toEqual([
      'play',
      'ok:a:ok task',
      'skipped:a:skip task',
      'changed:a:chg task',
      'failed:a:bad task',
      'ok:a:restart',
    ]);
  });

  it('v toggles verbose for the selected host only', () => {
    let s = fold([ev.runStart(['a', 'b']), { type: 'ui:select', delta: 1 }, { type: 'ui:toggleVerbose' }]);
    expect(s.verboseOverride).toEqual({ b: true });
    s = fold([ev.taskEnd('a', 'x', 'ok', 1), ev.taskEnd('b', 'y', 'ok', 1), ev.notify('b', 'h', 'y')], s);
    expect(kinds(s)).toEqual(['ok:b:y', 'notify']);
    s = fold([{ type: 'ui:toggleVerbose' }, ev.taskEnd('b', 'z', 'ok', 2)], s);
    expect(s.verboseOverride).toEqual({ b: false });
    expect(kinds(s)).toEqual(['ok:b:y', 'notify']);
    // Under --verbose, v turns a host quiet.
    const q = fold([ev.runStart(['a']), { type: 'ui:toggleVerbose' }, ev.taskEnd('a', 'x', 'ok', 1)], initialState({ verbose: true }));
    expect(kinds(q)).toEqual([]);
  });

  it('attaches diffs to changed lines only under --diff', () => {
    const diff = [{ path: '/etc/hosts', before: 'a\n', after: 'b\n' }];
    const events = [ev.runStart(['a']), ev.taskEnd('a', 'hosts', 'changed', 1, { diff }), ev.taskEnd('a', 'nodiff', 'changed', 1)];
    expect(kinds(fold(events))).toEqual(['changed:a:hosts', 'changed:a:nodiff']);
    expect(kinds(fold(events, initialState({ diff: true })))).toEqual(['changed:a:hosts+diff', 'changed:a:nodiff']);
    // run_start's diff flag turns it on too.
    expect(kinds(fold([ev.runStart(['a'], { diff: true }), ...events.slice(1)]))).toEqual(['changed:a:hosts+diff', 'changed:a:nodiff']);
  });

  it('prints warnings and errors always, info only when verbose', () => {
    const events = [ev.runStart(['a']), ev.log('warn', 'slow dns'), ev.log('info', 'hello', 'a'), ev.log('error', 'boom', 'a'), ev.log('debug', 'noise')];
    expect(fold(events).staticItems.map((i) => (i.kind === 'log' ? i.msg : i.kind))).toEqual(['slow dns', 'boom']);
    expect(fold(events, initialState({ verbose: true })).staticItems.map((i) => (i.kind === 'log' ? i.msg : i.kind))).toEqual([
      'slow dns',
      'hello',
      'boom',
      'noise',
    ]);
  });

  it('gives every static item a new id, in order', () => {
    const s = fold([ev.runStart(['a']), ev.playStart('p', ['a']), ev.taskEnd('a', 'x', 'changed', 1), ev.taskEnd('a', 'y', 'failed', 1)]);
    expect(s.staticItems.map((i) => i.id)).toEqual([1, 2, 3]);
  });

  it('keeps the five slowest non-skipped tasks, slowest first, and hands them to the recap', () => {
    const ms = [300, 9000, 100, 5000, 7000, 200, 8000, 50];
    let s = fold([ev.runStart(['a'])]);
    s = fold(
      ms.map((d, i) => ev.taskEnd('a', `t${i}`, 'ok', 1, { durationMs: d })),
      s,
    );
    s = fold([ev.taskEnd('a', 'skipped long', 'skipped', 1, { durationMs: 99_000 })], s);
    expect(s.slowest.map((t) => [t.task, t.durationMs])).toEqual([
      ['t1', 9000],
      ['t6', 8000],
      ['t4', 7000],
      ['t3', 5000],
      ['t0', 300],
    ]);
    s = fold([ev.recap({ a: recapRow({ ok: 8 }), z: recapRow() })], s);
    const last = s.staticItems[s.staticItems.length - 1];
    expect(last?.kind).toBe('recap');
    if (last?.kind !== 'recap') return;
    expect(last.order).toEqual(['a', 'z']);
    expect(last.slowest).toHaveLength(5);
    expect(s.recap?.hosts.a?.ok).toBe(8);
  });
});

describe('ui reducer: keys and clock', () => {
  it('moves the selection within the host list', () => {
    let s = fold([ev.runStart(['a', 'b', 'c'])]);
    expect(s.selected).toBe(0);
    s = fold([{ type: 'ui:select', delta: -1 }], s);
    expect(s.selected).toBe(0);
    s = fold([{ type: 'ui:select', delta: 1 }, { type: 'ui:select', delta: 1 }, { type: 'ui:select', delta: 1 }], s);
    expect(s.selected).toBe(2);
  });

  it('abort is recorded once; a second one returns the same state', () => {
    const s = fold([ev.runStart(['a']), { type: 'ui:abort' }]);
    expect(s.aborting).toBe(true);
    expect(reduce(s, { type: 'ui:abort' })).toBe(s);
  });

  it('the clock only moves forward, with ticks and event timestamps', () => {
    let s = fold([ev.runStart(['a']), ev.taskStart('a', 'x', 5)]);
    expect(s.now).toBe(T0 + 5000);
    s = reduce(s, { type: 'ui:tick', now: T0 + 9000 });
    expect(hostElapsed(s, s.hosts.a!)).toBe(4000);
    expect(reduce(s, { type: 'ui:tick', now: T0 })).toBe(s);
  });
});

describe('hostWindow: the height cap', () => {
  const names = Array.from({ length: 100 }, (_, i) => `node${String(i).padStart(3, '0')}`);

  it('shows every host when they fit', () => {
    const s = fold([ev.runStart(names.slice(0, 5))]);
    const w = hostWindow(s, 5);
    expect(w.rows).toHaveLength(5);
    expect(w.hiddenCount).toBe(0);
  });

  it('keeps running and failed hosts in view, in inventory order, and summarises the rest', () => {
    const events: UiInput[] = [ev.runStart(names)];
    names.slice(0, 60).forEach((n, i) => events.push(ev.hostState(n, 'done', 1 + (i % 3))));
    [70, 75, 90].forEach((i) => events.push(ev.taskStart(names[i]!, 'apt', 2)));
    events.push(ev.hostState(names[80]!, 'failed', 3));
    const s = fold(events);
    const w = hostWindow(s, 10);
    expect(w.rows).toHaveLength(9);
    expect(w.hiddenCount).toBe(91);
    // Selected (node000), the 3 running and the failed one, then node001-004 by order:
    // 5 of the 60 ok hosts are shown, none of the 36 waiting ones.
    const shown = w.rows.map((h) => h.name);
    expect(shown).toEqual([...shown].sort());
    expect(shown).toEqual(expect.arrayContaining(['node000', 'node070', 'node075', 'node090', 'node080']));
    expect(w.hidden).toEqual([
      { phase: 'ok', count: 55 },
      { phase: 'waiting', count: 36 },
    ]);
  });

  it('does not reorder rows when a hidden host starts running', () => {
    const s1 = fold([ev.runStart(names.slice(0, 20)), ev.taskStart('node005', 'x', 1)]);
    const s2 = fold([ev.taskStart('node015', 'x', 2)], s1);
    const before = hostWindow(s1, 6).rows.map((h) => h.name);
    const after = hostWindow(s2, 6).rows.map((h) => h.name);
    expect(before).toEqual(['node000', 'node001', 'node002', 'node003', 'node005']);
    expect(after).toEqual(['node000', 'node001', 'node002', 'node005', 'node015']);
  });
});

// The scroll-back as a real terminal gets it (Ink not in debug mode): finished lines are
// written once, above the live area, which is re-printed under them; the recap comes last.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestUi, stopTestUis } from './ui-process-harness.ts';
import { scrollbackLines } from '../../../ui/scrollback.ts';
import { ev, plain, recapRow } from './fixtures.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const count = (hay: string, needle: string) => hay.split(needle).length - 1;

afterEach(stopTestUis);

describe('scroll-back written above the live area', () => {
  // In the UI process, as the runner starts it, with CI unset: Ink in CI mode draws no live
  // frames at all (only the last one, at exit), so in-process under CI=true there would be no
  // live area to find under the lines.
  it('writes each finished line once, keeps the live rows under it, ends with the recap', async () => {
    const env = { ...process.env };
    delete env.CI;
    const { ui, out } = await startTestUi({ patchConsole: false, env });
    await ui.ready;
    ui.emit(ev.runStart(['web1', 'web2']));
    ui.emit(ev.playStart('site', ['web1', 'web2']));
    ui.emit(ev.taskStart('web1', 'install nginx', 1));
    ui.emit(ev.taskEnd('web1', 'install nginx', 'changed', 2));
    ui.emit(ev.taskEnd('web2', 'install nginx', 'failed', 2, { msg: 'apt-get exited 100', stderr: 'E: Unable to locate package nginx' }));
    ui.emit(ev.hostState('web2', 'failed', 2));
    // Ink draws at most 30 frames a second: wait for its trailing frame (a busy machine may take longer).
    const drawnUnder = () => {
      const t = out();
      return t.lastIndexOf('web2 ') > t.indexOf('E: Unable to locate package nginx') && /web2\s+failed/.test(t);
    };
    for (let waited = 0; !drawnUnder() && waited < 20_000; waited += 50) await sleep(50);
    const during = out();
    expect(count(during, 'PLAY site')).toBe(1);
    expect(during).toMatch(/changed\s+web1\s+base › install nginx/);
    expect(during).toContain('E: Unable to locate package nginx');
    // The live area was drawn after the lines (Ink re-prints its last frame under a write).
    expect(during.lastIndexOf('web2 ')).toBeGreaterThan(during.indexOf('E: Unable to locate package nginx'));
    expect(during).toMatch(/web2\s+failed/);

    ui.emit(ev.recap({ web1: recapRow({ changed: 1 }), web2: recapRow({ failed: 1 }) }, { exitCode: 2 }));
    await ui.close();
    const all = out();
    expect(count(all, 'PLAY site')).toBe(1);
    expect(count(all, 'E: Unable to locate package nginx')).toBe(1);
    expect(all).toContain('PLAY RECAP');
    // The recap replaces the live area: no host row is drawn after it.
    expect(all.slice(all.lastIndexOf('PLAY RECAP'))).not.toMatch(/web2\s+failed\s+\d/);
  }, 60_000);

  it('formats items as lines, styled only when colours are wanted', () => {
    const items = [
      { kind: 'play', id: 1, play: 'site', hosts: 3, strategy: 'linear' },
      { kind: 'log', id: 2, level: 'warn', msg: 'disk almost full', host: 'db1' },
      { kind: 'notify', id: 3, host: 'lb1', handler: 'reload haproxy', by: 'haproxy config' },
    ] as const;
    const bare = scrollbackLines(items, 6, false);
    expect(bare).toEqual(['PLAY site  3 hosts · linear', 'warn        db1    disk almost full', 'notify      lb1    handler: reload haproxy (by haproxy config)']);
    const styled = scrollbackLines(items, 6, true);
    expect(styled[0]).toBe('\u001b[1m\u001b[36mPLAY site\u001b[39m\u001b[22m\u001b[2m  3 hosts · linear\u001b[22m');
    expect(styled.map(plain)).toEqual(bare);
  });
});

// The live UI as a person sees it: a real playbook (examples/slow.ts) on every lab host, run in
// a tmux pane (a real terminal, 120x40) with CI unset so the Ink UI is chosen, the pane
// captured during and after the run. A second run is stopped with q mid-way: in-flight tasks
// finish, nothing new starts, the recap says aborted and the process exits 130.
// Needs tmux and the lab; skipped with the reason printed when either is missing (under CI=true
// a missing prerequisite fails instead). DROVER_TUI_CAPTURES=<dir> keeps every capture.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_NETNS, readTopology } from '../../lab/index.ts';
import { quote, quoteArgs } from '../../lib/shell/quote.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const PLAYBOOK = 'examples/slow.ts';
const FAIL_HOST = 'worker2';
const COLS = 120;
const ROWS = 40;
const STATES = ['waiting', 'connecting', 'running', 'ok', 'changed', 'failed', 'unreachable'] as const;

const tmp = mkdtempSync(join(tmpdir(), 'drover-tui-tmux-'));
const socket = `drover-tui-test-${process.pid}`;
const keep = process.env.DROVER_TUI_CAPTURES;
let lab: Lab | undefined;
let hosts: string[] = [];

function tmuxMissing(): string | undefined {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'tmux is not installed';
  }
}

/** The environment of the tmux server and so of the pane: the test runner's own markers removed. */
function paneEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CI|NODE_ENV|TEST|VITEST.*)$/.test(k)) env[k] = v;
  return env;
}

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, '-f', join(tmp, 'tmux.conf'), ...args], { encoding: 'utf8', env: paneEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Start the playbook in a new detached pane; its exit code lands in `<name>.rc`. */
function startRun(name: string, extra: string[]): string {
  const rcFile = join(tmp, `${name}.rc`);
  const tsx = join(process.cwd(), 'node_modules/.bin/tsx');
  // env -u CI: a CI runner must still get the UI here, it is a terminal.
  const cmd = `ip netns exec ${LAB_NETNS} env -u CI -u NODE_ENV ${quoteArgs([tsx, PLAYBOOK, '-i', lab!.inventory, ...extra])}; echo $? > ${quote(rcFile)}`;
  tmux('new-session', '-d', '-s', name, '-x', String(COLS), '-y', String(ROWS), '-c', process.cwd(), cmd);
  return rcFile;
}

/** The visible pane (what is on screen now), or with history the whole scroll-back too. */
function capture(name: string, history = false): string {
  return tmux('capture-pane', '-p', '-t', name, ...(history ? ['-S', '-'] : []));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Row {
  host: string;
  state: (typeof STATES)[number];
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  activity: string;
}

const ROW = new RegExp(`^(?:› |  )?\\S (\\S+)\\s+(${STATES.join('|')})\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s*(?:\\d[\\w.]*)?\\s*(.*)$`);

/** The live host rows of a screen: the lines under the column titles. */
function liveRows(screen: string): Row[] | undefined {
  const lines = screen.split('\n');
  const head = lines.findIndex((l) => /^\s*host\s+state\s+ok\s+chg\s+fail\s+skip\s+time\s+task$/.test(l));
  if (head < 0) return undefined;
  const rows: Row[] = [];
  for (const line of lines.slice(head + 1)) {
    const m = ROW.exec(line);
    if (!m) break;
    rows.push({ host: m[1]!, state: m[2] as Row['state'], ok: +m[3]!, changed: +m[4]!, failed: +m[5]!, skipped: +m[6]!, activity: m[7]!.trim() });
  }
  return rows;
}

interface Watched {
  /** Screens captured while the run was going, oldest first. */
  during: string[];
  code: number;
  /** The whole pane history after the run. */
  after: string;
  /** The screen after the run (what is visible without scrolling). */
  last: string;
}

/** Capture the pane every ~250 ms until the process exits; `onScreen` may act (send keys). */
async function watch(name: string, rcFile: string, onScreen?: (screen: string) => void, timeoutMs = 120_000): Promise<Watched> {
  const during: string[] = [];
  const until = Date.now() + timeoutMs;
  while (!existsSync(rcFile) || !readFileSync(rcFile, 'utf8').endsWith('\n')) {
    if (Date.now() > until) throw new Error(`${name}: still running after ${timeoutMs} ms; screen:\n${capture(name)}`);
    const screen = capture(name);
    during.push(screen);
    onScreen?.(screen);
    await sleep(250);
  }
  const w = { during, code: Number(readFileSync(rcFile, 'utf8').trim()), after: capture(name, true), last: capture(name) };
  if (keep) {
    mkdirSync(keep, { recursive: true });
    w.during.forEach((s, i) => writeFileSync(join(keep, `${name}-during-${String(i).padStart(3, '0')}.txt`), s));
    writeFileSync(join(keep, `${name}-after.txt`), w.after);
    writeFileSync(join(keep, `${name}-last.txt`), w.last);
  }
  return w;
}

beforeAll(async () => {
  const noTmux = tmuxMissing();
  if (noTmux) {
    if (process.env.CI === 'true') throw new Error(`the tmux UI test is required in CI but cannot run: ${noTmux}`);
    console.warn(`[tui-tmux] skipping: ${noTmux}`);
    return;
  }
  lab = await useLab();
  if (!lab) {
    console.warn('[tui-tmux] lab not available here: skipping the terminal UI tests');
    return;
  }
  hosts = (await readTopology(lab.inventory)).hosts.map((h) => h.name);
  // remain-on-exit: the pane (and its last screen) outlives the playbook; /bin/sh runs the line.
  writeFileSync(join(tmp, 'tmux.conf'), 'set -g remain-on-exit on\nset -g history-limit 10000\nset -g default-shell /bin/sh\n');
});

afterAll(() => {
  try {
    if (existsSync(join(tmp, 'tmux.conf'))) tmux('kill-server');
  } catch {
    // the server was never started, or is gone already
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('the live UI in a real terminal (tmux)', () => {
  it('shows one row per host with its current task while running, then the recap with the failure and exit code', async (ctx) => {
    if (!lab) return ctx.skip();
    // A fresh start on every host, so every count is known.
    await Promise.all(hosts.map((h) => lab!.sh(h, 'rm -rf /var/tmp/drover-slow')));
    const rc = startRun('full', ['-e', `fail_host=${FAIL_HOST}`, '-e', 'slow_seconds=1']);
    const run = await watch('full', rc);

    // During: screens with the live table. Every host has exactly one row, in inventory order.
    const live = run.during.map((s) => ({ screen: s, rows: liveRows(s) })).filter((x): x is { screen: string; rows: Row[] } => x.rows !== undefined && x.rows.length > 0);
    expect(live.length, `no live table in ${run.during.length} captures; last:\n${run.during.at(-1)}`).toBeGreaterThan(3);
    for (const { screen, rows } of live) {
      expect(rows.map((r) => r.host), screen).toEqual(hosts);
      expect(screen).toMatch(/^drover slow {2}(play: slow · )?\d+\/12 hosts done · forks 10 · [\d.]+m?s$/m);
    }
    // A running host shows the task it is in (role › task), and counts move as tasks end.
    const inTask = live.find(({ rows }) => rows.some((r) => r.state === 'running' && r.activity === 'slow › slow work'));
    expect(inTask, 'no capture with a host running "slow › slow work"').toBeDefined();
    expect(inTask!.rows.some((r) => r.changed >= 1), inTask!.screen).toBe(true);
    // While the others still work, the failed host's row says failed, where and why.
    const failedWhileRunning = live.find(({ rows }) => {
      const f = rows.find((r) => r.host === FAIL_HOST);
      return f?.state === 'failed' && rows.some((r) => r.state === 'running');
    });
    expect(failedWhileRunning, 'no capture with the failed host next to running ones').toBeDefined();
    const failedRow = failedWhileRunning!.rows.find((r) => r.host === FAIL_HOST)!;
    expect(failedRow.failed).toBe(1);
    expect(failedRow.activity).toContain('slow › deliberate failure');

    // After: the exit code, the recap table with every host, the failed host's stderr.
    expect(run.code, run.after).toBe(2);
    expect(run.after).toMatch(/^PLAY RECAP 12 hosts · [\d.]+m?s · exit 2$/m);
    const recap = run.after.slice(run.after.lastIndexOf('PLAY RECAP'));
    expect(recap).toMatch(/^host\s+ok\s+changed\s+failed\s+unreachable\s+skipped\s+time$/m);
    for (const h of hosts) {
      // ok (changed included, as Ansible counts) changed failed unreachable skipped: facts, then
      // 3 changing tasks and the failure on the failed host; 5 changes and one skip elsewhere.
      const counts = h === FAIL_HOST ? String.raw`4\s+3\s+1\s+0\s+0` : String.raw`6\s+5\s+0\s+0\s+1`;
      expect(recap, `recap row of ${h}`).toMatch(new RegExp(`^${h}\\s+${counts}\\s+[\\d.]+m?s$`, 'm'));
    }
    expect(recap).toContain('1 host failed or unreachable');
    expect(run.after).toMatch(/^failed\s+worker2\s+slow › deliberate failure/m);
    expect(run.after).toContain(`│ slow.ts: deliberate failure on ${FAIL_HOST}`);
    // The live table is gone once the recap is drawn.
    expect(liveRows(run.last)).toBeUndefined();
    expect(run.last).toContain('PLAY RECAP 12 hosts');
  });

  it('q stops gracefully: in-flight tasks finish, nothing new starts, the recap says aborted, exit 130', async (ctx) => {
    if (!lab) return ctx.skip();
    const rc = startRun('quit', ['-e', 'slow_seconds=2']);
    let pressedOn: Row[] | undefined;
    let stopping: string | undefined;
    const run = await watch('quit', rc, (screen) => {
      const rows = liveRows(screen);
      if (!pressedOn) {
        // Mid-way: keys are live (the footer says so) and hosts are inside the 2-4 s sleep.
        const busy = rows?.filter((r) => r.state === 'running' && r.activity === 'slow › slow work') ?? [];
        if (busy.length > 0 && screen.includes('q stop')) {
          pressedOn = rows;
          tmux('send-keys', '-t', 'quit', 'q');
        }
      } else if (!stopping && screen.includes('stopping: waiting for in-flight tasks...')) stopping = screen;
    });
    expect(pressedOn, `never saw a host in "slow › slow work"; last:\n${run.during.at(-1)}`).toBeDefined();
    expect(run.code, run.after).toBe(130);
    expect(stopping, 'no "stopping" notice after q').toBeDefined();

    // Every task that was in flight when q was pressed finished and was reported.
    const inFlight = pressedOn!.filter((r) => r.state === 'running' && r.activity === 'slow › slow work').map((r) => r.host);
    for (const h of inFlight) expect(run.after, `${h}'s in-flight task`).toMatch(new RegExp(`^changed\\s+${h}\\s+slow › slow work\\s+[\\d.]+m?s\\s+ran: sleep \\d$`, 'm'));
    // Nothing after it started.
    expect(run.after).not.toMatch(/slow › (deliberate failure|more work|done marker)/);
    expect(run.after).toMatch(/^PLAY RECAP 12 hosts · [\d.]+m?s · exit 130$/m);
    expect(run.after).toMatch(/^aborted: stopped on request, \d+ tasks? not run$/m);
    const recap = run.after.slice(run.after.lastIndexOf('PLAY RECAP'));
    expect(recap).toMatch(/^host\s+ok\s+changed\s+failed\s+unreachable\s+skipped\s+aborted\s+time$/m);
    for (const h of hosts) expect(recap, `recap row of ${h}`).toMatch(new RegExp(`^${h}\\s+(\\d+\\s+){5}[1-9]\\d*\\s+[\\d.]+m?s$`, 'm'));
  });
});

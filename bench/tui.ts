// What the live terminal UI costs: one playbook over N hosts run with the Ink UI inside tmux
// (a real TTY: what a person sees) and with the plain reporter (stdout to a file: what
// CI/Terraform sees), alternating, several runs each; prints the medians and the ratios.
//
//   npx tsx bench/tui.ts [--hosts 100] [--runs 5] [--forks 10] [--transport local|lab]
//
// --transport local (default): N hosts with ansible_connection: local, real ops on this machine
// under a temp dir per host; every op is a child process of the engine, so its thread is busy
// all the time (the worst case for a UI on that thread). --transport lab: N host names spread
// over the booted lab's hosts (`npm run lab -- up`), reached over real SSH from the lab
// namespace, each in its own directory on its host: the engine mostly waits for the network.
//
// Wall time is taken by the shell around the playbook process (start to exit, node/tsx start
// included), so tmux polling is not counted; CPU time is the playbook process and what it ran
// (the shell's `times`), steadier than wall time on a shared machine. Each run gets a fresh
// directory, so every run does the same work (the same tasks change). The same file is the
// playbook when DROVER_BENCH_TUI_PLAYBOOK=1 (the driver sets it).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
// main() with the terminal UI wired in (lib/cli's alone has no UI): what this benchmark measures.
import { main } from '../cli/main.ts';
import { ops } from '../lib/ops/index.ts';
import { defineRole } from '../lib/run/types.ts';
import { quote, quoteArgs } from '../lib/shell/quote.ts';

const PLAYBOOK_ENV = 'DROVER_BENCH_TUI_PLAYBOOK';

// ---- the playbook: a realistic mix of ops, most of them changing something ----------------

const bench = defineRole({
  name: 'bench',
  vars: z.object({ bench_run: z.string() }),
  tasks: [
    { name: 'host directory', run: (c) => c.run(ops.directory(join(c.vars.bench_run, c.host), { mode: '0755' })) },
    {
      name: 'config file',
      run: (c) => c.run(ops.file(join(c.vars.bench_run, c.host, 'app.conf'), `# managed by drover\nname = ${c.host}\nport = 8080\nworkers = 4\n`, { mode: '0644' })),
    },
    { name: 'tune config', run: (c) => c.run(ops.lineInFile(join(c.vars.bench_run, c.host, 'app.conf'), { regexp: '^workers =', line: 'workers = 8' })) },
    {
      name: 'hosts block',
      run: (c) => c.run(ops.blockInFile(join(c.vars.bench_run, c.host, 'hosts'), 'bench', `10.0.0.1 ${c.host}\n10.0.0.2 peer`, { create: true, mode: '0644' })),
    },
    { name: 'current link', run: (c) => c.run(ops.link(join(c.vars.bench_run, c.host, 'app.conf'), join(c.vars.bench_run, c.host, 'current.conf'))) },
    {
      name: 'one-time init',
      run: (c) => {
        const marker = join(c.vars.bench_run, c.host, 'initialised');
        return c.run(ops.command(`date > ${quote(marker)}`, { creates: marker }));
      },
    },
    { name: 'read config', run: (c) => c.run(ops.command(`cat ${quote(join(c.vars.bench_run, c.host, 'app.conf'))}`, { readOnly: true })) },
    { name: 'data directory', run: (c) => c.run(ops.directory(join(c.vars.bench_run, c.host, 'data'), { mode: '0700' })) },
  ],
});

// ---- the driver -----------------------------------------------------------------------------

interface Sample {
  variant: 'tui' | 'plain';
  /** The UI process's own account (DROVER_UI_STATS): frames drawn and its CPU, start-up included. */
  ui?: { published: number; renders: number; renderMs: number; cpuMs: number };
  /** Wall time, process start to exit. */
  ms: number;
  /** CPU time (user + system) of the playbook process and the commands it ran. */
  cpuMs: number;
  rc: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The shell line that times the playbook into `result`: "rc nanoseconds", then the shell's
 * `times` (its second line: the children's user and system CPU). Renamed into place whole.
 */
function timedLine(command: string, result: string, redirect = ''): string {
  const tmp = quote(`${result}.tmp`);
  return `s=$(date +%s%N); ${command}${redirect}; rc=$?; e=$(date +%s%N); { echo "$rc $((e - s))"; times; } > ${tmp}; mv ${tmp} ${quote(result)}`;
}

async function waitForFile(path: string, timeoutMs: number): Promise<string> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (existsSync(path)) return readFileSync(path, 'utf8');
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${path}`);
}

/** "1m2.50s" (the `times` format) in ms. */
function timesMs(t: string): number {
  const m = /^(\d+)m([\d.]+)s$/.exec(t);
  if (!m) throw new Error(`bad times value "${t}"`);
  return (Number(m[1]) * 60 + Number(m[2])) * 1000;
}

function parseResult(text: string, variant: Sample['variant']): Sample {
  const lines = text.trim().split('\n');
  const [rc, ns] = (lines[0] ?? '').split(' ').map(Number);
  const [user, sys] = (lines[2] ?? '').trim().split(/\s+/);
  if (rc === undefined || ns === undefined || !Number.isFinite(ns) || !user || !sys) throw new Error(`bad result "${text.trim()}"`);
  return { variant, rc, ms: ns / 1e6, cpuMs: timesMs(user) + timesMs(sys) };
}

const secs = (ms: number) => (ms / 1000).toFixed(2);

interface Target {
  /** What the runs are, for the title. */
  what: string;
  /** Prefix of the playbook command (entering the lab namespace). */
  prefix: string;
  /** Where a run's files go (bench_run). */
  runDir(tag: string): string;
  cleanup(): Promise<void>;
}

/** Write the inventory of `names` for a transport. */
async function target(transport: string, names: string[], inventory: string, root: string): Promise<Target> {
  if (transport === 'local') {
    writeFileSync(inventory, `all:\n  vars:\n    ansible_connection: local\n  hosts:\n${names.map((n) => `    ${n}: {}\n`).join('')}`);
    return { what: 'local hosts (ansible_connection: local)', prefix: '', runDir: (tag) => join(root, tag), cleanup: async () => {} };
  }
  if (transport !== 'lab') throw new Error(`--transport is local or lab, not "${transport}"`);
  const lab = await import('../lab/index.ts');
  const why = lab.labPrereqs().why;
  if (why) throw new Error(`--transport lab needs the lab: ${why}`);
  const hosts = (await lab.readTopology('inventory/lab.yaml')).hosts;
  const down = (await Promise.all(hosts.map(async (h) => ((await lab.labSsh(h.name, 'true', { timeoutMs: 10_000 })).code === 0 ? undefined : h.name)))).filter(Boolean);
  if (down.length) throw new Error(`lab hosts not answering (boot them: npm run lab -- up): ${down.join(', ')}`);
  const conn = `    ansible_user: root\n    ansible_ssh_private_key_file: ${lab.CONTROLLER_KEY}\n    drover_known_hosts: ${lab.KNOWN_HOSTS}\n`;
  const rows = names.map((n, i) => `    ${n}: { ansible_host: ${hosts[i % hosts.length]!.address} }\n`);
  writeFileSync(inventory, `all:\n  vars:\n${conn}  hosts:\n${rows.join('')}`);
  const dir = '/var/tmp/drover-bench-tui';
  return {
    what: `host names over SSH, spread over the ${hosts.length} lab hosts`,
    prefix: `ip netns exec ${lab.LAB_NETNS} `,
    runDir: (tag) => `${dir}/${tag}`,
    cleanup: async () => {
      await Promise.all(hosts.map((h) => lab.labSsh(h.name, `rm -rf ${dir}`)));
    },
  };
}

async function runBench(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      hosts: { type: 'string', default: '100' },
      runs: { type: 'string', default: '5' },
      forks: { type: 'string', default: '10' },
      transport: { type: 'string', default: 'local' },
    },
    strict: true,
  });
  const hosts = Number(values.hosts);
  const runs = Number(values.runs);
  const forks = Number(values.forks);
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error('tmux is needed (the UI variant runs in a tmux pane, a real terminal)');
  }

  const root = mkdtempSync(join(tmpdir(), 'drover-bench-tui-'));
  const socket = `drover-bench-tui-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const names = Array.from({ length: hosts }, (_, i) => `node${String(i + 1).padStart(3, '0')}`);
  const inventory = join(root, 'inventory.yaml');
  const t = await target(values.transport, names, inventory, root);
  const tsx = join(process.cwd(), 'node_modules/.bin/tsx');
  const self = new URL(import.meta.url).pathname;
  // Same environment for both: no CI (so a TTY gets the UI), no NODE_ENV (the UI picks production).
  const playbook = (runDir: string, uiStats = '/dev/null') =>
    `${t.prefix}env -u CI -u NODE_ENV ${PLAYBOOK_ENV}=1 DROVER_UI_STATS=${quote(uiStats)} ${quoteArgs([tsx, self, '-i', inventory, '--forks', String(forks), '-e', `bench_run=${runDir}`])}`;

  const samples: Sample[] = [];
  let tuiScreen = '';
  console.log(`bench/tui: ${hosts} ${t.what}, ${bench.tasks.length} tasks each + facts, forks ${forks}, ${runs} runs per variant, alternating`);
  console.log(`UI: Ink in a tmux pane (120x40, a real TTY); plain: stdout and stderr to a file. tmp: ${root}`);
  try {
    // One warm-up of each (file caches, tsx's transform cache), not counted.
    for (let i = -1; i < runs; i++) {
      const order: Sample['variant'][] = i % 2 === 0 ? ['tui', 'plain'] : ['plain', 'tui'];
      for (const variant of order) {
        const tag = `${variant}-${i < 0 ? 'warm' : i}`;
        const runDir = t.runDir(tag);
        const result = join(root, `${tag}.result`);
        let s: Sample;
        if (variant === 'plain') {
          const out = join(root, `${tag}.out`);
          execFileSync('/bin/sh', ['-c', timedLine(playbook(runDir), result, ` > ${quote(out)} 2>&1`)], { cwd: process.cwd(), stdio: 'ignore' });
          s = parseResult(readFileSync(result, 'utf8'), variant);
          const text = readFileSync(out, 'utf8');
          if (!text.includes('PLAY RECAP *')) throw new Error(`${tag}: the plain reporter was not used:\n${text.slice(-2000)}`);
          if (s.rc !== 0) throw new Error(`${tag}: exit ${s.rc}:\n${text.slice(-3000)}`);
        } else {
          // `sleep`: the pane stays until captured.
          const uiStats = join(root, `${tag}.ui.json`);
          tmux('new-session', '-d', '-s', tag, '-x', '120', '-y', '40', '-c', process.cwd(), `${timedLine(playbook(runDir, uiStats), result)}; sleep 60`);
          s = parseResult(await waitForFile(result, 600_000), variant);
          if (existsSync(uiStats)) s.ui = JSON.parse(readFileSync(uiStats, 'utf8')) as NonNullable<Sample['ui']>;
          // The whole pane history: the recap of 100 hosts is taller than the pane.
          tuiScreen = tmux('capture-pane', '-p', '-S', '-', '-t', tag);
          tmux('kill-session', '-t', tag);
          // The UI's recap ("PLAY RECAP 100 hosts · ...") and not the plain one ("PLAY RECAP ***").
          if (!/PLAY RECAP \d+ hosts/.test(tuiScreen)) throw new Error(`${tag}: no UI recap on the screen:\n${tuiScreen}`);
          if (s.rc !== 0) throw new Error(`${tag}: exit ${s.rc}:\n${tuiScreen}`);
        }
        if (i >= 0) samples.push(s);
        if (values.transport === 'local') rmSync(runDir, { recursive: true, force: true });
        const ui = s.ui ? `  (UI process: ${s.ui.renders} frames, ${secs(s.ui.renderMs)} s drawing them, ${secs(s.ui.cpuMs)} s cpu in all)` : '';
        console.log(`  ${tag.padEnd(10)} wall ${secs(s.ms).padStart(6)} s  cpu ${secs(s.cpuMs).padStart(6)} s${ui}`);
      }
    }
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // no server left: nothing to stop
    }
    await t.cleanup();
  }

  const of = (v: Sample['variant'], k: 'ms' | 'cpuMs') => samples.filter((s) => s.variant === v).map((s) => s[k]);
  const row = (name: string, xs: number[]) => `${name.padEnd(28)}${secs(median(xs)).padStart(8)}${secs(Math.min(...xs)).padStart(8)}${secs(Math.max(...xs)).padStart(8)}   ${xs.map(secs).join(' ')}`;
  console.log('');
  console.log(`${''.padEnd(28)}${'median'.padStart(8)}${'min'.padStart(8)}${'max'.padStart(8)}   runs (s)`);
  for (const [k, what] of [['ms', 'wall'], ['cpuMs', 'cpu']] as const) {
    console.log(row(`plain, ${what}`, of('plain', k)));
    console.log(row(`Ink UI in tmux, ${what}`, of('tui', k)));
  }
  const ratio = (k: 'ms' | 'cpuMs') => median(of('tui', k)) / median(of('plain', k));
  const pct = (r: number) => `${r.toFixed(3)} (${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%)`;
  console.log(`\nUI / plain, medians: wall ${pct(ratio('ms'))}, cpu ${pct(ratio('cpuMs'))}; goal: within 5%`);
  const uiRuns = samples.flatMap((x) => (x.ui ? [x.ui] : []));
  if (uiRuns.length > 0) {
    console.log(`UI process (median): ${median(uiRuns.map((u) => u.renders))} frames, ${secs(median(uiRuns.map((u) => u.cpuMs)))} s cpu in all (start-up included)`);
  }
  console.log(`load average now: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (${availableParallelism()} cpus)`);
  console.log(`\nend of the last UI run (tmux capture):\n${tuiScreen.trimEnd().split('\n').slice(-8).join('\n')}`);
  rmSync(root, { recursive: true, force: true });
}

if (process.env[PLAYBOOK_ENV] === '1') {
  await main({ name: 'bench-tui', plays: [{ name: 'bench', hosts: 'all', roles: [bench] }] });
} else {
  await runBench();
}

// `npm run bench [-- PART... [options]]`: runs the benchmark parts, prints their tables and
// writes them into bench/RESULTS.md (each part its own section).
//   parts: scale (light SSH hosts), lab (the lab hosts: Drover vs Ansible vs the floor),
//          reporters (CPU of the JSON/plain/Ink reporters on a replayed 500-host stream),
//          tui (bench/tui.ts: the Ink UI in tmux against the plain reporter),
//          cleanup (stop a crashed run's light hosts, remove its user).
//   Default: scale lab reporters tui.
//   lab-first: the lab's first converges (resets the lab before each case; minutes).
//   startup: the start-up layers of `npx tsx playbooks/site.ts` (node, tsx, npx, Drover, Ansible).
//   options: --sizes 100,500  --runs 5  --tools drover,drover-prebuilt,drover-no-ahead,drover-sessions,floor,ansible
//            (lab default: each scenario's own list, also drover-npx)
//            --ansible-max-hosts 100  --ansible-runs 5  --ansible-forks 20  --ansible-timeout 1200
//            --drover-forks N  --drover-root DIR (another checkout: before/after an engine change)
//            --scale-converge floor (scale: fresh hosts converged by the floor, quicker than Drover)
//            --cpu-prof-dir DIR (node --cpu-prof for the Drover runs)
//            --lab-runs 5  --lab-hosts loadbalancer1,...  --no-write (print only)
//            --rtt 0,20,80 (lab, lab-first: through a latency relay per host at each round-trip time, ms;
//                           sections lab-rtt / lab-first-rtt)  --rtt-tolerance 3 (ms)
//            --lab-scenarios one,python,all (lab)  --first-cases drover-1,drover-all,ansible-1,ansible-python (lab-first)
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { machine, writeSection } from './lib/report.ts';
import { type Tool, runScale, scaleMarkdown } from './scale.ts';
import { cleanupStale } from './scale/fleet.ts';
import type { LabTool } from './lab.ts';
import { FIRST_CASES, LAB_SCENARIOS, type FirstCaseId, type LabScenarioId } from './lib/lab-cases.ts';
import { parseRtts } from './lib/relay.ts';

const RESULTS = new URL('./RESULTS.md', import.meta.url).pathname;

/** 500 hosts need ~1000 descriptors in the controller; raise the soft limit by re-exec if low. */
function ensureNofile(min: number): void {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(limits);
  const soft = m?.[1] === 'unlimited' ? Infinity : Number(m?.[1] ?? 0);
  if (soft >= min || process.env.DROVER_BENCH_NOFILE) return;
  const r = spawnSync('/bin/sh', ['-c', `ulimit -n ${min} && exec "$@"`, 'sh', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, DROVER_BENCH_NOFILE: '1' },
  });
  process.exit(r.status ?? 1);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      sizes: { type: 'string', default: '100,500' },
      runs: { type: 'string', default: '5' },
      tools: { type: 'string' },
      'ansible-max-hosts': { type: 'string', default: '100' },
      'ansible-runs': { type: 'string', default: '5' },
      'ansible-forks': { type: 'string', default: '20' },
      'ansible-timeout': { type: 'string', default: '1200' },
      'drover-forks': { type: 'string' },
      'cpu-prof-dir': { type: 'string' },
      'drover-root': { type: 'string' },
      'scale-converge': { type: 'string' },
      'lab-runs': { type: 'string', default: '5' },
      'lab-hosts': { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      rtt: { type: 'string' },
      'rtt-tolerance': { type: 'string' },
      'lab-scenarios': { type: 'string' },
      'first-cases': { type: 'string' },
    },
  });
  const listOf = <T extends string>(flag: string, s: string | undefined, allowed: readonly T[]): T[] | undefined => {
    if (s === undefined) return undefined;
    const xs = s.split(',').filter(Boolean);
    const bad = xs.filter((x) => !(allowed as readonly string[]).includes(x));
    if (bad.length || !xs.length) throw new Error(`--${flag}: ${bad.join(',') || 'empty'} (choose from ${allowed.join(',')})`);
    return xs as T[];
  };
  const rtts = values.rtt !== undefined ? parseRtts(values.rtt) : undefined;
  const scenarios = listOf<LabScenarioId>('lab-scenarios', values['lab-scenarios'], LAB_SCENARIOS);
  const firstCases = listOf<FirstCaseId>('first-cases', values['first-cases'], FIRST_CASES);
  const parts = positionals.length ? positionals : ['scale', 'lab', 'reporters', 'tui'];
  const labCommon = () => ({
    ...(values['lab-hosts'] ? { hosts: values['lab-hosts'].split(',') } : {}),
    ...(values.tools ? { tools: values.tools.split(',') as LabTool[] } : {}),
    ...(values['drover-root'] ? { droverRoot: values['drover-root'] } : {}),
    ...(values['cpu-prof-dir'] ? { droverNodeFlags: ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof-dir']}`] } : {}),
    ...(rtts ? { rtts } : {}),
    ...(values['rtt-tolerance'] ? { rttToleranceMs: Number(values['rtt-tolerance']) } : {}),
    ...(scenarios ? { scenarios } : {}),
    ...(firstCases ? { firstCases } : {}),
  });
  const log = (msg: string) => process.stderr.write(`${msg}\n`);
  const cmdline = `npm run bench -- ${process.argv.slice(2).join(' ')}`.replace(/ -- $/, '');
  for (const part of parts) {
    if (part === 'cleanup') {
      await cleanupStale();
      log('cleanup: done');
    } else if (part === 'scale') {
      const sizes = values.sizes.split(',').map(Number);
      ensureNofile(Math.max(4096, Math.max(...sizes) * 8));
      const o = {
        sizes,
        runs: Number(values.runs),
        tools: (values.tools ?? 'drover,drover-prebuilt,drover-no-ahead,drover-sessions,floor,ansible').split(',') as Tool[],
        ansibleMaxHosts: Number(values['ansible-max-hosts']),
        ansibleRuns: Number(values['ansible-runs']),
        ansibleForks: Number(values['ansible-forks']),
        ansibleTimeoutMs: Number(values['ansible-timeout']) * 1000,
        ...(values['drover-forks'] ? { droverForks: Number(values['drover-forks']) } : {}),
        ...(values['drover-root'] ? { droverRoot: values['drover-root'] } : {}),
        ...(values['cpu-prof-dir'] ? { droverNodeFlags: ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof-dir']}`] } : {}),
        ...(values['scale-converge'] === 'floor' ? { convergeWith: 'floor' as const } : {}),
        log,
      };
      const results = await runScale(o);
      const md = scaleMarkdown(results, o, cmdline);
      process.stdout.write(`${md}\n`);
      if (!values['no-write']) writeSection(RESULTS, 'scale', md);
    } else if (part === 'lab') {
      const { runLab, labMarkdown, labRttMarkdown } = await import('./lab.ts');
      const o = { runs: Number(values['lab-runs']), ...labCommon(), log };
      const results = await runLab(o);
      // Over latency: its own section, so the direct figures stay.
      const md = rtts ? labRttMarkdown(results, o, cmdline) : labMarkdown(results, o, cmdline);
      process.stdout.write(`${md}\n`);
      if (!values['no-write']) writeSection(RESULTS, rtts ? 'lab-rtt' : 'lab', md);
    } else if (part === 'lab-first') {
      const { runLabFirst, labFirstMarkdown } = await import('./lab.ts');
      const rows = await runLabFirst({ runs: 1, ...labCommon(), log });
      const md = labFirstMarkdown(rows, cmdline);
      process.stdout.write(`${md}\n`);
      if (!values['no-write']) writeSection(RESULTS, rtts ? 'lab-first-rtt' : 'lab-first', md);
    } else if (part === 'startup') {
      const { runStartup, startupMarkdown } = await import('./startup.ts');
      const runs = Number(values.runs);
      const md = startupMarkdown(await runStartup({ runs, log }), runs, cmdline);
      process.stdout.write(`${md}\n`);
      if (!values['no-write']) writeSection(RESULTS, 'startup', md);
    } else if (part === 'reporters') {
      const { runReportersBench } = await import('./reporters.ts');
      const md = await runReportersBench({ hosts: [100, 500], tasks: 20, durationMs: 20_000, runs: Number(values.runs), log });
      process.stdout.write(`${md}\n`);
      if (!values['no-write']) writeSection(RESULTS, 'reporters', md);
    } else if (part === 'tui') {
      // The UI's own benchmark (bench/tui.ts, by the UI's author): the Ink UI in tmux against
      // the plain reporter on local hosts. Run as is; its printout goes into RESULTS.md.
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/tui.ts', '--runs', values.runs], { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      process.stdout.write(r.stdout);
      if (r.status !== 0) throw new Error(`bench/tui.ts exited ${r.status}`);
      const md = ['## Terminal UI against the plain reporter (bench/tui.ts)', '', `Machine: ${machine()}`, '', 'Reproduce: `npm run bench -- tui` (or `npx tsx bench/tui.ts --hosts 100 --runs 5`)', '', '```', r.stdout.trim(), '```'].join('\n');
      if (!values['no-write']) writeSection(RESULTS, 'tui', md);
    } else {
      throw new Error(`unknown part "${part}" (scale, lab, lab-first, startup, reporters, tui, cleanup)`);
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});

// Part 3: many light SSH hosts, a 20-check playbook's no-change re-run: Drover against the
// floor (one OpenSSH session per host running a hand-written script, all hosts at once) and
// against Ansible. Per size: one fresh converge by Drover, then rounds of no-change runs with
// the tools interleaved (so a noisy moment hurts every tool alike), each run's output checked
// for "nothing changed, nothing failed, every host ran".
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { type Measurement, measure } from './lib/measure.ts';
import { buildIfNeeded, droverCommand, isDrover, type DroverVariant } from './lib/drover.ts';
import { fmtMiB, fmtRatio, fmtS, load1, machine, type Sample, summarise, type Summary, table } from './lib/report.ts';
import { type Fleet, type FleetHost, startFleet, stopFleet } from './scale/fleet.ts';
import { parseFloorOutput, writeFloor } from './scale/floor.ts';

/** The Drover variants of bench/lib/drover.ts, the floor and Ansible. */
export type Tool = DroverVariant | 'floor' | 'ansible';

export interface ScaleOptions {
  sizes: number[];
  /** Timed no-change runs per tool and size (medians over these). */
  runs: number;
  tools: Tool[];
  /** Ansible only up to this many hosts (its run time grows fast); larger sizes say "not run". */
  ansibleMaxHosts: number;
  ansibleRuns: number;
  ansibleForks: number;
  /** Cap on one Ansible run (then it counts as timed out). */
  ansibleTimeoutMs: number;
  /** Drover's --forks: default every host at once (its forks are async tasks, not processes). */
  droverForks?: number;
  /** Extra node flags for the Drover runs (e.g. --cpu-prof --cpu-prof-dir=...). */
  droverNodeFlags?: string[];
  /** Run the playbook from another checkout (an engine before a change), default this one. */
  droverRoot?: string;
  /**
   * Who brings fresh hosts to the converged state before the timed no-change runs: Drover
   * (default: the first Drover variant of `tools`, its first converge is reported) or the
   * floor (same end state byte for byte, faster: for a quick look at one size).
   */
  convergeWith?: 'drover' | 'floor';
  log: (msg: string) => void;
}

export interface ToolResult {
  tool: Tool;
  hosts: number;
  converge?: Measurement;
  summary?: Summary;
  /** Median CPU of the light hosts (sshd and everything they ran) per run, ms. */
  targetCpuMs?: number;
  note?: string;
}

const repo = new URL('..', import.meta.url).pathname;
const workDir = '/run/drover-bench-work';

interface RunCheck {
  changed: number;
  failed: number;
  hosts: number;
}

function checkDrover(file: string): RunCheck {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const last = JSON.parse(lines[lines.length - 1] ?? '{}') as { type?: string; hosts?: Record<string, { changed: number; failed: number; unreachable: number }> };
  if (last.type !== 'recap' || !last.hosts) throw new Error(`drover output has no recap (see ${file})`);
  const hs = Object.values(last.hosts);
  return { hosts: hs.length, changed: hs.reduce((a, h) => a + h.changed, 0), failed: hs.reduce((a, h) => a + h.failed + h.unreachable, 0) };
}

export function parseAnsibleRecap(text: string): RunCheck {
  const at = text.lastIndexOf('PLAY RECAP');
  const r: RunCheck = { hosts: 0, changed: 0, failed: 0 };
  if (at < 0) return r;
  for (const m of text.slice(at).matchAll(/^\S+\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    r.hosts++;
    r.changed += Number(m[2]);
    r.failed += Number(m[3]) + Number(m[4]);
  }
  return r;
}

class ScaleRun {
  private fleet!: Fleet;
  private readonly ipForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  private seq = 0;

  constructor(private readonly o: ScaleOptions) {}

  private out(tag: string): { stdout: string; stderr: string } {
    const n = ++this.seq;
    return { stdout: join(workDir, `${n}-${tag}.out`), stderr: join(workDir, `${n}-${tag}.err`) };
  }

  private inventory(hosts: readonly FleetHost[]): string {
    return this.fleet.inventory(hosts, join(workDir, `inventory-${hosts.length}.ini`), { bench_ip_forward: this.ipForward });
  }

  /** One measured run of a tool; throws when its output shows it did not do the job. */
  private async runTool(tool: Tool, hosts: readonly FleetHost[], expectChanges: boolean): Promise<{ m: Measurement; targetCpuMs: number; check: RunCheck }> {
    const inv = this.inventory(hosts);
    const files = this.out(`${tool}-${hosts.length}`);
    let argv: string[];
    let cwd = repo;
    const env: NodeJS.ProcessEnv = { ...process.env, CI: '1' };
    // The fleet's "hosts" are users of this one machine: they would share one host lock.
    env.DROVER_HOST_LOCK = '0';
    let timeoutMs: number | undefined;
    if (isDrover(tool)) {
      cwd = this.o.droverRoot ?? repo;
      const d = droverCommand(tool, 'bench/playbooks/checks20', ['-i', inv, '--forks', String(this.o.droverForks ?? hosts.length), '--json'], {
        root: cwd,
        ...(this.o.droverNodeFlags ? { nodeFlags: this.o.droverNodeFlags } : {}),
      });
      argv = d.argv;
      Object.assign(env, d.env);
    } else if (tool === 'floor') {
      argv = writeFloor(workDir, hosts, this.fleet.user, this.fleet.sshOptions, this.ipForward);
    } else {
      cwd = join(repo, 'bench/ansible');
      env.ANSIBLE_CONFIG = join(cwd, 'ansible.cfg');
      env.ANSIBLE_NOCOLOR = '1';
      argv = ['ansible-playbook', '-i', inv, 'checks20.yml', '-f', String(this.o.ansibleForks)];
      timeoutMs = this.o.ansibleTimeoutMs;
    }
    const cpu0 = this.fleet.cgroup.cpu();
    const m = await measure(argv, { cwd, env, stdoutFile: files.stdout, stderrFile: files.stderr, ...(timeoutMs ? { timeoutMs } : {}) });
    const cpu1 = this.fleet.cgroup.cpu();
    const targetCpuMs = cpu1.userMs + cpu1.sysMs - cpu0.userMs - cpu0.sysMs;
    if (m.timedOut) return { m, targetCpuMs, check: { hosts: 0, changed: 0, failed: 0 } };
    const text = readFileSync(files.stdout, 'utf8');
    const check = tool.startsWith('drover') ? checkDrover(files.stdout) : tool === 'floor' ? parseFloorOutput(text) : parseAnsibleRecap(text);
    const problem =
      check.hosts !== hosts.length
        ? `${check.hosts} of ${hosts.length} hosts reported`
        : check.failed
          ? `${check.failed} failures`
          : !expectChanges && check.changed
            ? `${check.changed} changes in a no-change run (the tools' end states differ)`
            : null;
    if (problem || (m.code !== 0 && tool !== 'floor')) {
      throw new Error(`${tool} on ${hosts.length} hosts: ${problem ?? `exit ${m.code}`} (see ${files.stdout} and ${files.stderr})`);
    }
    return { m, targetCpuMs, check };
  }

  async run(): Promise<ToolResult[]> {
    const o = this.o;
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });
    buildIfNeeded(o.tools, o.droverRoot ?? repo, o.log);
    const max = Math.max(...o.sizes);
    o.log(`scale: starting ${max} light hosts`);
    this.fleet = await startFleet(max, { log: o.log });
    const results: ToolResult[] = [];
    try {
      for (const size of [...o.sizes].sort((a, b) => a - b)) {
        const hosts = this.fleet.hosts.slice(0, size);
        // Fresh state per size: the converge below is a real first run.
        rmSync(join(this.fleet.home, 'hosts'), { recursive: true, force: true });
        mkdirSync(join(this.fleet.home, 'hosts'));
        const { execFileSync } = await import('node:child_process');
        execFileSync('chown', [`${this.fleet.user}:${this.fleet.user}`, join(this.fleet.home, 'hosts')]);
        // The converge runs as the first Drover variant asked for (prebuilt when listed), so
        // the reported first converge is the row's own engine and start-up.
        const convTool: Tool = o.convergeWith === 'floor' ? 'floor' : (o.tools.find(isDrover) ?? 'floor');
        o.log(`scale ${size}: ${convTool} converge (fresh hosts), load ${load1().toFixed(2)}`);
        const conv = await this.runTool(convTool, hosts, true);
        o.log(`  converge ${fmtS(conv.m.wallMs)}, ${conv.check.changed} changes, rss ${fmtMiB(conv.m.peakProcHwmKiB)}`);
        const tools = o.tools.filter((t) => t !== 'ansible' || size <= o.ansibleMaxHosts);
        const samples = new Map<Tool, { s: Sample[]; t: number[] }>(tools.map((t) => [t, { s: [], t: [] }]));
        const rounds = Math.max(o.runs, tools.includes('ansible') ? o.ansibleRuns : 0);
        for (let r = 0; r < rounds; r++) {
          for (const tool of tools) {
            if (tool === 'ansible' ? r >= o.ansibleRuns : r >= o.runs) continue;
            const load = load1();
            const res = await this.runTool(tool, hosts, false);
            samples.get(tool)!.s.push({ m: res.m, load });
            samples.get(tool)!.t.push(res.targetCpuMs);
            o.log(`  ${size} hosts, round ${r + 1}: ${tool} ${fmtS(res.m.wallMs)}${res.m.timedOut ? ' (timed out)' : ''}, cpu ${fmtS(res.m.cpuMs)}, rss ${fmtMiB(res.m.peakTreeRssKiB)}, hosts' cpu ${fmtS(res.targetCpuMs)}, load ${load.toFixed(2)}`);
          }
        }
        for (const tool of o.tools) {
          const got = samples.get(tool);
          if (!got) {
            results.push({ tool, hosts: size, note: `not run above ${o.ansibleMaxHosts} hosts` });
            continue;
          }
          const sorted = [...got.t].sort((a, b) => a - b);
          results.push({
            tool,
            hosts: size,
            ...(tool === convTool && isDrover(tool) ? { converge: conv.m } : {}),
            summary: summarise(got.s),
            targetCpuMs: sorted[sorted.length >> 1]!,
          });
        }
      }
    } finally {
      await stopFleet();
    }
    return results;
  }
}

export async function runScale(o: ScaleOptions): Promise<ToolResult[]> {
  return new ScaleRun(o).run();
}

export function scaleMarkdown(results: readonly ToolResult[], o: ScaleOptions, cmd: string): string {
  const rows: string[][] = [];
  for (const r of results) {
    const s = r.summary;
    const floor = results.find((x) => x.tool === 'floor' && x.hosts === r.hosts)?.summary;
    const ansible = results.find((x) => x.tool === 'ansible' && x.hosts === r.hosts)?.summary;
    if (!s) {
      rows.push([String(r.hosts), r.tool, r.note ?? 'not run', '', '', '', '', '', '', '', '']);
      continue;
    }
    const perHost = r.tool.startsWith('drover') ? fmtMiB(s.peakProcHwmKiB / r.hosts) : '';
    const cpuPerHost = `${(s.cpuMs / r.hosts).toFixed(1)} ms/host`;
    rows.push([
      String(r.hosts),
      r.tool + (s.timedOut ? ` (${s.timedOut} of ${s.runs} runs hit the ${fmtS(o.ansibleTimeoutMs)} cap)` : ''),
      `${fmtS(s.wallMs)} (${fmtS(s.wallMinMs)}-${fmtS(s.wallMaxMs)})`,
      String(s.runs),
      `${fmtS(s.cpuMs)} (${cpuPerHost})`,
      fmtMiB(s.peakTreeRssKiB),
      fmtMiB(s.peakProcHwmKiB) + (perHost ? ` (${perHost}/host)` : ''),
      fmtS(r.targetCpuMs ?? NaN),
      floor && r.tool !== 'floor' ? fmtRatio(s.wallMs / floor.wallMs) : '',
      ansible && r.tool.startsWith('drover') ? `${fmtRatio(s.wallMs / ansible.wallMs)} (${fmtRatio(ansible.wallMs / s.wallMs)} faster)` : '',
      s.load.toFixed(2),
    ]);
  }
  const conv = results
    .filter((r) => r.converge)
    .map((r) => `${r.hosts} hosts (${r.tool}): ${fmtS(r.converge!.wallMs)} wall, ${fmtS(r.converge!.cpuMs)} cpu, ${fmtMiB(r.converge!.peakProcHwmKiB)} peak RSS`)
    .join('; ');
  const drovers = results.filter((r) => r.tool === 'drover-prebuilt' && r.summary).sort((a, b) => a.hosts - b.hosts);
  let slope = '';
  if (drovers.length >= 2) {
    const a = drovers[0]!;
    const b = drovers[drovers.length - 1]!;
    const perHost = (b.summary!.peakProcHwmKiB - a.summary!.peakProcHwmKiB) / (b.hosts - a.hosts);
    slope = `Drover's memory (prebuilt) grows by ${fmtMiB(perHost)} per extra host between ${a.hosts} and ${b.hosts} hosts (peak RSS difference / host difference).`;
  }
  return [
    '## Scale: light SSH hosts, 20-check no-change converge',
    '',
    `Machine: ${machine()}`,
    '',
    `Reproduce: \`${cmd}\``,
    '',
    table(
      ['hosts', 'tool', 'wall, median (min-max)', 'runs', 'controller CPU', 'controller RSS (tree, sampled peak)', 'largest process RSS', "hosts' CPU", 'vs floor', 'Drover/Ansible', 'load avg'],
      rows,
    ),
    '',
    `Drover's first converge (fresh hosts): ${conv || 'n/a'}.`,
    slope,
    '',
    'How it is measured: each light host is its own `sshd -D` on 127.20.X.Y:22 (no systemd, `UsePAM no`), logging in a',
    'dedicated user whose shell is /bin/sh; each host manages its own directory. Every run is a separate process tree in',
    'its own cgroup: wall time from spawn to exit, CPU = user+sys of the whole tree (cgroup cpu.stat), "controller RSS" =',
    'peak of the summed VmRSS of the tree sampled every 100 ms, "largest process RSS" = the largest single process high-water',
    'mark (GNU time / VmHWM): the Drover node process, an ansible-playbook worker, one ssh client. "hosts\' CPU" is what the',
    "sshd processes and everything they ran used during the run (the machine is shared: targets and controller compete for",
    `the same ${cpus().length} cores here). Drover runs \`bench/playbooks/checks20 --json --forks <hosts>\` as`,
    '**drover** (`node --import tsx bench/playbooks/checks20.ts`, as users run playbooks), **drover-prebuilt** (`node',
    'dist/bench/playbooks/checks20.js` after `npm run build`), **drover-no-ahead** (prebuilt, `DROVER_PROBE_AHEAD=0`: one',
    'round trip per probe instead of reading the next tasks\' probes in one) and **drover-sessions** (prebuilt,',
    '`DROVER_PIPELINING=0`: one SSH session per command instead of the default pipelined shell); every run includes its start-up;',
    'the floor is bench/scale/floor.sh sent by `ssh -o ControlMaster=no host sh -s < script` to all hosts at once;',
    `Ansible is \`ansible-playbook -f ${o.ansibleForks}\` with pipelining on, default fact gathering, and ControlPersist masters`,
    'from earlier runs closed before each run (every tool pays for its connections). Every timed run is checked: every',
    'host reported, nothing failed, nothing changed (the three tools converge to the same bytes).',
    o.tools.includes('ansible') ? `Ansible was run up to ${o.ansibleMaxHosts} hosts only (${o.ansibleRuns} runs, each capped at ${fmtS(o.ansibleTimeoutMs)}).` : '',
    'Noise: other jobs were running on this machine; the load average before each run is shown (median).',
  ]
    .filter((l, i, a) => !(l === '' && a[i - 1] === ''))
    .join('\n');
}

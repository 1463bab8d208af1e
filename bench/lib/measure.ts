// Runs one command as a measured "controller": wall time, CPU (user+sys) of its whole process
// tree, and memory. The tree is put in its own cgroup v2 group (the unified hierarchy, which
// exists on hybrid v1 hosts too), so CPU is exact (cpu.stat counts every descendant, even
// ones that exit before a sample) and the live PIDs are one file read away. Memory is sampled:
// the sum of VmRSS over the tree (peak of the samples: counts 500 ssh clients of the floor
// together) and the largest single process's VmHWM (exact, the kernel's own high-water mark).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Measurement {
  wallMs: number;
  /** user + system CPU of the tree, ms. */
  cpuMs: number;
  userMs: number;
  sysMs: number;
  /** Peak of the sampled sum of VmRSS over the tree, KiB. */
  peakTreeRssKiB: number;
  /** Largest VmHWM of any one process of the tree, KiB. */
  peakProcHwmKiB: number;
  /** Processes seen in the tree at once, at most. */
  maxProcs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The run was stopped at its time cap. */
  timedOut: boolean;
}

export interface MeasureOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr go to these files (appended), or are dropped. */
  stdoutFile?: string;
  stderrFile?: string;
  stdin?: string;
  /** Kill the tree after this long and mark the run timed out. */
  timeoutMs?: number;
  /** Sampling period for memory, ms (default 100). */
  sampleMs?: number;
}

/** Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup on v2 hosts, .../unified on hybrid ones). */
export function cgroup2Root(): string | null {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.startsWith('cgroup2 ')) return pre?.split(' ')[4] ?? null;
  }
  return null;
}

let seq = 0;

/** A fresh cgroup for one measured run (and a helper group for the light hosts). */
export class Cgroup {
  readonly dir: string;
  constructor(name: string) {
    const root = cgroup2Root();
    if (!root) throw new Error('no cgroup v2 hierarchy mounted: the bench needs it to count CPU of a process tree');
    const base = join(root, 'drover-bench');
    mkdirSync(base, { recursive: true });
    this.dir = join(base, name);
    mkdirSync(this.dir, { recursive: true });
  }

  pids(): number[] {
    try {
      return readFileSync(join(this.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** user and system CPU so far, ms. */
  cpu(): { userMs: number; sysMs: number } {
    const kv = new Map<string, number>();
    for (const l of readFileSync(join(this.dir, 'cpu.stat'), 'utf8').split('\n')) {
      const [k, v] = l.split(' ');
      if (k && v) kv.set(k, Number(v));
    }
    return { userMs: (kv.get('user_usec') ?? 0) / 1000, sysMs: (kv.get('system_usec') ?? 0) / 1000 };
  }

  /** SIGKILL whatever is left in the group (ssh ControlPersist masters, stragglers). */
  kill(): void {
    const killFile = join(this.dir, 'cgroup.kill');
    if (existsSync(killFile)) {
      try {
        writeFileSync(killFile, '1');
        return;
      } catch {
        /* fall back to one by one */
      }
    }
    for (const pid of this.pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  async remove(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      if (this.pids().length === 0) break;
      this.kill();
      await sleep(100);
    }
    try {
      rmdirSync(this.dir);
    } catch {
      /* still busy: left for the next run's cleanup */
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function statusKiB(pid: number): { rss: number; hwm: number } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const rss = /VmRSS:\s+(\d+)/.exec(text);
  const hwm = /VmHWM:\s+(\d+)/.exec(text);
  return { rss: rss ? Number(rss[1]) : 0, hwm: hwm ? Number(hwm[1]) : 0 };
}

/**
 * Run `argv` in a new cgroup and measure it. The child enters the group itself (a tiny sh
 * prologue writes its PID to cgroup.procs, then execs the command), so nothing it starts
 * escapes the count. Anything left in the group when the command exits (ssh masters kept by
 * ControlPersist) is killed: each run pays for its own connections.
 */
export async function measure(argv: readonly string[], o: MeasureOptions = {}): Promise<Measurement> {
  const cg = new Cgroup(`run-${process.pid}-${++seq}`);
  const procs = join(cg.dir, 'cgroup.procs');
  const out = o.stdoutFile ? openSync(o.stdoutFile, 'a') : 'ignore';
  const err = o.stderrFile ? openSync(o.stderrFile, 'a') : 'ignore';
  // GNU time reports the exact ru_maxrss of the largest reaped process (the sampler can miss
  // the last 100 ms of a process's life).
  const timeFile = join(tmpdir(), `drover-bench-${process.pid}-${seq}.maxrss`);
  const timed = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', '%M', '-o', timeFile, ...argv] : [...argv];
  const started = process.hrtime.bigint();
  const child = spawn('/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', procs, ...timed], {
    cwd: o.cwd,
    env: o.env ?? process.env,
    stdio: [o.stdin === undefined ? 'ignore' : 'pipe', out, err],
  });
  if (o.stdin !== undefined) child.stdin?.end(o.stdin);
  let peakTree = 0;
  let maxProcs = 0;
  const hwm = new Map<number, number>();
  const sample = () => {
    let sum = 0;
    const pids = cg.pids();
    maxProcs = Math.max(maxProcs, pids.length);
    for (const pid of pids) {
      const s = statusKiB(pid);
      if (!s) continue;
      sum += s.rss;
      if (s.hwm > (hwm.get(pid) ?? 0)) hwm.set(pid, s.hwm);
    }
    peakTree = Math.max(peakTree, sum);
  };
  const timer = setInterval(sample, o.sampleMs ?? 100);
  let timedOut = false;
  const cap = o.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        cg.kill();
      }, o.timeoutMs)
    : undefined;
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    // 'exit', not 'close': a daemonised grandchild holding the output file must not delay it.
    child.on('exit', (c, s) => resolve({ code: c, signal: s }));
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(timer);
  if (cap) clearTimeout(cap);
  // The main process is gone, so its VmHWM cannot be read now: the last sample stands in,
  // which is why the sampling period is short. Leftovers are sampled once more, then killed.
  sample();
  const cpuBeforeKill = cg.cpu();
  await cg.remove();
  let reapedMax = 0;
  try {
    reapedMax = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop()) || 0;
    rmSync(timeFile, { force: true });
  } catch {
    /* no GNU time */
  }
  if (typeof out === 'number') closeSync(out);
  if (typeof err === 'number') closeSync(err);
  return {
    wallMs,
    cpuMs: cpuBeforeKill.userMs + cpuBeforeKill.sysMs,
    userMs: cpuBeforeKill.userMs,
    sysMs: cpuBeforeKill.sysMs,
    peakTreeRssKiB: peakTree,
    peakProcHwmKiB: Math.max(reapedMax, ...hwm.values()),
    maxProcs,
    code,
    signal,
    timedOut,
  };
}

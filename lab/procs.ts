// Processes the lab starts (nspawn, socat): started detached with their output in a log file,
// recorded as pid + kernel start time (so a recycled pid is never mistaken for ours), stopped
// by pid only. Found again after a crash by their exact command line (paths only the lab uses).
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcRef {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): pid + this names one process. */
  startTime: number;
}

interface ProcInfo {
  pid: number;
  ppid: number;
  startTime: number;
  state: string;
}

export function procInfo(pid: number): ProcInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parens: split after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pid, state: rest[0] ?? '?', ppid: Number(rest[1]), startTime: Number(rest[19]) };
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Alive and still the same process (not a zombie, not a reused pid). */
export function isAlive(ref: ProcRef): boolean {
  const p = procInfo(ref.pid);
  return !!p && p.startTime === ref.startTime && p.state !== 'Z';
}

export function refOf(pid: number): ProcRef | undefined {
  const p = procInfo(pid);
  return p ? { pid, startTime: p.startTime } : undefined;
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

/** pid and every descendant (container processes are ordinary host processes under nspawn). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of allPids()) {
    const info = procInfo(p);
    if (!info) continue;
    const list = children.get(info.ppid) ?? [];
    list.push(p);
    children.set(info.ppid, list);
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Processes whose argv matches; used to find the lab's own processes after lost pid records. */
export function findProcesses(match: (argv: string[]) => boolean): ProcRef[] {
  const out: ProcRef[] = [];
  for (const p of allPids()) {
    if (p === process.pid) continue;
    const argv = cmdline(p);
    if (argv.length && match(argv)) {
      const r = refOf(p);
      if (r) out.push(r);
    }
  }
  return out;
}

/** Start argv detached from us (own session, output to logFile); returns once it is running. */
export function spawnDaemon(argv: readonly string[], logFile: string): ProcRef {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('empty command');
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    child.unref();
    const ref = refOf(child.pid);
    if (!ref) throw new Error(`${cmd} exited at once; see ${logFile}`);
    return ref;
  } finally {
    closeSync(fd);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * SIGTERM the process (nspawn turns it into a clean guest shutdown), wait up to graceMs,
 * then SIGKILL it and every descendant still alive. Descendants must be killed too: killing
 * nspawn alone would orphan the guest's init, which lives on in its own pid namespace.
 */
export async function stopProcess(ref: ProcRef, graceMs: number): Promise<'gone' | 'terminated' | 'killed'> {
  if (!isAlive(ref)) return 'gone';
  signal(ref.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(ref)) return 'terminated';
    await sleep(100);
  }
  const tree = processTree(ref.pid)
    .map(refOf)
    .filter((r): r is ProcRef => !!r);
  for (const r of tree) if (isAlive(r)) signal(r.pid, 'SIGKILL');
  for (let i = 0; i < 50 && tree.some(isAlive); i++) await sleep(100);
  return 'killed';
}

export interface TreeMemory {
  /** Sum of Pss over the tree: shared pages split between sharers, so hosts add up honestly. */
  pssKiB: number;
  /** Sum of Rss: counts shared pages once per process (over-counts). */
  rssKiB: number;
  processes: number;
}

export function treeMemory(pid: number): TreeMemory {
  let pss = 0;
  let rss = 0;
  const pids = processTree(pid);
  for (const p of pids) {
    try {
      const text = readFileSync(`/proc/${p}/smaps_rollup`, 'utf8');
      pss += Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
      rss += Number(/^Rss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
    } catch {
      // exited meanwhile, or a kernel thread
    }
  }
  return { pssKiB: pss, rssKiB: rss, processes: pids.length };
}

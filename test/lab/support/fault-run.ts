// Helpers of the fault tests: a Drover run as a live child process (to signal it, kill it and
// watch its events while it runs), a lab host killed like a power cut, files on hosts.
import { spawn, type ChildProcess } from 'node:child_process';
import { cgroupPids } from '../../../lab/cgroups.ts';
import { labSsh, LAB_NETNS } from '../../../lab/index.ts';
import { processTree } from '../../../lab/procs.ts';
import { readHostState } from '../../../lab/state.ts';
import { EventSchema, type DroverEvent, type RecapEvent } from '../../../lib/report/events.ts';

export const FAULT_PLAYBOOK = 'test/lab/support/fault-playbook.ts';

export interface RunEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
  events: DroverEvent[];
  stdout: string;
  stderr: string;
  recap: RecapEvent | undefined;
}

export interface LiveRun {
  pid: number;
  events: DroverEvent[];
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the first event (seen so far or later) that matches; rejects after timeoutMs. */
  waitFor(what: string, match: (e: DroverEvent) => boolean, timeoutMs?: number): Promise<DroverEvent>;
  /** Resolves when some stderr text matches. */
  waitForStderr(match: RegExp, timeoutMs?: number): Promise<string>;
  signal(sig: NodeJS.Signals): void;
  done: Promise<RunEnd>;
}

/**
 * `node --import tsx <playbook> ... [--json]` inside the lab namespace. One process (no tsx
 * launcher in between), so a signal reaches Drover itself, as Terraform's would.
 */
export function startRun(playbook: string, args: readonly string[], opts: { json?: boolean; env?: NodeJS.ProcessEnv } = {}): LiveRun {
  const json = opts.json ?? true;
  // `ip netns exec` execs the command in place: the child's pid is node's.
  const child: ChildProcess = spawn('ip', ['netns', 'exec', LAB_NETNS, process.execPath, '--conditions=drover-source', '--import', 'tsx', playbook, ...args, ...(json ? ['--json'] : [])], {
    cwd: process.cwd(),
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: DroverEvent[] = [];
  let stdout = '';
  let stderr = '';
  let partial = '';
  const listeners = new Set<() => void>();
  const poke = () => listeners.forEach((l) => l());
  child.stdout!.on('data', (d: Buffer) => {
    const text = d.toString('utf8');
    stdout += text;
    if (json) {
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l.trim()) events.push(EventSchema.parse(JSON.parse(l)));
    }
    poke();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
    poke();
  });
  let exited = false;
  const done = new Promise<RunEnd>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exited = true;
      poke();
      resolve({ code, signal, events, stdout, stderr, recap: events.find((e): e is RecapEvent => e.type === 'recap') });
    });
  });
  const until = <T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const tick = () => {
        const v = check();
        if (v !== undefined) {
          cleanup();
          resolve(v);
        } else if (exited) {
          cleanup();
          reject(new Error(`run ended (${what} never came); stderr: ${stderr.slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${what} after ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(tick);
      };
      listeners.add(tick);
      tick();
    });
  return {
    pid: child.pid!,
    events,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitFor: (what, match, timeoutMs = 120_000) => until(what, () => events.find(match), timeoutMs),
    waitForStderr: (match, timeoutMs = 120_000) => until(`stderr ${match}`, () => (match.test(stderr) ? stderr : undefined), timeoutMs),
    signal: (sig) => {
      child.kill(sig);
    },
    done,
  };
}

export const taskEnds = (events: readonly DroverEvent[]) => events.filter((e): e is Extract<DroverEvent, { type: 'task_end' }> => e.type === 'task_end');

/**
 * Kill a lab host as a power cut would: SIGKILL to its nspawn, the guest's whole tree and
 * anything else in its cgroups, all at once. Returns how many processes were killed.
 */
export function killLabHost(name: string): number {
  const s = readHostState(name);
  if (!s) throw new Error(`${name}: no lab state (is the lab up?)`);
  const pids = new Set<number>([...processTree(s.proc.pid), ...cgroupPids(s.cgroups)]);
  let killed = 0;
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
      killed++;
    } catch {
      // gone already
    }
  }
  return killed;
}

/** Run sh on a host; throws with the output on a non-zero exit. */
export async function onHost(host: string, command: string, timeoutMs = 60_000): Promise<string> {
  const r = await labSsh(host, command, { timeoutMs });
  if (r.code !== 0) throw new Error(`${host}: \`${command}\` exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

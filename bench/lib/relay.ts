// The lab bench over latency (--rtt): one relay (lab/latency-relay.ts) per lab host, listening
// on the lab bridge address inside the lab namespace, one port per host, delaying each
// direction by RTT/2; every tool reaches the hosts through it. Pure parts here (ports,
// inventory overlays, known_hosts, the delay check, turns per run), unit-tested in
// test/unit/lab/bench-relay.test.ts; RelayProcess runs lab/latency-relay-main.ts.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { formatNamedRoute, type NamedRoute, type RelayStats } from '../../lab/latency-relay.ts';

/** The first relay port; host i (inventory order of the bench's host list) listens on BASE + i. */
export const RELAY_BASE_PORT = 22200;

export interface RelayHost {
  name: string;
  /** The host's own address (its sshd on port 22). */
  address: string;
}

/** One route per host: listen on `listen`:base+i, forward to the host's sshd. */
export function relayRoutes(hosts: readonly RelayHost[], listen: string, base = RELAY_BASE_PORT): NamedRoute[] {
  if (base < 1024 || base + hosts.length > 65535) throw new Error(`relay ports ${base}..${base + hosts.length - 1} out of range`);
  return hosts.map((h, i) => ({ name: h.name, listenHost: listen, listenPort: base + i, targetHost: h.address, targetPort: 22 }));
}

/** Parse "0,20,80" (ms, round trip): non-negative integers, no duplicates, in the order given. */
export function parseRtts(s: string): number[] {
  const out = s.split(',').map((x) => x.trim()).filter(Boolean).map((x) => {
    if (!/^\d+$/.test(x)) throw new Error(`--rtt: "${x}" is not a whole number of milliseconds`);
    return Number(x);
  });
  if (!out.length) throw new Error('--rtt: no value');
  if (new Set(out).size !== out.length) throw new Error(`--rtt: a value is repeated (${s})`);
  return out;
}

/**
 * known_hosts for the relays: each host's key (from the lab's known_hosts, lines
 * `name,address type key`) under `[listen]:port`, as OpenSSH (and Drover) look a non-22 port
 * up. Strict checking stays on: a relay port reaching the wrong host fails the key check.
 */
export function relayKnownHosts(labKnownHosts: string, routes: readonly NamedRoute[]): string {
  const keys = new Map<string, string>();
  for (const line of labKnownHosts.split('\n')) {
    const [names, type, key] = line.trim().split(/\s+/);
    if (!names || !type || !key || names.startsWith('#') || names.startsWith('@')) continue;
    for (const n of names.split(',')) if (!keys.has(n)) keys.set(n, `${type} ${key}`);
  }
  return routes
    .map((r) => {
      const k = keys.get(r.name) ?? keys.get(r.targetHost);
      if (!k) throw new Error(`no host key for ${r.name} (${r.targetHost}) in the lab's known_hosts`);
      return `[${r.listenHost}]:${r.listenPort} ${k}\n`;
    })
    .join('');
}

/**
 * An inventory source given after the lab inventory (`-i inventory/lab.yaml -i overlay`): per
 * host, the connection address and port of its relay. Drover: drover_host/drover_port (they
 * win over ansible_host for the connection, and ansible_host stays the address peers use, so
 * /etc/hosts, HAProxy backends etc. render the same bytes) and drover_known_hosts. Ansible:
 * ansible_host/ansible_port (its playbook copies rendered files and reads no addresses);
 * its known_hosts goes on the ssh command line.
 */
export function relayOverlay(routes: readonly NamedRoute[], tool: 'drover' | 'ansible', knownHostsFile: string): string {
  const lines = ['# Written by bench/lab.ts (--rtt): every lab host through its latency relay.', 'all:', '  hosts:'];
  for (const r of routes) {
    const vars =
      tool === 'drover'
        ? { drover_host: r.listenHost, drover_port: r.listenPort, drover_known_hosts: knownHostsFile }
        : { ansible_host: r.listenHost, ansible_port: r.listenPort };
    lines.push(`    ${r.name}: ${JSON.stringify(vars)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Replace the known_hosts file in a lab ssh argv (lab/keys.ts sshArgs) with another; throws if it has none. */
export function withKnownHosts(argv: readonly string[], file: string): string[] {
  let n = 0;
  const out = argv.map((a) => (a.startsWith('UserKnownHostsFile=') ? (n++, `UserKnownHostsFile=${file}`) : a));
  if (n !== 1) throw new Error(`expected one UserKnownHostsFile option in ${argv.join(' ')}`);
  return out;
}

export interface DelayCheck {
  name: string;
  /** Median ping-pong through the relay to the host, and straight to the host. */
  relayMs: number;
  directMs: number;
  /** Median of what the relay added to each ping-pong (through it, minus the time beyond it: sshd's own). */
  addedMs: number;
}

/**
 * The delay each relay adds to a round trip must be the RTT asked for within `toleranceMs`;
 * returns the failures, worded for the log (empty: all good). What it added is measured per
 * exchange (through it, minus the time beyond it), not as through-minus-straight from two
 * separate samples: sshd's own answer time varies by tens of ms on a loaded machine.
 */
export function delayProblems(checks: readonly DelayCheck[], rttMs: number, toleranceMs: number): string[] {
  return checks.flatMap((c) => {
    const added = c.addedMs;
    return Math.abs(added - rttMs) > toleranceMs ? [`${c.name}: the relay adds ${added.toFixed(2)} ms to a round trip, not ${rttMs} ms (+-${toleranceMs})`] : [];
  });
}

export interface TurnsOfRun {
  /** Round trips per host in this run: mean over the run's hosts, and the largest. */
  meanPerHost: number;
  maxPerHost: number;
  connections: number;
}

/** Turns counted in one run: the difference of two readings, over the run's hosts. */
export function turnsOfRun(before: Readonly<Record<string, RelayStats>>, after: Readonly<Record<string, RelayStats>>, hosts: readonly string[]): TurnsOfRun {
  let sum = 0;
  let max = 0;
  let connections = 0;
  for (const h of hosts) {
    const a = after[h];
    if (!a) throw new Error(`the relay has no route for ${h}`);
    const b = before[h] ?? { turns: 0, connections: 0, bytesUp: 0, bytesDown: 0 };
    const t = a.turns - b.turns;
    sum += t;
    max = Math.max(max, t);
    connections += a.connections - b.connections;
  }
  return { meanPerHost: hosts.length ? sum / hosts.length : 0, maxPerHost: max, connections };
}

/** Drover's own count per host from its --json recap (`hosts[name].roundTrips`), when the engine reports it. */
export function droverRoundTrips(recap: { hosts?: Record<string, { roundTrips?: unknown }> }): number | undefined {
  const xs = Object.values(recap.hosts ?? {}).map((h) => h.roundTrips);
  if (!xs.length || !xs.every((x): x is number => typeof x === 'number')) return undefined;
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

type Proc = ChildProcessByStdio<Writable, Readable, Readable>;

/** lab/latency-relay-main.ts running inside the lab namespace; one command at a time. */
export class RelayProcess {
  private lines: Interface;
  private waiting: Array<(line: string) => void> = [];
  private stderr = '';
  private constructor(
    private readonly child: Proc,
    readonly oneWayMs: number,
  ) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (l) => this.waiting.shift()?.(l));
    child.stderr.on('data', (c: Buffer) => (this.stderr += c.toString()));
  }

  static async start(o: { netns: string; repo: string; routes: readonly NamedRoute[]; rttMs: number }): Promise<RelayProcess> {
    const argv = ['netns', 'exec', o.netns, process.execPath, '--import', 'tsx', 'lab/latency-relay-main.ts', '--one-way-ms', String(o.rttMs / 2), ...o.routes.flatMap((r) => ['--route', formatNamedRoute(r)])];
    const child = spawn('ip', argv, { cwd: o.repo, stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new RelayProcess(child, o.rttMs / 2);
    const ready = await p.next(30_000);
    if (!(JSON.parse(ready) as { ready?: boolean }).ready) throw new Error(`latency relay did not start: ${ready}`);
    return p;
  }

  private next(timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`latency relay: no answer in ${timeoutMs} ms ${this.stderr.trim()}`)), timeoutMs);
      const onExit = (code: number | null) => reject(new Error(`latency relay exited (${code}): ${this.stderr.trim()}`));
      this.child.once('exit', onExit);
      this.waiting.push((l) => {
        clearTimeout(t);
        this.child.off('exit', onExit);
        resolve(l);
      });
    });
  }

  private async ask<T>(cmd: string, timeoutMs: number): Promise<T> {
    const answer = this.next(timeoutMs);
    this.child.stdin.write(`${cmd}\n`);
    const o = JSON.parse(await answer) as T & { error?: string };
    if (o.error) throw new Error(`latency relay: ${o.error}`);
    return o;
  }

  stats(): Promise<{ stats: Record<string, RelayStats>; cpuMs: number }> {
    return this.ask('stats', 10_000);
  }

  /** The SSH banner ping-pong through every relay and straight to each host, `rounds` each. */
  async check(rounds: number): Promise<DelayCheck[]> {
    const o = await this.ask<{ check: Record<string, { relayMs: number; directMs: number; addedMs: number }> }>(`check ${rounds}`, 300_000);
    return Object.entries(o.check).map(([name, c]) => ({ name, relayMs: c.relayMs, directMs: c.directMs, addedMs: c.addedMs }));
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await done;
    clearTimeout(t);
  }
}

// Counts per host as the run goes, and the final exit code (Ansible's: 2 failed hosts,
// 4 unreachable, 6 both; 130 when the user stopped the run).
import { EXIT } from '../errors.ts';
import type { TaskStatus } from '../report/events.ts';
import type { HostRecap, Recap, SlowTask } from './options.ts';

const SLOWEST = 5;

export function exitCodeFor(s: { failed: boolean; unreachable: boolean; aborted: boolean }): number {
  if (s.aborted) return EXIT.interrupted;
  return (s.failed ? EXIT.failedHosts : 0) | (s.unreachable ? EXIT.unreachable : 0);
}

export class RecapBuilder {
  private readonly hosts = new Map<string, HostRecap>();
  private readonly failedHosts = new Set<string>();
  private readonly unreachableHosts = new Set<string>();
  private slow: SlowTask[] = [];

  /** Make sure a host shows in the recap even if nothing ran on it. */
  touch(host: string): HostRecap {
    let h = this.hosts.get(host);
    if (!h) {
      h = { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, durationMs: 0 };
      this.hosts.set(host, h);
    }
    return h;
  }

  /** As Ansible's recap: a changed result is also counted as ok. */
  count(host: string, status: TaskStatus): void {
    const h = this.touch(host);
    h[status]++;
    if (status === 'changed') h.ok++;
  }

  addTime(host: string, ms: number): void {
    this.touch(host).durationMs += ms;
  }

  task(t: SlowTask): void {
    this.slow.push(t);
    if (this.slow.length > SLOWEST * 4) this.trim();
  }

  markFailed(host: string): void {
    this.failedHosts.add(host);
  }

  markUnreachable(host: string): void {
    this.unreachableHosts.add(host);
  }

  /** Network round trips of the host's transport (lib/transport/round-trips.ts). */
  roundTrips(host: string, r: { total: number; connect: number }): void {
    const h = this.touch(host);
    h.roundTrips = r.total;
    h.connectRoundTrips = r.connect;
  }

  addAborted(host: string, n: number): void {
    if (n <= 0) return;
    const h = this.touch(host);
    h.aborted = (h.aborted ?? 0) + n;
  }

  /** A host's counts kept aside (a check-first pass, lib/run/runner.ts), added to this recap. */
  merge(host: string, from: RecapBuilder): void {
    const h = this.touch(host);
    const o = from.touch(host);
    for (const k of ['ok', 'changed', 'failed', 'skipped', 'unreachable'] as const) h[k] += o[k];
    h.durationMs += o.durationMs;
    if (o.aborted) h.aborted = (h.aborted ?? 0) + o.aborted;
    for (const t of from.slow) this.task(t);
    if (from.failedHosts.has(host)) this.markFailed(host);
    if (from.unreachableHosts.has(host)) this.markUnreachable(host);
  }

  private trim(): void {
    this.slow = this.slow.sort((a, b) => b.durationMs - a.durationMs).slice(0, SLOWEST);
  }

  build(durationMs: number, aborted: boolean): Recap {
    this.trim();
    const exitCode = exitCodeFor({ failed: this.failedHosts.size > 0, unreachable: this.unreachableHosts.size > 0, aborted });
    const hosts: Record<string, HostRecap> = {};
    for (const [k, v] of this.hosts) hosts[k] = { ...v, durationMs: Math.round(v.durationMs) };
    return { hosts, durationMs: Math.round(durationMs), exitCode, ...(aborted ? { aborted: true } : {}), slowest: [...this.slow] };
  }
}

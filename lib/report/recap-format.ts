// PLAY RECAP as Ansible prints it (one line per host, key=value columns), plus per-host
// time, the slowest task runs and the exit code, so a CI log answers "where did it fail"
// and "where did the time go" without scrolling.
import { redact } from '../secrets/redact.ts';
import type { RecapEvent } from './events.ts';
import { formatDuration, taskLabel } from './format.ts';

export interface SlowTaskLine {
  host: string;
  role?: string;
  task: string;
  durationMs: number;
  handler?: boolean;
}

export type RecapSummary = Omit<RecapEvent, 'type' | 'ts'> & { slowest?: readonly SlowTaskLine[] };

const EXIT_MEANING: Record<number, string> = {
  0: 'ok',
  2: 'failed hosts',
  4: 'unreachable hosts',
  6: 'failed and unreachable hosts',
  130: 'interrupted',
};

export interface RecapFormatOptions {
  /** -v: each host's network round trips (and how many opened its connection). */
  roundTrips?: boolean;
}

export function formatRecap(recap: RecapSummary, options: RecapFormatOptions = {}): string {
  const hosts = Object.entries(recap.hosts);
  const width = Math.max(26, ...hosts.map(([h]) => h.length + 1));
  const col = (k: string, v: number) => `${k}=${v}`.padEnd(k.length + 6);
  const lines = [`PLAY RECAP ${'*'.repeat(69)}`];
  for (const [host, r] of hosts) {
    let line = `${host.padEnd(width)}: ${col('ok', r.ok)}${col('changed', r.changed)}${col('unreachable', r.unreachable)}${col('failed', r.failed)}${col('skipped', r.skipped)}`;
    if (recap.aborted) line += col('aborted', r.aborted ?? 0);
    line += `time=${formatDuration(r.durationMs)}`;
    if (options.roundTrips && r.roundTrips !== undefined) line += `  roundtrips=${r.roundTrips} (connect ${r.connectRoundTrips ?? 0})`;
    lines.push(line);
  }
  if (hosts.length === 0) lines.push('(no hosts ran)');
  const slow = (recap.slowest ?? []).filter((t) => t.durationMs > 0);
  if (slow.length) {
    lines.push('', 'Slowest tasks:');
    const w = Math.max(...slow.map((t) => formatDuration(t.durationMs).length));
    for (const t of slow) lines.push(`  ${formatDuration(t.durationMs).padStart(w)}  ${t.host}  ${t.handler ? 'handler ' : ''}${taskLabel(t.role, t.task)}`);
  }
  lines.push('');
  const meaning = EXIT_MEANING[recap.exitCode];
  lines.push(`Total ${formatDuration(recap.durationMs)}, exit code ${recap.exitCode}${meaning ? ` (${meaning})` : ''}`);
  if (recap.aborted) {
    const notRun = hosts.reduce((n, [, r]) => n + (r.aborted ?? 0), 0);
    lines.push(`ABORTED by the user: ${notRun} task${notRun === 1 ? '' : 's'} not run`);
  }
  return redact(lines.join('\n'));
}

/** Keeps the N slowest task runs seen in an event stream (for reporters). */
export class SlowestTasks {
  private list: SlowTaskLine[] = [];
  constructor(private readonly keep = 5) {}
  add(t: SlowTaskLine): void {
    this.list.push(t);
    if (this.list.length > this.keep * 4) this.trim();
  }
  private trim(): void {
    this.list = this.list.sort((a, b) => b.durationMs - a.durationMs).slice(0, this.keep);
  }
  get(): SlowTaskLine[] {
    this.trim();
    return [...this.list];
  }
}

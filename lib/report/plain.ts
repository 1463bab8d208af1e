// Line-per-event output for non-TTY runs (CI, Terraform local-exec, pipes). Stable and
// grep-friendly: each result line starts with a keyword and carries host, role, task,
// status and duration (format in README.md). No colours, no cursor movement.
import { redact } from '../secrets/redact.ts';
import { unifiedDiffLines } from './diff.ts';
import type { DroverEvent, EventOf, EventSink } from './events.ts';
import { formatDuration, indentBlock, taskLabel, type OutStream } from './format.ts';
import { formatRecap, SlowestTasks } from './recap-format.ts';

export interface PlainReporterOptions {
  out?: OutStream;
  /** 0: results; 1 (-v): + debug logs, notifications, play ends; 2 (-vv): + task starts, host states. */
  verbosity?: number;
  /** --diff: print content diffs of changed tasks. */
  diff?: boolean;
  /** Print stdout of failed tasks too (stderr is always printed). Default true. */
  failedStdout?: boolean;
}

export class PlainReporter implements EventSink {
  private readonly out: OutStream;
  private readonly verbosity: number;
  private readonly diff: boolean;
  private readonly failedStdout: boolean;
  private readonly slowest = new SlowestTasks();

  constructor(opts: PlainReporterOptions = {}) {
    this.out = opts.out ?? process.stdout;
    this.verbosity = opts.verbosity ?? 0;
    this.diff = opts.diff ?? false;
    this.failedStdout = opts.failedStdout ?? true;
  }

  emit(event: DroverEvent): void {
    const lines = this.format(event);
    if (lines.length) this.out.write(redact(lines.join('\n')) + '\n');
  }

  format(e: DroverEvent): string[] {
    const v = this.verbosity;
    switch (e.type) {
      case 'run_start':
        return [`RUN [${e.playbook}] ${e.hosts.length} host${e.hosts.length === 1 ? '' : 's'}, forks ${e.forks}${e.check ? ', check mode' : ''}${e.diff ? ', diff' : ''}`];
      case 'play_start': {
        const how = [e.strategy, e.serial !== undefined ? `serial ${e.serial}` : ''].filter(Boolean).join(', ');
        return [`PLAY [${e.play}] hosts: ${e.hosts.join(', ') || '(none)'} (${how})`];
      }
      case 'play_end':
        return v >= 1 ? [`PLAY END [${e.play}] (${formatDuration(e.durationMs)})`] : [];
      case 'task_start':
        return v >= 2 ? [`START [${taskLabel(e.role, e.task)}] ${e.host}${e.handler ? ' (handler)' : ''}`] : [];
      case 'task_end':
        this.slowest.add({ host: e.host, role: e.role, task: e.task, durationMs: e.durationMs, handler: e.handler });
        return this.taskEnd(e);
      case 'handler_notify':
        return v >= 1 ? [`NOTIFY [${e.host}] ${e.handler} <- ${e.by}`] : [];
      case 'host_state':
        if (e.state === 'unreachable') return [`UNREACHABLE [${e.host}]${e.msg ? ` ${e.msg}` : ''}`];
        return v >= 2 ? [`HOST [${e.host}] ${e.state}${e.msg ? `: ${e.msg}` : ''}`] : [];
      case 'log':
        if (e.level === 'debug' && v < 1) return [];
        return [`${e.level.toUpperCase()}${e.host ? ` [${e.host}]` : ''} ${e.msg}`];
      case 'recap':
        return ['', formatRecap({ ...e, slowest: this.slowest.get() }, { roundTrips: v >= 1 })];
    }
  }

  private taskEnd(e: EventOf<'task_end'>): string[] {
    const kw = e.handler ? 'HANDLER' : 'TASK';
    const host = e.delegatedTo ? `${e.host} -> ${e.delegatedTo}` : e.host;
    const attempts = e.attempts !== undefined && e.attempts > 1 ? ` attempts=${e.attempts}` : '';
    const lines = [`${kw} [${taskLabel(e.role, e.task)}] ${host} ${e.status} (${formatDuration(e.durationMs)})${attempts}${e.msg ? `: ${firstLine(e.msg)}` : ''}`];
    const failed = e.status === 'failed' || e.status === 'unreachable';
    if (failed || this.verbosity >= 1) {
      const rest = e.msg?.includes('\n') ? e.msg.slice(e.msg.indexOf('\n') + 1) : '';
      if (rest.trim()) lines.push(...indentBlock(rest));
      if (failed && e.rc !== undefined && e.rc !== null && e.rc !== 0) lines.push(`    rc: ${e.rc}`);
      if (e.stderr?.trim()) lines.push('    stderr:', ...indentBlock(e.stderr, '      '));
      if (e.stdout?.trim() && ((failed && this.failedStdout) || this.verbosity >= 2)) lines.push('    stdout:', ...indentBlock(e.stdout, '      '));
    }
    if (this.diff && e.diff?.length) {
      for (const d of e.diff) lines.push(...unifiedDiffLines(d.before, d.after, d.path).map((l) => '    ' + l));
    }
    return lines;
  }
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

// The scroll-back as text: play titles, finished tasks (a failure's stderr indented under it,
// a diff under --diff), handler notifications, hosts that dropped out, log lines, the recap.
// Printed once above the live area and never redrawn, so they are plain strings, styled with
// escape codes (style.ts), not Ink components.
import type { RecapEvent } from '../lib/report/events.ts';
import { diffLines } from '../lib/report/diff.ts';
import { formatDuration, STATUS_COLOR, tailLines, taskLabel, type Color } from './format.ts';
import type { SlowTask, StaticItem, TaskResult } from './state.ts';
import { paint, type Style } from './style.ts';

export const OUTPUT_TAIL = 20;

type Paint = (text: string, style?: Style) => string;

const LOG_COLOR = { debug: 'gray', info: 'white', warn: 'yellow', error: 'red' } as const;

/** The lines of scroll-back items, in order; `hostWidth` aligns host names across lines. */
export function scrollbackLines(items: readonly StaticItem[], hostWidth: number, colors: boolean): string[] {
  const p: Paint = (text, style = {}) => paint(text, style, colors);
  const out: string[] = [];
  for (const item of items) out.push(...itemLines(item, hostWidth, p));
  return out;
}

function itemLines(item: StaticItem, hostWidth: number, p: Paint): string[] {
  switch (item.kind) {
    case 'play': {
      const how = [`${item.hosts} host${item.hosts === 1 ? '' : 's'}`, item.strategy, item.serial !== undefined ? `serial ${item.serial}` : undefined].filter(Boolean);
      return [p(`PLAY ${item.play}`, { bold: true, color: 'cyan' }) + p(`  ${how.join(' · ')}`, { dim: true })];
    }
    case 'task':
      return taskLines(item.result, item.showDiff, hostWidth, p);
    case 'notify':
      return [p(`${'notify'.padEnd(12)}${item.host.padEnd(hostWidth + 1)}handler: ${item.handler} (by ${item.by})`, { dim: true })];
    case 'host': {
      const color: Color = item.state === 'failed' ? 'red' : 'magenta';
      const why = item.msg ?? (item.state === 'failed' ? 'host failed' : 'host unreachable');
      return [p(item.state.padEnd(12), { color, bold: true }) + p(item.host.padEnd(hostWidth + 1), { bold: true }) + p(why, { color })];
    }
    case 'log':
      return [p(`${item.level.padEnd(12)}${item.host !== undefined ? item.host.padEnd(hostWidth + 1) : ''}${item.msg}`, { color: LOG_COLOR[item.level] })];
    case 'recap':
      return recapLines(item.recap, item.order, item.slowest, p);
  }
}

function outputLines(text: string, p: Paint, color?: 'red'): string[] {
  const { lines, omitted } = tailLines(text, OUTPUT_TAIL);
  const style: Style = color ? { color } : { dim: true };
  return [...(omitted > 0 ? [p(`    │ ... ${omitted} earlier lines`, { dim: true })] : []), ...lines.map((l) => p(`    │ ${l}`, style))];
}

function taskLines(r: TaskResult, showDiff: boolean, hostWidth: number, p: Paint): string[] {
  const bad = r.status === 'failed' || r.status === 'unreachable';
  const extra = [
    r.attempts !== undefined && r.attempts > 0 ? `after ${r.attempts} retries` : undefined,
    r.delegatedTo ? `via ${r.delegatedTo}` : undefined,
    bad && r.rc !== undefined && r.rc !== null ? `rc=${r.rc}` : undefined,
  ].filter((x): x is string => x !== undefined);
  const stderr = r.stderr?.trim() ? r.stderr : undefined;
  // Without stderr, a failure's stdout is the next best clue.
  const stdout = bad && !stderr && r.stdout?.trim() ? r.stdout : undefined;
  const head =
    p(r.status.padEnd(12), { color: STATUS_COLOR[r.status], bold: bad }) +
    p(r.host.padEnd(hostWidth + 1), { bold: true }) +
    taskLabel(r) +
    p(`  ${formatDuration(r.durationMs)}${extra.length ? `  (${extra.join(', ')})` : ''}`, { dim: true }) +
    // One line: a message quoting a multi-line command would otherwise break the columns.
    (r.msg ? p(`  ${r.msg.replace(/\s*\n\s*/g, ' ')}`, bad ? { color: 'red' } : { dim: true }) : '');
  return [
    head,
    ...(bad && stderr ? outputLines(stderr, p, 'red') : []),
    ...(stdout ? outputLines(stdout, p) : []),
    ...(showDiff && r.diff ? diffViewLines(r.diff, p) : []),
  ];
}

function diffViewLines(diffs: readonly { path: string; before: string; after: string }[], p: Paint, indent = 4): string[] {
  const pad = ' '.repeat(indent);
  const out: string[] = [];
  for (const d of diffs) {
    out.push(p(`${pad}--- ${d.path} (before)`, { bold: true }), p(`${pad}+++ ${d.path} (after)`, { bold: true }));
    for (const l of diffLines(d.before, d.after)) {
      if (l.kind === 'gap') out.push(p(`${pad}  ⋯ ${l.count} unchanged line${l.count === 1 ? '' : 's'}`, { dim: true }));
      else if (l.kind === 'add') out.push(p(`${pad}+ ${l.text}`, { color: 'green' }));
      else if (l.kind === 'del') out.push(p(`${pad}- ${l.text}`, { color: 'red' }));
      else out.push(p(`${pad}  ${l.text}`, { dim: true }));
    }
  }
  return out;
}

type Row = RecapEvent['hosts'][string];
type Col = { title: string; value: (r: Row) => number; color: Color };

const COLS: readonly Col[] = [
  { title: 'ok', value: (r) => r.ok, color: 'green' },
  { title: 'changed', value: (r) => r.changed, color: 'yellow' },
  { title: 'failed', value: (r) => r.failed, color: 'red' },
  { title: 'unreachable', value: (r) => r.unreachable, color: 'magenta' },
  { title: 'skipped', value: (r) => r.skipped, color: 'cyan' },
];
const ABORTED: Col = { title: 'aborted', value: (r) => r.aborted ?? 0, color: 'yellow' };

/** The final summary: per-host counts and durations, the run's total, the slowest tasks. */
function recapLines(recap: RecapEvent, order: readonly string[], slowest: readonly SlowTask[], p: Paint): string[] {
  // Hosts in first-appearance order; hosts only in the recap follow.
  const names = [...order.filter((n) => n in recap.hosts), ...Object.keys(recap.hosts).filter((n) => !order.includes(n))];
  const rows = names.map((n) => [n, recap.hosts[n]] as const).filter((e): e is readonly [string, Row] => e[1] !== undefined);
  const abortedTasks = rows.reduce((s, [, r]) => s + (r.aborted ?? 0), 0);
  const cols = recap.aborted || abortedTasks > 0 ? [...COLS, ABORTED] : COLS;
  const nameWidth = Math.max(4, ...names.map((n) => n.length)) + 2;
  const hostsFailed = rows.filter(([, r]) => r.failed > 0 || r.unreachable > 0).length;
  const out = [
    '',
    p('PLAY RECAP ', { bold: true }) + p(`${rows.length} host${rows.length === 1 ? '' : 's'} · ${formatDuration(recap.durationMs)} · exit ${recap.exitCode}`, { bold: true, dim: true }),
  ];
  if (recap.aborted) {
    out.push(p(`aborted: stopped on request${abortedTasks > 0 ? `, ${abortedTasks} task${abortedTasks === 1 ? '' : 's'} not run` : ''}`, { color: 'yellow', bold: true }));
  }
  out.push(p('host'.padEnd(nameWidth) + cols.map((c) => c.title + '  ').join('') + 'time', { dim: true }));
  for (const [name, r] of rows) {
    const bad = r.failed > 0 || r.unreachable > 0;
    const cells = cols.map((c) => {
      const v = c.value(r);
      return p(String(v).padStart(c.title.length) + '  ', v > 0 ? { color: c.color } : { dim: true });
    });
    out.push(p(name.padEnd(nameWidth), { bold: true, color: bad ? 'red' : r.changed > 0 ? 'yellow' : 'green' }) + cells.join('') + formatDuration(r.durationMs));
  }
  if (hostsFailed > 0) out.push(p(`${hostsFailed} host${hostsFailed === 1 ? '' : 's'} failed or unreachable`, { color: 'red' }));
  if (slowest.length > 0) {
    out.push('', p(`slowest ${slowest.length === 1 ? 'task' : `${slowest.length} tasks`}`, { bold: true }));
    for (const t of slowest) out.push(`  ${formatDuration(t.durationMs).padStart(7)}  ` + p(t.host.padEnd(nameWidth), { bold: true }) + taskLabel(t));
  }
  return out;
}

// The final summary: per-host counts and durations, the run's total, and the slowest tasks.
import { Box, Text } from 'ink';
import type { RecapEvent } from '../../lib/report/events.ts';
import type { SlowTask } from '../state.ts';
import { formatDuration, taskLabel, type Color } from '../format.ts';

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

export interface RecapProps {
  recap: RecapEvent;
  /** Host order to list them in (first appearance); hosts only in the recap follow. */
  order: readonly string[];
  slowest: readonly SlowTask[];
}

export function Recap({ recap, order, slowest }: RecapProps) {
  const names = [...order.filter((n) => n in recap.hosts), ...Object.keys(recap.hosts).filter((n) => !order.includes(n))];
  const rows = names.map((n) => [n, recap.hosts[n]] as const).filter((e): e is readonly [string, Row] => e[1] !== undefined);
  const abortedTasks = rows.reduce((s, [, r]) => s + (r.aborted ?? 0), 0);
  const cols = recap.aborted || abortedTasks > 0 ? [...COLS, ABORTED] : COLS;
  const nameWidth = Math.max(4, ...names.map((n) => n.length)) + 2;
  const cell = (c: Col, v: number) => String(v).padStart(c.title.length) + '  ';
  const hostsFailed = rows.filter(([, r]) => r.failed > 0 || r.unreachable > 0).length;
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>
        {'PLAY RECAP '}
        <Text dimColor>{`${rows.length} host${rows.length === 1 ? '' : 's'} · ${formatDuration(recap.durationMs)} · exit ${recap.exitCode}`}</Text>
      </Text>
      {recap.aborted && (
        <Text color="yellow" bold>
          {`aborted: stopped on request${abortedTasks > 0 ? `, ${abortedTasks} task${abortedTasks === 1 ? '' : 's'} not run` : ''}`}
        </Text>
      )}
      <Text dimColor>{'host'.padEnd(nameWidth) + cols.map((c) => c.title + '  ').join('') + 'time'}</Text>
      {rows.map(([name, r]) => {
        const bad = r.failed > 0 || r.unreachable > 0;
        return (
          <Text key={name}>
            <Text bold color={bad ? 'red' : r.changed > 0 ? 'yellow' : 'green'}>
              {name.padEnd(nameWidth)}
            </Text>
            {cols.map((c) => {
              const v = c.value(r);
              return (
                <Text key={c.title} color={v > 0 ? c.color : undefined} dimColor={v === 0}>
                  {cell(c, v)}
                </Text>
              );
            })}
            <Text>{formatDuration(r.durationMs)}</Text>
          </Text>
        );
      })}
      {hostsFailed > 0 && <Text color="red">{`${hostsFailed} host${hostsFailed === 1 ? '' : 's'} failed or unreachable`}</Text>}
      {slowest.length > 0 && (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>{`slowest ${slowest.length === 1 ? 'task' : `${slowest.length} tasks`}`}</Text>
          {slowest.map((t, i) => (
            <Text key={i}>
              <Text>{`  ${formatDuration(t.durationMs).padStart(7)}  `}</Text>
              <Text bold>{t.host.padEnd(nameWidth)}</Text>
              <Text>{taskLabel(t)}</Text>
            </Text>
          ))}
        </Box>
      )}
    </Box>
  );
}

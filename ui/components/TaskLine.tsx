// A finished task as printed once above the live rows: status, host, role › task, time;
// a failure adds its message and stderr indented; a changed task under --diff adds its diff.
import { Box, Text } from 'ink';
import type { TaskResult } from '../state.ts';
import { formatDuration, STATUS_COLOR, tailLines, taskLabel } from '../format.ts';
import { DiffView } from './DiffView.tsx';

export const OUTPUT_TAIL = 20;

function Output({ text, color }: { text: string; color?: 'red' }) {
  const { lines, omitted } = tailLines(text, OUTPUT_TAIL);
  return (
    <Box flexDirection="column">
      {omitted > 0 && <Text dimColor>{`    │ ... ${omitted} earlier lines`}</Text>}
      {lines.map((l, i) => (
        <Text key={i} color={color} dimColor={color === undefined}>{`    │ ${l}`}</Text>
      ))}
    </Box>
  );
}

export function TaskLine({ result: r, showDiff, hostWidth }: { result: TaskResult; showDiff: boolean; hostWidth: number }) {
  const bad = r.status === 'failed' || r.status === 'unreachable';
  const extra = [
    r.attempts !== undefined && r.attempts > 0 ? `after ${r.attempts} retries` : undefined,
    r.delegatedTo ? `via ${r.delegatedTo}` : undefined,
    bad && r.rc !== undefined && r.rc !== null ? `rc=${r.rc}` : undefined,
  ].filter((x): x is string => x !== undefined);
  const stderr = r.stderr?.trim() ? r.stderr : undefined;
  // Without stderr, a failure's stdout is the next best clue.
  const stdout = bad && !stderr && r.stdout?.trim() ? r.stdout : undefined;
  return (
    <Box flexDirection="column">
      <Text>
        <Text color={STATUS_COLOR[r.status]} bold={bad}>
          {r.status.padEnd(12)}
        </Text>
        <Text bold>{r.host.padEnd(hostWidth + 1)}</Text>
        <Text>{taskLabel(r)}</Text>
        <Text dimColor>{`  ${formatDuration(r.durationMs)}${extra.length ? `  (${extra.join(', ')})` : ''}`}</Text>
        {r.msg ? <Text color={bad ? 'red' : undefined} dimColor={!bad}>{`  ${r.msg}`}</Text> : null}
      </Text>
      {bad && stderr && <Output text={stderr} color="red" />}
      {stdout && <Output text={stdout} />}
      {showDiff && r.diff && r.diff.length > 0 && <DiffView diffs={r.diff} />}
    </Box>
  );
}

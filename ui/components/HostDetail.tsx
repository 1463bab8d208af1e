// The verbose panel for the selected host: its last tasks and its latest stderr.
import { Box, Text } from 'ink';
import { RECENT_PER_HOST, type HostView } from '../state.ts';
import { formatDuration, STATUS_COLOR, tailLines, taskLabel } from '../format.ts';

export const STDERR_TAIL = 3;
/** Lines the panel can take: title, recent tasks, stderr title + tail + "more". */
export const DETAIL_HEIGHT = 1 + RECENT_PER_HOST + 2 + STDERR_TAIL;

export function HostDetail({ host }: { host: HostView }) {
  const err = host.lastStderr ? tailLines(host.lastStderr, STDERR_TAIL) : undefined;
  return (
    <Box flexDirection="column" marginLeft={2}>
      <Text bold>{`${host.name} (verbose)`}</Text>
      {host.recent.length === 0 && <Text dimColor>  no finished task yet</Text>}
      {host.recent.map((r, i) => (
        <Text key={i} wrap="truncate-end">
          <Text color={STATUS_COLOR[r.status]}>{`  ${r.status.padEnd(11)}`}</Text>
          <Text>{taskLabel(r)}</Text>
          <Text dimColor>{`  ${formatDuration(r.durationMs)}${r.msg ? `  ${r.msg}` : ''}`}</Text>
        </Text>
      ))}
      {err && (
        <>
          <Text dimColor>{`  last stderr${err.omitted > 0 ? ` (last ${err.lines.length} of ${err.lines.length + err.omitted} lines)` : ''}:`}</Text>
          {err.lines.map((l, i) => (
            <Text key={i} color="red" wrap="truncate-end">{`    │ ${l}`}</Text>
          ))}
        </>
      )}
    </Box>
  );
}

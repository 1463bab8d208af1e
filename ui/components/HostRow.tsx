// One live row per host: spinner or state glyph, name, state, counts, elapsed, current task.
// Few layout nodes (no Box per column): a 100-host screen re-renders often.
import { Box, Text } from 'ink';
import type { HostView } from '../state.ts';
import { formatDuration, PHASE_COLOR, PHASE_ICON, spinnerGlyph, taskLabel } from '../format.ts';

export const COL = { marker: 2, icon: 2, state: 12, count: 5, time: 8 } as const;

export interface HostRowProps {
  host: HostView;
  elapsedMs: number | undefined;
  now: number;
  nameWidth: number;
  selected: boolean;
  /** Show the selection marker column (only when the keyboard is live). */
  showMarker: boolean;
}

/** What the last column says: the running task, or why a host failed. */
export function hostActivity(host: HostView): string {
  switch (host.phase) {
    case 'waiting':
      return '';
    case 'failed':
    case 'unreachable': {
      const last = [...host.recent].reverse().find((r) => r.status === 'failed' || r.status === 'unreachable');
      const why = host.msg ?? last?.msg ?? (host.lastStderr?.trim().split('\n').pop() || undefined);
      const where = last ? taskLabel(last) : '';
      return [where, why].filter(Boolean).join(': ');
    }
    case 'ok':
    case 'changed':
      return host.pendingHandlers.length > 0 ? `handlers pending: ${host.pendingHandlers.join(', ')}` : 'done';
    default:
      return host.inTask ? taskLabel(host) : host.task ? `after ${taskLabel(host)}` : (host.msg ?? '');
  }
}

/** Fit a name in its column: pad, or cut with an ellipsis. */
function fit(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${text.slice(0, width - 1)}…`;
}

function num(value: number): string {
  return String(value).padStart(COL.count - 1) + ' ';
}

function Num({ value, color }: { value: number; color?: 'yellow' | 'red' | 'cyan' }) {
  return value > 0 && color ? <Text color={color}>{num(value)}</Text> : <Text dimColor={value === 0}>{num(value)}</Text>;
}

export function HostRow({ host, elapsedMs, now, nameWidth, selected, showMarker }: HostRowProps) {
  const spinning = host.phase === 'running' || host.phase === 'connecting';
  const color = PHASE_COLOR[host.phase];
  const c = host.counts;
  const bad = host.phase === 'failed' || host.phase === 'unreachable';
  const time = elapsedMs === undefined ? '' : formatDuration(elapsedMs);
  // Three text nodes, not one: Ink measures every text node's width on every frame, and a
  // string with any non-ASCII character (the glyph, "›") takes string-width's slow path
  // (Intl.Segmenter per character), half of a 36-row frame's cost. Kept apart, the long
  // middle part is pure ASCII (host names aside) and is measured on the fast path.
  return (
    <Box>
      <Box flexShrink={0}>
        <Text>
          {showMarker && <Text color="cyan">{selected ? '› ' : '  '}</Text>}
          <Text color={color}>{(spinning ? spinnerGlyph(now) : PHASE_ICON[host.phase]) + ' '}</Text>
        </Text>
      </Box>
      <Text wrap="truncate-end">
        <Text bold={selected}>{fit(host.name, nameWidth) + ' '}</Text>
        <Text color={color}>{host.phase.padEnd(COL.state)}</Text>
        <Num value={c.ok} />
        <Num value={c.changed} color="yellow" />
        <Num value={c.failed + c.unreachable} color="red" />
        <Num value={c.skipped} color="cyan" />
        <Text>{time.padStart(COL.time - 2) + '  '}</Text>
      </Text>
      {/* Takes exactly the width left (basis 0, grows): a long message is cut, the columns stay. */}
      <Box flexGrow={1} flexShrink={1} flexBasis={0}>
        <Text wrap="truncate-end" color={bad ? color : undefined} dimColor={!host.inTask}>
          {hostActivity(host)}
        </Text>
      </Box>
    </Box>
  );
}

/** The column titles above the rows, aligned with HostRow. */
export function HostHeader({ nameWidth, showMarker }: { nameWidth: number; showMarker: boolean }) {
  const nums = ['ok', 'chg', 'fail', 'skip'].map((t) => t.padStart(COL.count - 1) + ' ').join('');
  return (
    <Text dimColor wrap="truncate-end">
      {(showMarker ? ' '.repeat(COL.marker) : '') + ' '.repeat(COL.icon) + 'host'.padEnd(nameWidth + 1) + 'state'.padEnd(COL.state) + nums + 'time'.padStart(COL.time - 2) + '  task'}
    </Text>
  );
}

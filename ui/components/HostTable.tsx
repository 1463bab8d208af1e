// The live host rows, capped to maxRows lines with a "... and N more" summary line.
import { Box, Text } from 'ink';
import { hostElapsed, hostNameWidth, hostWindow, type UiState } from '../state.ts';
import { HostHeader, HostRow } from './HostRow.tsx';

export interface HostTableProps {
  state: UiState;
  /** Lines available for host rows, the summary line included. */
  maxRows: number;
  showMarker: boolean;
}

export function HostTable({ state, maxRows, showMarker }: HostTableProps) {
  const win = hostWindow(state, maxRows);
  const nameWidth = hostNameWidth(state);
  const selected = state.order[state.selected];
  return (
    <Box flexDirection="column">
      <HostHeader nameWidth={nameWidth} showMarker={showMarker} />
      {win.rows.map((h) => (
        <HostRow
          key={h.name}
          host={h}
          elapsedMs={hostElapsed(state, h)}
          now={state.now}
          nameWidth={nameWidth}
          selected={showMarker && h.name === selected}
          showMarker={showMarker}
        />
      ))}
      {win.hiddenCount > 0 && (
        <Text dimColor wrap="truncate-end">
          {`... and ${win.hiddenCount} more: ${win.hidden.map((p) => `${p.count} ${p.phase}`).join(', ')}`}
        </Text>
      )}
    </Box>
  );
}

// One line above the rows: playbook, current play, mode, progress and total time.
import { Text } from 'ink';
import { FINISHED, type UiState } from '../state.ts';
import { formatDuration } from '../format.ts';

export function Header({ state }: { state: UiState }) {
  const total = state.order.length;
  const done = state.order.filter((n) => {
    const h = state.hosts[n];
    return h !== undefined && FINISHED.has(h.phase);
  }).length;
  const parts = [
    state.play ? `play: ${state.play}` : undefined,
    state.check ? 'check mode' : undefined,
    total > 0 ? `${done}/${total} hosts done` : 'starting…',
    state.forks !== undefined ? `forks ${state.forks}` : undefined,
    state.runStartedAt !== undefined ? formatDuration(Math.max(0, state.now - state.runStartedAt)) : undefined,
  ].filter((p): p is string => p !== undefined);
  return (
    <Text wrap="truncate-end">
      <Text bold color="cyan">
        {`drover${state.playbook ? ` ${state.playbook}` : ''}`}
      </Text>
      <Text dimColor>{`  ${parts.join(' · ')}`}</Text>
    </Text>
  );
}

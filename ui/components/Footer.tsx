// The bottom line: the keys (when the keyboard is live) or the stopping notice.
import { Text } from 'ink';
import { isHostVerbose, selectedHost, type UiState } from '../state.ts';

export const STOPPING_TEXT = 'stopping: waiting for in-flight tasks... (Ctrl-C again to stop now)';

export function Footer({ state, keys }: { state: UiState; keys: boolean }) {
  if (state.aborting) return <Text color="yellow">{STOPPING_TEXT}</Text>;
  if (!keys) return null;
  const host = selectedHost(state);
  const verbose = host !== undefined && isHostVerbose(state, host);
  return (
    <Text dimColor wrap="truncate-end">
      {`q stop${host !== undefined ? ` · ↑/↓ select · v verbose ${host} (${verbose ? 'on' : 'off'})` : ''}`}
    </Text>
  );
}

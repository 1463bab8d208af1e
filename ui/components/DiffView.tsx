// --diff output under a changed task: per file, colored +/- lines with folded context.
import { Box, Text } from 'ink';
import { diffLines } from '../diff-lines.ts';

export interface FileDiff {
  path: string;
  before: string;
  after: string;
}

export function DiffView({ diffs, indent = 4 }: { diffs: readonly FileDiff[]; indent?: number }) {
  const pad = ' '.repeat(indent);
  return (
    <Box flexDirection="column">
      {diffs.map((d, k) => (
        <Box key={k} flexDirection="column">
          <Text bold>{`${pad}--- ${d.path} (before)`}</Text>
          <Text bold>{`${pad}+++ ${d.path} (after)`}</Text>
          {diffLines(d.before, d.after).map((l, i) => {
            if (l.kind === 'gap') return <Text key={i} dimColor>{`${pad}  ⋯ ${l.count} unchanged line${l.count === 1 ? '' : 's'}`}</Text>;
            if (l.kind === 'add') return <Text key={i} color="green">{`${pad}+ ${l.text}`}</Text>;
            if (l.kind === 'del') return <Text key={i} color="red">{`${pad}- ${l.text}`}</Text>;
            return <Text key={i} dimColor>{`${pad}  ${l.text}`}</Text>;
          })}
        </Box>
      ))}
    </Box>
  );
}

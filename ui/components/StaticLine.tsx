// One item of the scroll-back region (Ink <Static>): a play title, a finished task, a
// handler notification, a host that dropped out, a log line, or the recap.
import { Text } from 'ink';
import type { StaticItem } from '../state.ts';
import { TaskLine } from './TaskLine.tsx';
import { Recap } from './Recap.tsx';

const LOG_COLOR = { debug: 'gray', info: 'white', warn: 'yellow', error: 'red' } as const;

export function StaticLine({ item, hostWidth }: { item: StaticItem; hostWidth: number }) {
  switch (item.kind) {
    case 'play': {
      const how = [`${item.hosts} host${item.hosts === 1 ? '' : 's'}`, item.strategy, item.serial !== undefined ? `serial ${item.serial}` : undefined].filter(Boolean);
      return (
        <Text>
          <Text bold color="cyan">{`PLAY ${item.play}`}</Text>
          <Text dimColor>{`  ${how.join(' · ')}`}</Text>
        </Text>
      );
    }
    case 'task':
      return <TaskLine result={item.result} showDiff={item.showDiff} hostWidth={hostWidth} />;
    case 'notify':
      return <Text dimColor>{`${'notify'.padEnd(12)}${item.host.padEnd(hostWidth + 1)}handler: ${item.handler} (by ${item.by})`}</Text>;
    case 'host':
      return (
        <Text>
          <Text color={item.state === 'failed' ? 'red' : 'magenta'} bold>
            {item.state.padEnd(12)}
          </Text>
          <Text bold>{item.host.padEnd(hostWidth + 1)}</Text>
          <Text color={item.state === 'failed' ? 'red' : 'magenta'}>{item.msg ?? (item.state === 'failed' ? 'host failed' : 'host unreachable')}</Text>
        </Text>
      );
    case 'log':
      return (
        <Text color={LOG_COLOR[item.level]}>
          {`${item.level.padEnd(12)}${item.host !== undefined ? item.host.padEnd(hostWidth + 1) : ''}${item.msg}`}
        </Text>
      );
    case 'recap':
      return <Recap recap={item.recap} order={item.order} slowest={item.slowest} />;
  }
}

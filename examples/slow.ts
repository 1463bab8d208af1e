// A playbook that takes a few seconds, to watch the live UI (and to test it in tmux): a
// directory, a file that changes on every run, a 1-2 s command on each host, and an optional
// deliberate failure. Inside the lab namespace:
//   npx tsx examples/slow.ts -i inventory/lab.yaml -e fail_host=worker2
// fail_host names the host whose "deliberate failure" task fails (with a line on stderr);
// without it that task is skipped everywhere. slow_seconds scales the sleeps (default 1).
import { defineRole, main, ops, z } from 'drover';

const DIR = '/var/tmp/drover-slow';

/** 1 or 2 (times slow_seconds), stable per host name: rows finish at different times. */
function sleepFor(host: string, unit: number): number {
  let sum = 0;
  for (const ch of host) sum += ch.charCodeAt(0);
  return unit * (1 + (sum % 2));
}

const slow = defineRole({
  name: 'slow',
  vars: z.object({
    fail_host: z.string().optional(),
    slow_seconds: z.coerce.number().positive().default(1),
    // A new stamp each run, so the file task reports changed every time.
    slow_stamp: z.string().default(() => new Date().toISOString()),
  }),
  tasks: [
    { name: 'work directory', run: (c) => c.run(ops.directory(DIR, { mode: '0755' })) },
    { name: 'run stamp', run: (c) => c.run(ops.file(`${DIR}/stamp`, `last run ${c.vars.slow_stamp} on ${c.host}\n`, { mode: '0644' })) },
    { name: 'slow work', run: (c) => c.run(ops.command(`sleep ${sleepFor(c.host, c.vars.slow_seconds)}`)) },
    {
      name: 'deliberate failure',
      when: (c) => (c.vars.fail_host === c.host ? true : 'fail_host is another host'),
      run: (c) => c.run(ops.command(`echo "slow.ts: deliberate failure on $(hostname)" >&2; exit 3`)),
    },
    { name: 'more work', run: (c) => c.run(ops.command(`sleep ${c.vars.slow_seconds}`)) },
    { name: 'done marker', run: (c) => c.run(ops.file(`${DIR}/done`, `done ${c.vars.slow_stamp}\n`, { mode: '0644' })) },
  ],
});

await main({ name: 'slow', plays: [{ name: 'slow', hosts: 'all', roles: [slow] }] });

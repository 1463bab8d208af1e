// The playbook of test/lab/become.test.ts, run inside the lab namespace against one host that
// logs in as a non-root sudo user with ansible_become: true in the inventory. Three plays
// (become unset, false, true) each report who runs a command by every path a task has (ctx.$,
// ops.command with sudo unset/false/true, a raw transport exec) and who owns a file they
// write; a fourth play does what it must not in --check.
import { z } from 'zod';
import { main } from '../../../lib/cli/index.ts';
import { ops } from '../../../lib/ops/index.ts';
import { ok } from '../../../lib/ops/types.ts';
import { defineRole, type Play } from '../../../lib/run/types.ts';
import { BECOME_DIR, CHECK_MARKER } from './become-paths.ts';


const who = defineRole({
  name: 'who',
  vars: z.object({ become_case: z.string().default('') }),
  tasks: [
    { name: '$', run: async (c) => ok((await c.$`id -un`).stdout.trim()) },
    { name: 'command', run: async (c) => ok((await c.run(ops.command('id -un', { changedWhen: () => false }))).stdout?.trim()) },
    { name: 'command sudo:false', run: async (c) => ok((await c.run(ops.command('id -un', { sudo: false, changedWhen: () => false }))).stdout?.trim()) },
    { name: 'command sudo:true', run: async (c) => ok((await c.run(ops.command('id -un', { sudo: true, changedWhen: () => false }))).stdout?.trim()) },
    { name: 'transport', run: async (c) => ok((await c.transport.exec('id -un')).stdout.trim()) },
    {
      name: 'file',
      // As the user (become: false) the write fails; the host must go on to the next play.
      ignoreErrors: true,
      run: async (c) => {
        const path = `${BECOME_DIR}/${c.vars.become_case}`;
        const r = await c.run(ops.file(path, `${c.vars.become_case}\n`, { mode: '0644' }));
        if (r.status === 'failed') return r;
        return ok((await c.$.read`stat -c %U ${path}`).stdout.trim());
      },
    },
  ],
});

const checkMode = defineRole({
  name: 'check',
  vars: z.object({}),
  tasks: [
    { name: 'write directly', run: async (c) => (await c.$`touch ${CHECK_MARKER}`, ok('touched')) },
    { name: 'put directly', run: async (c) => (await c.transport.put(CHECK_MARKER, 'x\n'), ok('put')) },
    { name: 'read', run: async (c) => ok((await c.$.read`id -un`).stdout.trim()) },
  ],
});

/** A typo in a command (issue 13: it hung the pipelined shell), then a command that outlives the default bound. */
const faults = defineRole({
  name: 'faults',
  vars: z.object({}),
  tasks: [
    { name: 'typo', tags: ['typo'], ignoreErrors: true, run: (c) => c.run(ops.command("echo 'unterminated")) },
    { name: 'after the typo', tags: ['typo'], run: async (c) => ok((await c.$.read`echo still here`).stdout.trim()) },
    { name: 'too long', tags: ['bound'], ignoreErrors: true, run: (c) => c.run(ops.command('sleep 301; echo done')) },
    { name: 'after the bound', tags: ['bound'], run: async (c) => ok((await c.$.read`echo still here`).stdout.trim()) },
  ],
});

// --tags who: the three become plays; --tags checkmode --check: the check play; --tags typo / bound: the faults.
const plays: Play[] = [
  { name: 'inventory', hosts: 'all', roles: [who], tags: ['who'], vars: { become_case: 'inventory' } },
  { name: 'play-false', hosts: 'all', roles: [who], tags: ['who'], become: false, vars: { become_case: 'play-false' } },
  { name: 'play-true', hosts: 'all', roles: [who], tags: ['who'], become: true, vars: { become_case: 'play-true' } },
  { name: 'check', hosts: 'all', roles: [checkMode], tags: ['checkmode'] },
  { name: 'faults', hosts: 'all', roles: [faults] },
];
await main({ name: 'become', plays });

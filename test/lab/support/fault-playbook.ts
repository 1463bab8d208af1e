// The playbook the fault tests (test/lab/faults-*.test.ts) run, inside the lab namespace:
//   node --import tsx test/lab/support/fault-playbook.ts -i inventory/lab.yaml -e fault_run=r1 ...
// Everything it writes is under /var/tmp/drover-fault on each host, and every byte of it is
// a function of fault_run, so a test can tell "old" (another run's) from "new" content and
// from anything partial:
// - files f-a, f-b, f-c (64 KiB each) and, with fault_big_mb, big.bin (that many MiB, 0600);
// - with fault_sleep, a journal line "<run> begin" then, fault_sleep seconds later, "<run> end"
//   (a command that is not safe to repeat: it appends);
// - with fault_probe_sleep, a read-only probe that takes that long (safe to retry);
// - with fault_only, only that task (by name) runs: the others are skipped.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { main } from '../../../lib/cli/index.ts';
import { ops } from '../../../lib/ops/index.ts';
import { defineRole } from '../../../lib/run/types.ts';

export const FAULT_DIR = '/var/tmp/drover-fault';
export const SMALL_FILES = ['f-a', 'f-b', 'f-c'] as const;
const SMALL_BYTES = 64 * 1024;

/** The content of a small file for a run: deterministic, so a test can recompute it. */
export function smallContent(run: string, name: string): Buffer {
  const line = `${run} ${name} `;
  return Buffer.from(line.repeat(Math.ceil(SMALL_BYTES / line.length)).slice(0, SMALL_BYTES - 1) + '\n');
}

/** big.bin for a run: `mb` MiB of the run's own pattern. */
export function bigContent(run: string, mb: number): Buffer {
  const unit = Buffer.from(createHash('sha256').update(run).digest('hex') + '\n');
  return Buffer.alloc(mb * 1024 * 1024, unit);
}

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

const fault = defineRole({
  name: 'fault',
  vars: z.object({
    fault_run: z.string().min(1),
    fault_big_mb: z.coerce.number().int().nonnegative().default(0),
    fault_sleep: z.coerce.number().nonnegative().default(0),
    fault_probe_sleep: z.coerce.number().nonnegative().default(0),
    fault_only: z.string().optional(),
  }),
  tasks: [
    { name: 'directory', run: (c) => c.run(ops.directory(FAULT_DIR, { mode: '0755' })) },
    {
      name: 'big file',
      when: (c) => (c.vars.fault_only && c.vars.fault_only !== 'big file' ? 'fault_only' : c.vars.fault_big_mb > 0 || 'no fault_big_mb'),
      run: (c) => c.run(ops.file(`${FAULT_DIR}/big.bin`, bigContent(c.vars.fault_run, c.vars.fault_big_mb), { mode: '0600' })),
    },
    {
      name: 'slow probe',
      when: (c) => (c.vars.fault_only && c.vars.fault_only !== 'slow probe' ? 'fault_only' : c.vars.fault_probe_sleep > 0 || 'no fault_probe_sleep'),
      run: async (c) => {
        const out = await c.$.read`sleep ${c.vars.fault_probe_sleep}; cat ${FAULT_DIR}/f-a 2>/dev/null | head -c 40; echo`;
        return { status: 'ok', msg: `probed: ${out.stdout.trim()}` };
      },
    },
    {
      name: 'journal',
      when: (c) => (c.vars.fault_only && c.vars.fault_only !== 'journal' ? 'fault_only' : c.vars.fault_sleep > 0 || 'no fault_sleep'),
      run: (c) =>
        c.run(
          ops.command(
            `echo "${c.vars.fault_run} begin" >> ${FAULT_DIR}/journal; sleep ${c.vars.fault_sleep}; echo "${c.vars.fault_run} end" >> ${FAULT_DIR}/journal`,
          ),
        ),
    },
    {
      name: 'file f-a',
      when: (c) => (c.vars.fault_only && c.vars.fault_only !== 'file f-a' ? 'fault_only' : true),
      run: (c) => c.run(ops.file(`${FAULT_DIR}/f-a`, smallContent(c.vars.fault_run, 'f-a'), { mode: '0644' })),
    },
    {
      name: 'file f-b',
      when: (c) => (c.vars.fault_only && c.vars.fault_only !== 'file f-b' ? 'fault_only' : true),
      run: (c) => c.run(ops.file(`${FAULT_DIR}/f-b`, smallContent(c.vars.fault_run, 'f-b'), { mode: '0644' })),
    },
    {
      name: 'file f-c',
      when: (c) => (c.vars.fault_only && c.vars.fault_only !== 'file f-c' ? 'fault_only' : true),
      run: (c) => c.run(ops.file(`${FAULT_DIR}/f-c`, smallContent(c.vars.fault_run, 'f-c'), { mode: '0644' })),
    },
  ],
});

if (process.argv[1]?.endsWith('fault-playbook.ts')) {
  await main({ name: 'fault', plays: [{ name: 'fault', hosts: 'all', roles: [fault] }] });
}

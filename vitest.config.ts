import { defineConfig } from 'vitest/config';
import { LabOrder } from './test/lab-order.ts';
import { sourceAliases } from './test/source-aliases.ts';

// `drover`, `drover/testing`, `drover/roles/<name>` (the package's self-reference, as the
// playbooks import it) resolve to the TypeScript sources in tests, as tsc's customConditions do.
const resolve = { alias: sourceAliases() };

// Two projects: `unit` needs no host and runs in seconds; `lab` boots real hosts
// (root + systemd-nspawn) and is skipped with a printed reason when it cannot run,
// except under CI=true where a missing prerequisite is a failure (see test/lab/support/lab-env.ts).
export default defineConfig({
  test: {
    // Per-project sequencers are not supported: the order only matters for lab files.
    sequence: { sequencer: LabOrder },
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.{ts,tsx}'],
          testTimeout: 15_000,
        },
      },
      {
        resolve,
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.{ts,tsx}'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          // Lab tests share one booted lab and real hosts: run files one at a time.
          fileParallelism: false,
          sequence: { concurrent: false },
        },
      },
    ],
  },
});

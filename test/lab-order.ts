// Lab test files run one at a time against one shared lab, in this order: the transport and
// facts tests need no lab; role tests and the whole-site test share the booted lab; the lab's
// own lifecycle test runs last because it ends with `down` and checks nothing is left behind.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LAST = ['test/lab/site.test.ts', 'test/lab/tui-tmux.test.ts', 'test/lab/lab.test.ts'];
const FIRST = ['test/lab/transport.test.ts', 'test/lab/facts.test.ts', 'test/lab/engine.test.ts'];

function rank(file: string): number {
  const rel = file.slice(file.indexOf('test/lab/'));
  const f = FIRST.indexOf(rel);
  if (f >= 0) return f;
  const l = LAST.indexOf(rel);
  if (l >= 0) return 1000 + l;
  return 100;
}

export class LabOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => rank(a.moduleId) - rank(b.moduleId) || a.moduleId.localeCompare(b.moduleId));
  }
}

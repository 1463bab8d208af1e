// Run a real playbook the way a user (or Terraform) does: `npx tsx playbooks/<x>.ts -i ... --json`,
// as a child process inside the lab namespace, and hand back its exit code and parsed events.
import { EventSchema, type DroverEvent, type RecapEvent } from '../../../lib/report/events.ts';
import { labExec } from '../../../lab/index.ts';

export interface DroverRun {
  code: number | null;
  events: DroverEvent[];
  stdout: string;
  stderr: string;
  recap: RecapEvent | undefined;
  /** task_end events, flattened, for assertions. */
  tasks: Extract<DroverEvent, { type: 'task_end' }>[];
  /** Sum of `changed` over all hosts in the recap. */
  changed: number;
}

export async function runDrover(playbook: string, args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<DroverRun> {
  // `drover` from the sources being tested, not from dist/ (which only `npm run build` refreshes).
  const r = await labExec([process.execPath, '--conditions=drover-source', '--import', 'tsx', playbook, ...args, '--json'], { timeoutMs: opts.timeoutMs ?? 600_000 });
  const events: DroverEvent[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(`non-JSON line on stdout of ${playbook} --json: ${line}`);
    }
    events.push(EventSchema.parse(parsed));
  }
  const recap = events.find((e): e is RecapEvent => e.type === 'recap');
  const tasks = events.filter((e): e is Extract<DroverEvent, { type: 'task_end' }> => e.type === 'task_end');
  const changed = recap ? Object.values(recap.hosts).reduce((n, h) => n + h.changed, 0) : NaN;
  return { code: r.code, events, stdout: r.stdout, stderr: r.stderr, recap, tasks, changed };
}

/** Human summary of a run for assertion messages: failures with their messages. */
export function describeRun(run: DroverRun): string {
  const failed = run.tasks.filter((t) => t.status === 'failed' || t.status === 'unreachable');
  return [
    `exit ${run.code}`,
    ...failed.map((t) => `${t.host} [${t.role ?? '-'} : ${t.task}] ${t.status}: ${t.msg ?? ''} ${t.stderr ?? ''}`.trim()),
    run.stderr.trim() ? `stderr: ${run.stderr.trim().slice(0, 2000)}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

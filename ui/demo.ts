// A simulated run to look at the UI without hosts: `npx tsx ui/demo.ts [hosts] [--diff] [--verbose]`.
// Feeds made-up events through createTui exactly as the runner does; q stops it early.
import { createTui } from './index.ts';
import type { DroverEvent } from '../lib/report/events.ts';

const args = process.argv.slice(2);
const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 12);
const hosts = Array.from({ length: count }, (_, i) => (i < 2 ? `lb${i + 1}` : i < 5 ? `master${i - 1}` : `worker${String(i - 4).padStart(2, '0')}`));
const tasks: Array<[role: string, task: string]> = [
  ['base', 'apt update'],
  ['base', 'install packages'],
  ['base', 'set timezone'],
  ['k3s-prereqs', 'load br_netfilter'],
  ['k3s-prereqs', 'sysctl net.ipv4.ip_forward'],
  ['k3s-master', 'write config.yaml'],
  ['k3s-master', 'install k3s'],
];

let aborted = false;
const tui = createTui({ verbose: args.includes('--verbose'), diff: args.includes('--diff'), onAbort: () => (aborted = true) });
const emit = (e: DroverEvent) => tui.emit(e);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const start = Date.now();
const counts = new Map(hosts.map((h) => [h, { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, aborted: 0, durationMs: 0 }]));

emit({ type: 'run_start', ts: Date.now(), playbook: 'demo', check: false, diff: args.includes('--diff'), hosts, forks: 10 });
emit({ type: 'play_start', ts: Date.now(), play: 'site', hosts, strategy: 'free' });

async function runHost(host: string, i: number): Promise<void> {
  const c = counts.get(host)!;
  const t0 = Date.now();
  emit({ type: 'host_state', ts: Date.now(), host, state: 'connecting' });
  await sleep(200 + ((i * 37) % 300));
  if (host === 'worker03') {
    emit({ type: 'host_state', ts: Date.now(), host, state: 'unreachable', msg: 'ssh: connect ECONNREFUSED 10.0.0.13:22' });
    c.unreachable++;
    c.durationMs = Date.now() - t0;
    return;
  }
  emit({ type: 'host_state', ts: Date.now(), host, state: 'running' });
  for (const [k, [role, task]] of tasks.entries()) {
    if (aborted) {
      c.aborted = tasks.length - k;
      break;
    }
    emit({ type: 'task_start', ts: Date.now(), host, play: 'site', role, task });
    const d = 150 + ((i * 53 + k * 97) % 600);
    await sleep(d);
    const fail = host === 'worker05' && task === 'install k3s';
    const status = fail ? 'failed' : k % 3 === 1 ? 'changed' : 'ok';
    c[status]++;
    emit({
      type: 'task_end',
      ts: Date.now(),
      host,
      play: 'site',
      role,
      task,
      status,
      durationMs: d,
      ...(fail ? { msg: 'command failed', rc: 1, stderr: '[ERROR] Download failed\ncurl: (6) Could not resolve host' } : {}),
      ...(status === 'changed' ? { diff: [{ path: '/etc/demo.conf', before: 'a=1\nb=2\n', after: 'a=1\nb=3\n' }] } : {}),
    });
    if (fail) {
      c.durationMs = Date.now() - t0;
      emit({ type: 'host_state', ts: Date.now(), host, state: 'failed' });
      return;
    }
  }
  c.durationMs = Date.now() - t0;
  emit({ type: 'host_state', ts: Date.now(), host, state: 'done' });
}

const forks = 10;
const queue = hosts.map((h, i) => () => runHost(h, i));
await Promise.all(
  Array.from({ length: forks }, async () => {
    for (let job = queue.shift(); job; job = queue.shift()) await job();
  }),
);
const anyFailed = [...counts.values()].some((c) => c.failed > 0);
emit({ type: 'recap', ts: Date.now(), hosts: Object.fromEntries(counts), durationMs: Date.now() - start, exitCode: anyFailed ? 2 : 0, aborted });
await tui.close();

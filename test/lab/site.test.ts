// The main job, as README's first command runs it: playbooks/site.ts over every lab host.
// It must converge all 12 hosts with no failure, and a second run must change nothing.
// Runs after the role tests (test/lab-order.ts), so it also proves site.ts converges hosts
// from whatever state those tests left (a promoted replica, stopped services, drifted files).
import { beforeAll, describe, expect, it } from 'vitest';
import { readTopology } from '../../lab/index.ts';
import { describeRun, runDrover } from './support/drover.ts';
import { useLab, type Lab } from './support/use-lab.ts';

let lab: Lab | undefined;
beforeAll(async () => {
  lab = await useLab();
  if (!lab) console.warn('[site] lab not available here: skipping the site playbook test');
});

describe('playbooks/site.ts on the whole lab', () => {
  it('converges every host, then a second run reports zero changes', async (ctx) => {
    if (!lab) return ctx.skip();
    const hosts = (await readTopology(lab.inventory)).hosts.map((h) => h.name).sort();
    const t0 = Date.now();
    const first = await runDrover('playbooks/site.ts', ['-i', lab.inventory], { timeoutMs: 900_000 });
    const firstMs = Date.now() - t0;
    expect(first.code, describeRun(first)).toBe(0);
    expect(Object.keys(first.recap!.hosts).sort()).toEqual(hosts);

    const t1 = Date.now();
    const second = await runDrover('playbooks/site.ts', ['-i', lab.inventory]);
    const secondMs = Date.now() - t1;
    expect(second.code, describeRun(second)).toBe(0);
    const changedTasks = second.tasks.filter((t) => t.status === 'changed').map((t) => `${t.host}: ${t.role} : ${t.task} (${t.msg ?? ''})`);
    expect(changedTasks).toEqual([]);
    expect(second.changed).toBe(0);
    for (const h of hosts) {
      expect(second.recap!.hosts[h]!.failed, h).toBe(0);
      expect(second.recap!.hosts[h]!.unreachable, h).toBe(0);
    }
    // Probe-ahead read the converged hosts' state in a few round trips each, and the answers
    // are the ones each probe gives on its own: a run without it reports the very same results.
    const ahead = new Map<string, { read: number; trips: number; hits: number }>();
    for (const e of second.events) {
      const m = e.type === 'log' && e.host ? /^probe-ahead: (\d+) probes read in (\d+) round trips, (\d+) answered/.exec(e.msg) : null;
      if (m && e.type === 'log' && e.host) ahead.set(e.host, { read: Number(m[1]), trips: Number(m[2]), hits: Number(m[3]) });
    }
    expect([...ahead.keys()].sort()).toEqual(hosts);
    for (const [h, a] of ahead) {
      expect(a.hits, h).toBeGreaterThanOrEqual(a.read);
      expect(a.read / a.trips, h).toBeGreaterThan(3);
    }
    const without = await runDrover('playbooks/site.ts', ['-i', lab.inventory, '-e', 'drover_probe_ahead=false']);
    expect(without.code, describeRun(without)).toBe(0);
    expect(without.events.some((e) => e.type === 'log' && e.msg.startsWith('probe-ahead:'))).toBe(false);
    const results = (r: typeof second) => r.tasks.map((t) => `${t.host} | ${t.role ?? ''} | ${t.task} | ${t.status} | ${t.msg ?? ''}`).sort();
    expect(results(second)).toEqual(results(without));

    const skipped = second.tasks.filter((t) => t.status === 'skipped');
    console.log(
      `[site] first run ${firstMs} ms (${first.changed} changed), no-change re-run ${secondMs} ms over ${hosts.length} hosts; ` +
        `${skipped.length} skipped task results, e.g. ${[...new Set(skipped.map((t) => `${t.task}: ${t.msg}`))].slice(0, 4).join(' | ')}`,
    );
  });
});

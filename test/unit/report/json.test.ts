import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { changed, failed, ok } from '../../../lib/ops/types.ts';
import { EVENT_SCHEMA_VERSION, EventSchema } from '../../../lib/report/events.ts';
import { JsonReporter } from '../../../lib/report/json.ts';
import { runPlays } from '../../../lib/run/runner.ts';
import { defineRole } from '../../../lib/run/types.ts';
import { clearSecrets, secret } from '../../../lib/secrets/redact.ts';
import { FakeTransport } from '../../support/fake-transport.ts';
import { fakeFacts, fakeSelect, makeInventory } from '../run/helpers.ts';

afterEach(() => clearSecrets());

describe('JsonReporter', () => {
  it('writes one EventSchema event per line with v, for a run using every event type, secrets redacted', async () => {
    let out = '';
    const role = defineRole({
      name: 'k3s',
      vars: z.object({ token: secret() }),
      tasks: [
        { name: 'config', notify: 'restart', run: (ctx) => (ctx.log('debug line'), changed('ok', { diff: [{ path: '/etc/k3s', before: '', after: `token: ${ctx.vars.token}` }] })) },
        { name: 'join', delegateTo: 'm1', retries: 1, run: () => ok() },
        { name: 'skip me', when: () => false, run: () => ok() },
        { name: 'fail', run: (ctx) => (ctx.host === 'm2' ? failed(`token ${ctx.vars.token} rejected`, { rc: 1, stderr: 'denied' }) : ok()) },
      ],
      handlers: [{ name: 'restart', run: () => ok() }],
    });
    const inv = makeInventory({ m1: { vars: { token: 'K10-super-secret' } }, m2: { vars: { token: 'K10-super-secret' } }, m3: { vars: { token: 'K10-super-secret' } } });
    const recap = await runPlays([{ name: 'k3s', hosts: 'all', roles: [role], serial: 2 }], {
      inventory: inv,
      sink: new JsonReporter({ out: { write: (s: string) => (out += s) } }),
      diff: true,
      selectHosts: fakeSelect,
      connect: (h) => {
        if (h.name === 'm3') throw new Error('no route to host');
        return new FakeTransport(h.name);
      },
      gatherFacts: async (t) => fakeFacts(t.name),
    });
    expect(recap.exitCode).toBe(6);
    const lines = out.trimEnd().split('\n');
    const types = new Set<string>();
    for (const line of lines) {
      const obj = JSON.parse(line) as { v: number };
      expect(obj.v).toBe(EVENT_SCHEMA_VERSION);
      const parsed = EventSchema.safeParse(obj);
      expect(parsed.success, line).toBe(true);
      types.add((obj as unknown as { type: string }).type);
    }
    expect([...types].sort()).toEqual(['handler_notify', 'host_state', 'log', 'play_end', 'play_start', 'recap', 'run_start', 'task_end', 'task_start']);
    expect(out).not.toContain('K10-super-secret');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ type: 'recap', exitCode: 6 });
  });
});

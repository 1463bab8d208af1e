// A playbook's own flags (main({ flags })): parsed with the common ones, typed in ctx.flags,
// listed in --help; a wrong value is exit 64 like any usage error.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { runPlaybook, type PlaybookIO } from '../../../lib/cli/playbook.ts';
import type { FlagValues } from '../../../lib/cli/flags.ts';
import { ok } from '../../../lib/ops/types.ts';
import { defineRole, type Play } from '../../../lib/run/types.ts';
import { fakeSelect, makeInventory } from '../run/helpers.ts';

class Buf {
  text = '';
  write(s: string) {
    this.text += s;
    return true;
  }
}

const FLAGS = {
  force: { type: 'boolean', short: 'F', description: 'do it anyway' },
  'new-primary': { type: 'string', placeholder: 'HOST', description: 'the host to promote' },
  reason: { type: 'string', default: 'maintenance', description: 'why' },
  wait: { type: 'number', default: 30, description: 'seconds to wait' },
  only: { type: 'string', multiple: true, description: 'a host (repeatable)' },
} as const;

const role = defineRole({ name: 'r', vars: z.object({}), tasks: [{ name: 't', run: () => ok() }] });

function io(): { io: PlaybookIO; stdout: Buf; stderr: Buf } {
  const stdout = new Buf();
  const stderr = new Buf();
  return { stdout, stderr, io: { stdout, stderr, env: {}, prog: 'promote.ts', loadInventory: async () => makeInventory({ h1: { groups: ['g'] } }), selectHosts: fakeSelect } };
}

/** Runs a playbook with FLAGS and --list-hosts (no host touched); returns what its plays() saw. */
async function seen(argv: string[]): Promise<{ code: number; flags?: FlagValues<typeof FLAGS>; stderr: string }> {
  const e = io();
  let flags: FlagValues<typeof FLAGS> | undefined;
  const code = await runPlaybook(
    {
      name: 'promote',
      flags: FLAGS,
      plays: (ctx): Play[] => {
        flags = ctx.flags;
        return [{ name: 'p', hosts: 'all', roles: [role] }];
      },
    },
    ['-i', 'x', '--list-hosts', ...argv],
    e.io,
  );
  return { code, flags, stderr: e.stderr.text };
}

describe('playbook flags', () => {
  it('are parsed with the common flags, converted and defaulted by their specs', async () => {
    expect((await seen([])).flags).toEqual({ force: false, 'new-primary': undefined, reason: 'maintenance', wait: 30, only: [] });
    const r = await seen(['-F', '--new-primary', 'db2', '--wait', '5', '--only', 'a', '--only', 'b', '--reason', 'disk']);
    expect(r.code).toBe(0);
    expect(r.flags).toEqual({ force: true, 'new-primary': 'db2', reason: 'disk', wait: 5, only: ['a', 'b'] });
  });

  it('a bad value or an unknown flag is exit 64', async () => {
    const bad = await seen(['--wait', 'soon']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--wait needs a number, got "soon"');
    const unknown = await seen(['--forse']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain("Unknown option '--forse'");
  });

  it('are listed in --help before the common flags', async () => {
    const e = io();
    expect(await runPlaybook({ name: 'promote', flags: FLAGS, plays: [] }, ['--help'], e.io)).toBe(0);
    const help = e.stdout.text;
    expect(help).toContain("This playbook's options\n  -F, --force              do it anyway\n      --new-primary HOST   the host to promote\n");
    expect(help).toMatch(/--wait N\s+seconds to wait \(default 30\)/);
    expect(help).toMatch(/--only VALUE\s+a host \(repeatable\)/);
    expect(help.indexOf('--force')).toBeLessThan(help.indexOf('--inventory'));
  });

  it('a flag that clashes with a common one is the author\'s error, named', async () => {
    const e = io();
    const code = await runPlaybook({ name: 'p', flags: { check: { type: 'boolean', description: 'x' } }, plays: [] }, ['-i', 'x'], e.io);
    expect(code).toBe(1);
    expect(e.stderr.text).toContain('playbook flag "--check" clashes with the common flag of that name');
    const e2 = io();
    expect(await runPlaybook({ name: 'p', flags: { fast: { type: 'boolean', short: 'C', description: 'x' } }, plays: [] }, ['-i', 'x'], e2.io)).toBe(1);
    expect(e2.stderr.text).toContain('-C is already taken');
  });
});

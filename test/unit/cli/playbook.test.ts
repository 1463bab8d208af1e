import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { programName, runPlaybook, type PlaybookIO } from '../../../lib/cli/playbook.ts';
import { InputError } from '../../../lib/errors.ts';
import { changed, failed, ok } from '../../../lib/ops/types.ts';
import { EventSchema, type DroverEvent } from '../../../lib/report/events.ts';
import { defineRole, type Play } from '../../../lib/run/types.ts';
import { addSecret, clearSecrets, secret } from '../../../lib/secrets/redact.ts';
import { FakeTransport } from '../../support/fake-transport.ts';
import { fakeFacts, fakeSelect, makeInventory, tick } from '../run/helpers.ts';

afterEach(() => clearSecrets());

class Buf {
  text = '';
  isTTY?: boolean;
  constructor(tty = false) {
    if (tty) this.isTTY = true;
  }
  write(s: string) {
    this.text += s;
    return true;
  }
}

const inv = makeInventory({
  lb1: { groups: ['lb'], vars: { haproxy_port: 8443 } },
  lb2: { groups: ['lb'], vars: { haproxy_port: 'http' }, origins: { haproxy_port: { file: 'inventory/lab.yaml', line: 7, col: 21 } } },
  m1: { groups: ['masters'] },
  m2: { groups: ['masters'] },
});

/** Role slow: task one does `during` (an interrupt, say) then succeeds; task two must not start after it. */
function interruptedRole(during: () => Promise<void>) {
  return defineRole({
    name: 'slow',
    vars: z.object({}),
    tasks: [
      { name: 'one', run: async () => (await during(), ok()) },
      { name: 'two', run: () => ok() },
    ],
  });
}

function env(opts: { unreachable?: string[]; tty?: boolean; ci?: string } = {}) {
  const stdout = new Buf(opts.tty);
  const stderr = new Buf();
  const signals = new EventEmitter();
  const connects: string[] = [];
  const io: PlaybookIO = {
    stdout,
    stderr,
    env: opts.ci ? { CI: opts.ci } : {},
    prog: 'site.ts',
    loadInventory: async (sources) => {
      if (sources[0] === 'broken.yaml') throw new InputError('unexpected key', { file: 'broken.yaml', line: 3, col: 5 }, 'hots');
      return inv;
    },
    selectHosts: fakeSelect,
    connect: (h) => {
      connects.push(h.name);
      if (opts.unreachable?.includes(h.name)) throw new Error('connection refused');
      return new FakeTransport(h.name);
    },
    gatherFacts: async (t) => fakeFacts(t.name),
    signals,
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
  };
  return { io, stdout, stderr, signals, connects };
}

const simple = (failOn: string[] = []) =>
  defineRole({ name: 'base', vars: z.object({}), tasks: [{ name: 'touch', run: (ctx) => (failOn.includes(ctx.host) ? failed('nope') : changed()) }] });

const masters = (role = simple()): Play[] => [{ name: 'masters', hosts: 'masters', roles: [role] }];

describe('runPlaybook', () => {
  it('runs the plays with plain output and returns 0 when all is well', async () => {
    const e = env();
    const code = await runPlaybook({ name: 'site', plays: masters() }, ['-i', 'lab.yaml'], e.io);
    expect(code).toBe(0);
    expect(e.stdout.text).toContain('TASK [base : touch] m1 changed');
    expect(e.stdout.text).toMatch(/PLAY RECAP[^\n]*\nm1 +: ok=2 +changed=1/);
    expect(e.signals.listenerCount('SIGINT')).toBe(0);
  });

  it('exit codes: 2 failed, 4 unreachable, 6 both', async () => {
    expect(await runPlaybook({ name: 's', plays: masters(simple(['m1'])) }, ['-i', 'x'], env().io)).toBe(2);
    expect(await runPlaybook({ name: 's', plays: masters() }, ['-i', 'x'], env({ unreachable: ['m2'] }).io)).toBe(4);
    expect(await runPlaybook({ name: 's', plays: masters(simple(['m1'])) }, ['-i', 'x'], env({ unreachable: ['m2'] }).io)).toBe(6);
  });

  it('64 for an unknown flag or a missing inventory, with a hint on stderr', async () => {
    const e = env();
    expect(await runPlaybook({ name: 's', plays: masters() }, ['-i', 'x', '--frobnicate'], e.io)).toBe(64);
    expect(e.stderr.text).toMatch(/error: Unknown option '--frobnicate'/);
    expect(e.stderr.text).toContain('site.ts --help');
    const e2 = env();
    expect(await runPlaybook({ name: 's', plays: masters() }, [], e2.io)).toBe(64);
    expect(e2.stderr.text).toMatch(/no inventory/);
    expect(e2.connects).toEqual([]);
  });

  it('65 for an invalid inventory, and for a role variable error naming file:line:col and key', async () => {
    const e = env();
    expect(await runPlaybook({ name: 's', plays: masters() }, ['-i', 'broken.yaml'], e.io)).toBe(65);
    expect(e.stderr.text).toBe('error: broken.yaml:3:5: key "hots": unexpected key\n');

    const haproxy = defineRole({ name: 'haproxy', vars: z.object({ haproxy_port: z.number() }), tasks: [{ name: 't', run: () => ok() }] });
    const e2 = env();
    expect(await runPlaybook({ name: 's', plays: [{ name: 'lb', hosts: 'lb', roles: [haproxy] }] }, ['-i', 'x'], e2.io)).toBe(65);
    expect(e2.stderr.text).toMatch(/^error: inventory\/lab\.yaml:7:21: key "haproxy_port": role "haproxy" on host "lb2"/);
    expect(e2.connects).toEqual([]);
    // -e fixes it: the highest precedence wins.
    expect(await runPlaybook({ name: 's', plays: [{ name: 'lb', hosts: 'lb', roles: [haproxy] }] }, ['-i', 'x', '-e', 'haproxy_port=9000'], env().io)).toBe(0);
  });

  it('130 when interrupted: SIGINT stops new tasks, the running one finishes, recap says aborted', async () => {
    const e = env();
    let finished = 0;
    const role = interruptedRole(async () => {
      e.signals.emit('SIGINT');
      await tick(10);
      finished++;
    });
    const code = await runPlaybook({ name: 's', plays: [{ name: 'p', hosts: 'masters', roles: [role] }] }, ['-i', 'x', '-f', '1'], e.io);
    expect(code).toBe(130);
    expect(finished).toBe(1);
    expect(e.stderr.text).toMatch(/Interrupted/);
    expect(e.stdout.text).not.toContain('[slow : two]');
    expect(e.stdout.text).toMatch(/ABORTED by the user: 3 tasks not run/);
  });

  it('in the TUI: the first abort (q or Ctrl-C) stops gracefully, a second (Ctrl-C while stopping) exits 130 now', async () => {
    const e = env({ tty: true });
    let aborter: (() => void) | undefined;
    e.io.createTui = (o) => {
      aborter = o.onAbort;
      return { emit: () => {}, close: () => {} };
    };
    const exits: number[] = [];
    e.io.exit = (code) => {
      exits.push(code);
      throw new Error(`exit ${code}`);
    };
    const role = interruptedRole(async () => {
      aborter!();
      expect(exits).toEqual([]);
      expect(() => aborter!()).toThrow('exit 130');
    });
    await runPlaybook({ name: 's', plays: [{ name: 'p', hosts: 'm1', roles: [role] }] }, ['-i', 'x'], e.io);
    expect(exits).toEqual([130]);
    // The UI shows the stop on screen: nothing is written around it.
    expect(e.stderr.text).toBe('');
  });

  it('--list-hosts prints each play\'s hosts (with --limit) and connects nowhere', async () => {
    const e = env();
    const plays: Play[] = [...masters(), { name: 'lb', hosts: 'lb', roles: [] }];
    expect(await runPlaybook({ name: 's', plays }, ['-i', 'x', '--list-hosts', '-l', 'm2:lb1'], e.io)).toBe(0);
    expect(e.stdout.text).toBe('play #1 (masters): masters\n  hosts (1):\n    m2\n\nplay #2 (lb): lb\n  hosts (1):\n    lb1\n');
    expect(e.connects).toEqual([]);
  });

  it('--list-tasks prints the tasks the tags select', async () => {
    const e = env();
    const role = defineRole({ name: 'r', vars: z.object({}), tags: ['r'], tasks: [{ name: 'a', tags: ['x'], run: () => ok() }, { name: 'b', run: () => ok() }] });
    expect(await runPlaybook({ name: 's', plays: [{ name: 'p', hosts: 'all', roles: [role] }] }, ['-i', 'x', '--list-tasks', '--skip-tags', 'x'], e.io)).toBe(0);
    expect(e.stdout.text).toBe('play #1 (p): all\n  r : b    TAGS: [r]\n');
  });

  it('--json writes only EventSchema lines on stdout', async () => {
    const e = env();
    await runPlaybook({ name: 's', plays: masters() }, ['-i', 'x', '--json'], e.io);
    const lines = e.stdout.text.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(8);
    for (const l of lines) expect(EventSchema.safeParse(JSON.parse(l)).success, l).toBe(true);
  });

  it('plays can be built from the inventory and options', async () => {
    const e = env();
    let seen = '';
    await runPlaybook(
      {
        name: 's',
        plays: ({ inventory, options }) => {
          seen = `${inventory.hosts.size}/${options.check}`;
          return masters();
        },
      },
      ['-i', 'x', '-C'],
      e.io,
    );
    expect(seen).toBe('4/true');
  });

  it('uses the TUI on a TTY outside CI, plain output in CI or when piped', async () => {
    const got: DroverEvent[] = [];
    let closed = false;
    let aborter: (() => void) | undefined;
    const e = env({ tty: true });
    e.io.createTui = (o) => {
      aborter = o.onAbort;
      return { emit: (ev) => got.push(ev), close: () => void (closed = true) };
    };
    expect(await runPlaybook({ name: 's', plays: masters() }, ['-i', 'x'], e.io)).toBe(0);
    expect(got.at(-1)?.type).toBe('recap');
    expect(closed).toBe(true);
    expect(typeof aborter).toBe('function');
    expect(e.stdout.text).toBe('');

    const ci = env({ tty: true, ci: 'true' });
    let used = false;
    ci.io.createTui = () => ((used = true), { emit: () => {} });
    await runPlaybook({ name: 's', plays: masters() }, ['-i', 'x'], ci.io);
    expect(used).toBe(false);
    expect(ci.stdout.text).toContain('PLAY RECAP');
  });

  it('a secret never reaches stdout or stderr: plain, json, recap and error messages', async () => {
    const token = 'K10abcdef-cluster-token';
    const role = defineRole({
      name: 'k3s',
      vars: z.object({ k3s_token: secret() }),
      tasks: [{ name: `join with ${token}`, run: (ctx) => failed(`server said: bad token ${ctx.vars.k3s_token}`, { stderr: `token=${ctx.vars.k3s_token}` }) }],
    });
    const plays: Play[] = [{ name: 'k3s', hosts: 'masters', roles: [role] }];
    for (const extra of [[], ['--json'], ['-vv', '-D']]) {
      const e = env();
      expect(await runPlaybook({ name: 's', plays }, ['-i', 'x', '-e', `k3s_token=${token}`, ...extra], e.io)).toBe(2);
      expect(e.stdout.text).toContain('server said');
      expect(e.stdout.text + e.stderr.text).not.toContain(token);
    }
    // An error message (inventory) mentioning a known secret is redacted too.
    addSecret('hunter2-password');
    const e = env();
    e.io.loadInventory = async () => {
      throw new InputError('ansible_password "hunter2-password" is not allowed here', { file: 'inv.ini', line: 2, col: 9 });
    };
    expect(await runPlaybook({ name: 's', plays }, ['-i', 'inv.ini'], e.io)).toBe(65);
    expect(e.stderr.text).not.toContain('hunter2-password');
    expect(e.stderr.text).toContain('inv.ini:2:9');
  });

  it('--help prints usage and exits 0; --version prints the version', async () => {
    const e = env();
    expect(await runPlaybook({ name: 's', plays: [] }, ['--help'], e.io)).toBe(0);
    expect(e.stdout.text).toMatch(/^Usage: site\.ts -i INVENTORY/);
    const v = env();
    expect(await runPlaybook({ name: 'site', version: '1.2.3', plays: [] }, ['--version'], v.io)).toBe(0);
    expect(v.stdout.text).toMatch(/^site 1\.2\.3 \(drover \d+\.\d+\.\d+\)\n$/);
  });
});

describe('programName (the command --help shows)', () => {
  it('is tsx and the file from source, node and the path when prebuilt', () => {
    expect(programName('/work/x/playbooks/site.ts', 'site', '/work/x')).toBe('tsx site.ts');
    expect(programName('/work/x/dist/playbooks/site.js', 'site', '/work/x')).toBe('node dist/playbooks/site.js');
    expect(programName('/opt/drover/dist/playbooks/site.js', 'site', '/work/x')).toBe('node /opt/drover/dist/playbooks/site.js');
    expect(programName(undefined, 'site')).toBe('site');
  });
});

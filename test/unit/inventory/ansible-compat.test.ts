// `drover inventory --list/--host/--graph` against the real ansible-inventory (Debian's
// ansible-core, installed by lab/install-prereqs.sh), and evaluated Jinja values against what
// `ansible HOST -m debug -a var=...` prints, on the corpus in test/fixtures/inventories-compat/.
//
// Ansible's outputs are kept as goldens in expected/ so the comparison also runs where Ansible
// is not installed; where it is (always under CI=true, where it is required), every golden is
// first checked against a live run, so a golden can never drift from what Ansible prints.
// The only differences allowed are the ones lib/inventory/README.md lists, each asserted here
// to be exactly what it says. DROVER_REGEN_GOLDENS=1 rewrites the goldens from Ansible.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runInventoryCommand } from '../../../lib/cli/inventory.ts';

const CORPUS = fileURLToPath(new URL('../../fixtures/inventories-compat/', import.meta.url));
const EXPECTED = join(CORPUS, 'expected');
const REGEN = process.env.DROVER_REGEN_GOLDENS === '1';

function hasAnsible(): boolean {
  try {
    execFileSync('ansible-inventory', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const LIVE = hasAnsible();
const CI = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
if (!LIVE) {
  // Said plainly: the goldens are then compared, not Ansible itself.
  console.warn(`ansible-inventory not installed: comparing with the stored goldens in ${EXPECTED} only (lab/install-prereqs.sh installs ansible-core)`);
}

const ENV = { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_HOST_KEY_CHECKING: 'False', ANSIBLE_LOCALHOST_WARNING: 'False', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'False' };

const run = promisify(execFile);
/** Live Ansible runs, started together (each costs ~1.5 s of Python start-up). */
const live = new Map<string, Promise<string>>();

async function ansible(cmd: string, args: string[]): Promise<string> {
  return (await run(cmd, args, { cwd: CORPUS, env: ENV, encoding: 'utf8', timeout: 120_000 })).stdout;
}

/** Start Ansible for a golden now (when installed); golden() waits for it. */
function liveRun(name: string, fn: () => Promise<string>): void {
  if (LIVE) live.set(name, fn());
}

/** The golden named `name`: checked against (or, with REGEN, written from) a live Ansible run. */
async function golden(name: string): Promise<string> {
  const file = join(EXPECTED, name);
  if (LIVE) {
    const now = await live.get(name)!;
    if (REGEN) {
      mkdirSync(EXPECTED, { recursive: true });
      writeFileSync(file, now);
    }
    expect(existsSync(file), `golden ${name} missing: run with DROVER_REGEN_GOLDENS=1`).toBe(true);
    expect(now, `Ansible now prints something else than the golden ${name}`).toBe(readFileSync(file, 'utf8'));
    return now;
  }
  if (CI) throw new Error('ansible-inventory is required under CI (lab/install-prereqs.sh installs ansible-core)');
  return readFileSync(file, 'utf8');
}

async function drover(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runInventoryCommand(args, { cwd: CORPUS, stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const CASES: { name: string; sources: string[]; host: string }[] = [
  { name: 'ini', sources: ['ini/hosts.ini'], host: 'lb.example.com' },
  { name: 'yaml', sources: ['yaml/hosts.yaml'], host: 'worker1' },
  { name: 'vars-dirs', sources: ['vars-dirs/hosts.ini'], host: 'master1' },
  { name: 'multi', sources: ['multi/10-hosts.ini', 'multi/20-hosts.yaml'], host: 'worker1' },
  { name: 'jinja', sources: ['jinja/hosts.yaml'], host: 'worker1' },
];
const iArgs = (sources: string[]) => sources.flatMap((s) => ['-i', s]);

for (const c of CASES) {
  liveRun(`${c.name}.list.json`, () => ansible('ansible-inventory', [...iArgs(c.sources), '--list']));
  liveRun(`${c.name}.host.json`, () => ansible('ansible-inventory', [...iArgs(c.sources), '--host', c.host]));
  liveRun(`${c.name}.graph.txt`, () => ansible('ansible-inventory', [...iArgs(c.sources), '--graph']));
}
liveRun('ini.graph-masters.txt', () => ansible('ansible-inventory', ['-i', 'ini/hosts.ini', '--graph', 'k3s_cluster']));
liveRun('ini-types.host.json', () => ansible('ansible-inventory', ['-i', 'ini-types/hosts.ini', '--host', 'web1']));

// Ansible's start-up is slow (~1.5 s a run on 2 shared cores): the live runs get time.
describe('drover inventory prints what ansible-inventory prints', { timeout: 120_000 }, () => {
  for (const c of CASES) {
    // The jinja case is compared unevaluated (--raw): ansible-inventory does not evaluate templates.
    const raw = c.name === 'jinja' ? ['--raw'] : [];
    it(`${c.name}: --list`, async () => {
      const want = await golden(`${c.name}.list.json`);
      const got = await drover([...iArgs(c.sources), '--list', ...raw]);
      expect(got.code).toBe(0);
      expect(JSON.parse(got.out)).toEqual(JSON.parse(want));
      // Same text too: sorted keys, four-space indent.
      expect(got.out).toBe(want);
    });
    it(`${c.name}: --host ${c.host}`, async () => {
      const want = await golden(`${c.name}.host.json`);
      const got = await drover([...iArgs(c.sources), '--host', c.host, ...raw]);
      expect(got.code).toBe(0);
      expect(got.out).toBe(want);
    });
    it(`${c.name}: --graph`, async () => {
      const want = await golden(`${c.name}.graph.txt`);
      const got = await drover([...iArgs(c.sources), '--graph']);
      expect(got.out).toBe(want);
    });
  }

  it('--graph GROUP shows the tree under one group', async () => {
    const want = await golden('ini.graph-masters.txt');
    expect((await drover(['-i', 'ini/hosts.ini', '--graph', 'k3s_cluster'])).out).toBe(want);
  });

  it('INI values: the documented differences and no others', async () => {
    const want = JSON.parse(await golden('ini-types.host.json')) as Record<string, unknown>;
    const got = JSON.parse((await drover(['-i', 'ini-types/hosts.ini', '--host', 'web1'])).out) as Record<string, unknown>;
    const differ = Object.keys({ ...want, ...got }).filter((k) => JSON.stringify(want[k]) !== JSON.stringify(got[k]));
    // README: INI `true`/`false` are booleans in Drover (strings in Ansible); a quoted value stays a string.
    expect(Object.fromEntries(differ.map((k) => [k, [want[k], got[k]]]))).toEqual({
      ansible_become: ['true', true],
      flag: ['false', false],
      quoted_port: [22, '22'],
    });
  });

  it('bad usage is exit 64; an unknown host or group is named', async () => {
    expect((await drover(['-i', 'ini/hosts.ini'])).code).toBe(64);
    expect((await drover(['-i', 'ini/hosts.ini', '--list', '--graph'])).code).toBe(64);
    const r = await drover(['-i', 'ini/hosts.ini', '--host', 'nope']);
    expect(r.code).toBe(64);
    expect(r.err).toContain('no host "nope"');
  });
});

describe('evaluated Jinja values match `ansible HOST -m debug -a var=...`', { timeout: 120_000 }, () => {
  const COMMON = ['api_endpoint', 'extra_server_args', 'server_ips', 'server_csv', 'is_server', 'member_of', 'minor', 'cfg_json', 'taint', 'flag_text', 'version_ok', 'short_name', 'lower_bool', 'sans', 'ansible_host', 'ansible_port'];
  const AGENT = ['node_labels', 'join_url'];
  const names = (host: string) => (host.startsWith('worker') ? [...COMMON, ...AGENT] : COMMON);

  /** One ad-hoc debug run per group, `var=[a, b, ...]`: each value templated as var=a would be. */
  liveRun('jinja.debug.json', async () => {
    const out: Record<string, Record<string, unknown>> = {};
    for (const [pattern, vars] of [['server', COMMON], ['agent', [...COMMON, ...AGENT]]] as const) {
      // -c local and the debug action: nothing leaves this machine.
      const json = await ansible('ansible', [pattern, '-i', 'jinja/hosts.yaml', '-c', 'local', '-m', 'debug', '-a', `var=[${vars.join(',')}]`]);
      for (const m of json.matchAll(/^(\S+) \| SUCCESS => (\{[\s\S]*?^\})/gm)) {
        const res = JSON.parse(m[2]!) as Record<string, unknown>;
        const list = res[`[${vars.join(',')}]`] as unknown[];
        out[m[1]!] = Object.fromEntries(vars.map((v, i) => [v, list[i]]));
      }
    }
    const sorted = Object.fromEntries(Object.keys(out).sort().map((h) => [h, out[h]]));
    return JSON.stringify(sorted, null, 2) + '\n';
  });

  it('every host, every variable', async () => {
    const want = JSON.parse(await golden('jinja.debug.json')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(want).sort()).toEqual(['master1', 'master2', 'master3', 'worker1', 'worker2']);
    const list = JSON.parse((await drover(['-i', 'jinja/hosts.yaml', '--list'])).out) as { _meta: { hostvars: Record<string, Record<string, unknown>> } };
    const differences: string[] = [];
    for (const [host, vals] of Object.entries(want)) {
      for (const name of names(host)) {
        const a = vals[name];
        const d = list._meta.hostvars[host]![name];
        if (JSON.stringify(a) === JSON.stringify(d)) continue;
        // README: a lone expression keeps its type in Drover (ansible-core 2.14 without
        // jinja2_native turns numbers into text; Ansible >= 2.19 keeps them too).
        if (typeof d === 'number' && a === String(d)) {
          differences.push(`${host}.${name}`);
          continue;
        }
        expect.fail(`${host}: ${name}: Ansible ${JSON.stringify(a)}, Drover ${JSON.stringify(d)}`);
      }
    }
    expect(differences).toEqual(['worker1.ansible_port']);
  });
});

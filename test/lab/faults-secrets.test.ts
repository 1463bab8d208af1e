// Secrets: every output of full site runs over the lab, searched for every secret value.
// The secret variables of the lab inventory are declared below (SECRET_VARS) and read from
// inventory/group_vars; a group_vars key that looks like a secret and is not declared fails
// the test, so a new one cannot slip by. To have the secrets in flight (written, sent,
// rendered) each run changes them: run 1 (the Ink UI in a tmux pane) and run 2 (--json) with
// fresh random values from `-e @file` (0600, as README recommends), run 3 (plain) with the
// inventory's own values again (which restores the lab). Then two failing runs: a config
// haproxy rejects (its error message printed) and a keepalived_auth_pass too long for its
// schema (exit 65). Searched:
// - plain stdout/stderr, --json stdout/stderr, every TUI screen captured during run 1 and the
//   pane's whole history after it, both failing runs' stdout/stderr;
// - the argv and environment of every process on the controller, sampled every 100 ms during
//   all the runs, and the argv and environment of every process on every lab host, sampled
//   every 100 ms on the host itself;
// - every file on every host written since it booted (the overlay's upper dir) plus its
//   tmpfs dirs (/run, /tmp, /dev/shm), each hit with its mode and owner: only the files that
//   must hold a secret may, with these modes:
//     /etc/keepalived/keepalived.conf 0600 root:root (auth_pass; keepalived runs as root)
//     /var/lib/postgresql/.drover-replication.pgpass  0600 postgres:postgres (the passfile
//                                       pg_basebackup and the walreceiver read the replication
//                                       password from; the role writes it on both database hosts)
//     /etc/haproxy/haproxy.cfg         0640 root:haproxy (the stats password: haproxy has no
//                                       way to read it from elsewhere; group haproxy only, so
//                                       the service user can read its own config, no one else)
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_NETNS, labSsh, labSshArgv, readTopology } from '../../lab/index.ts';
import { hostPaths } from '../../lab/paths.ts';
import { quote, quoteArgs } from '../../lib/shell/quote.ts';
import { onHost, sleep, startRun } from './support/fault-run.ts';
import { useLab, type Lab } from './support/use-lab.ts';

/** The lab inventory's secret variables (each a secret() in its role, or a connection password). */
const SECRET_VARS = ['haproxy_stats_password', 'keepalived_auth_pass', 'postgres_replication_password'] as const;
/** Variables whose names look secret but are not (paths, user names). */
const NOT_SECRET = new Set(['postgres_replication_user', 'ansible_ssh_private_key_file']);
/** Where a secret may be on a host, and how that file must be protected. */
const ALLOWED: Record<string, { mode: string; owner: string; vars: readonly string[] }> = {
  '/etc/keepalived/keepalived.conf': { mode: '600', owner: 'root:root', vars: ['keepalived_auth_pass'] },
  '/var/lib/postgresql/.drover-replication.pgpass': { mode: '600', owner: 'postgres:postgres', vars: ['postgres_replication_password'] },
  '/etc/haproxy/haproxy.cfg': { mode: '640', owner: 'root:haproxy', vars: ['haproxy_stats_password'] },
};

const PLAYBOOK = 'test/lab/support/fault-site.ts';
let lab: Lab | undefined;
let hosts: string[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'drover-secrets-'));
const socket = `drover-secrets-${process.pid}`;

beforeAll(async () => {
  lab = await useLab();
  if (!lab) return console.warn('[faults-secrets] lab not available here: skipping');
  hosts = (await readTopology(lab.inventory)).hosts.map((h) => h.name);
  writeFileSync(join(tmp, 'tmux.conf'), 'set -g remain-on-exit on\nset -g history-limit 20000\nset -g default-shell /bin/sh\n');
});
afterAll(() => {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  } catch {
    // never started
  }
  rmSync(tmp, { recursive: true, force: true });
});

/** One secret value and which variable (and which set of values) it is. */
interface Secret {
  name: string;
  value: string;
  set: string;
}

/** Every place searched, and what was found there. */
class Search {
  places = new Map<string, number>();
  hits: string[] = [];
  constructor(readonly secrets: readonly Secret[]) {}
  look(place: string, text: string): void {
    this.places.set(place, (this.places.get(place) ?? 0) + 1);
    for (const s of this.secrets) if (text.includes(s.value)) this.hits.push(`${place}: ${s.name} (${s.set})`);
  }
}

function groupVarSecrets(): Secret[] {
  const dir = 'inventory/group_vars';
  const out: Secret[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
    const vars = parseYaml(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
    for (const [k, v] of Object.entries(vars ?? {})) {
      if ((SECRET_VARS as readonly string[]).includes(k)) out.push({ name: k, value: String(v), set: `inventory ${f}` });
      else if (/pass(word)?$|pass_|secret|token|_key$/i.test(k) && !NOT_SECRET.has(k)) throw new Error(`${f}: ${k} looks like a secret: add it to SECRET_VARS or NOT_SECRET`);
    }
  }
  return out;
}

const rand = (n: number) => Array.from({ length: n }, () => 'abcdefghijkmnpqrstuvwxyz23456789'[Math.floor(Math.random() * 32)]).join('');
function freshSet(tag: string): { secrets: Secret[]; file: string } {
  const values: Record<string, string> = {
    haproxy_stats_password: `hs-${tag}-${rand(16)}`,
    keepalived_auth_pass: `k${rand(7)}`, // VRRP PASS: 4 to 8 characters
    postgres_replication_password: `pg-${tag}-${rand(16)}`,
  };
  const file = join(tmp, `secrets-${tag}.yaml`);
  writeFileSync(file, Object.entries(values).map(([k, v]) => `${k}: "${v}"\n`).join(''), { mode: 0o600 });
  chmodSync(file, 0o600);
  return { secrets: Object.entries(values).map(([name, value]) => ({ name, value, set: tag })), file };
}

/** Controller: argv + environment of every process, every 100 ms. */
function sampleController(search: Search): { stop: () => number } {
  let samples = 0;
  let procs = 0;
  const tick = () => {
    samples++;
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      let text = '';
      try {
        text = readFileSync(`/proc/${d}/cmdline`, 'latin1') + '\n' + readFileSync(`/proc/${d}/environ`, 'latin1');
      } catch {
        continue; // exited
      }
      procs++;
      search.look('controller process argv/environ', text);
    }
  };
  const timer = setInterval(tick, 100);
  return {
    stop: () => {
      clearInterval(timer);
      return procs;
    },
  };
}

/** Hosts: a loop on each host printing every process's argv and environment every 100 ms. */
function sampleHosts(search: Search): { stop: () => Promise<number> } {
  let procs = 0;
  const children: ChildProcess[] = [];
  const ends: Promise<void>[] = [];
  const maxLen = Math.max(...search.secrets.map((s) => s.value.length));
  for (const h of hosts) {
    const loop = `rm -f /run/drover-sampler.stop; while [ ! -e /run/drover-sampler.stop ]; do head -c 65536 /proc/[0-9]*/cmdline /proc/[0-9]*/environ 2>/dev/null; echo; echo ==SAMPLE==; sleep 0.1; done`;
    const child = spawn('ip', ['netns', 'exec', LAB_NETNS, ...labSshArgv(h, loop)], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(child);
    let carry = '';
    child.stdout!.on('data', (d: Buffer) => {
      const text = carry + d.toString('latin1');
      search.look(`host process argv/environ`, text);
      procs += (d.toString('latin1').match(/==> \/proc\/\d+\/cmdline <==/g) ?? []).length;
      carry = text.slice(-maxLen);
    });
    ends.push(new Promise((r) => child.on('close', () => r())));
  }
  return {
    stop: async () => {
      await Promise.all(hosts.map((h) => onHost(h, 'touch /run/drover-sampler.stop')));
      await Promise.race([Promise.all(ends), sleep(10_000)]);
      for (const c of children) c.kill();
      await Promise.all(hosts.map((h) => onHost(h, 'rm -f /run/drover-sampler.stop')));
      return procs;
    },
  };
}

function tmux(...args: string[]): string {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CI|NODE_ENV|TEST|VITEST.*)$/.test(k)) env[k] = v;
  return execFileSync('tmux', ['-L', socket, '-f', join(tmp, 'tmux.conf'), ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Run site.ts in a 120x40 tmux pane with CI unset (the Ink UI); every screen and the history are searched. */
async function tuiRun(search: Search, extra: string[]): Promise<{ code: number; screens: number; after: string }> {
  const rc = join(tmp, 'tui.rc');
  const cmd = `ip netns exec ${LAB_NETNS} env -u CI -u NODE_ENV ${quoteArgs([process.execPath, '--conditions=drover-source', '--import', 'tsx', PLAYBOOK, '-i', lab!.inventory, ...extra])}; echo $? > ${quote(rc)}`;
  tmux('new-session', '-d', '-s', 'site', '-x', '120', '-y', '40', '-c', process.cwd(), cmd);
  let screens = 0;
  const until = Date.now() + 600_000;
  while (!existsSync(rc) || !readFileSync(rc, 'utf8').endsWith('\n')) {
    if (Date.now() > until) throw new Error('TUI run still going after 10 min');
    search.look('TUI screen (tmux)', tmux('capture-pane', '-p', '-t', 'site'));
    screens++;
    await sleep(250);
  }
  const after = tmux('capture-pane', '-p', '-t', 'site', '-S', '-');
  search.look('TUI pane history (tmux)', after);
  return { code: Number(readFileSync(rc, 'utf8').trim()), screens, after };
}

describe('no secret anywhere it should not be', () => {
  it('site runs (TUI, --json, plain) and failing runs leak no secret value; secret files on hosts are protected', async (ctx) => {
    if (!lab) return ctx.skip();
    try {
      execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    } catch {
      if (process.env.CI === 'true') throw new Error('tmux is required in CI for the secrets test');
      return ctx.skip();
    }
    const inventorySecrets = groupVarSecrets();
    expect(inventorySecrets.map((s) => s.name).sort()).toEqual([...SECRET_VARS].sort());
    const a = freshSet('tui');
    const b = freshSet('json');
    const c = freshSet('err');
    // The schema refuses this one (4 to 8 characters): its value must not be echoed either.
    const tooLong = { name: 'keepalived_auth_pass', value: `kTooLong-${rand(12)}`, set: 'invalid' };
    const badFile = join(tmp, 'bad.yaml');
    writeFileSync(badFile, `keepalived_auth_pass: "${tooLong.value}"\n`, { mode: 0o600 });
    const all = [...inventorySecrets, ...a.secrets, ...b.secrets, ...c.secrets, tooLong];
    const search = new Search(all);

    const ctl = sampleController(search);
    const onHosts = sampleHosts(search);
    await sleep(500);

    // 1: the Ink UI in a terminal, fresh secrets.
    const tui = await tuiRun(search, ['-e', `@${a.file}`]);
    expect(tui.code, tui.after.slice(-3000)).toBe(0);
    expect(tui.after).toMatch(/PLAY RECAP 12 hosts/); // the UI's own recap: the UI really ran
    // 2: --json, fresh secrets again.
    const json = await startRun(PLAYBOOK, ['-i', lab.inventory, '-e', `@${b.file}`], { json: true }).done;
    expect(json.code, json.stderr).toBe(0);
    search.look('--json stdout', json.stdout);
    search.look('--json stderr', json.stderr);
    // The secret-bearing tasks really changed (the values were in flight).
    const changedTasks = new Set(json.events.filter((e) => e.type === 'task_end' && e.status === 'changed').map((e) => (e.type === 'task_end' ? `${e.host} ${e.task}` : '')));
    for (const t of [
      'loadbalancer1 haproxy.cfg (validated with haproxy -c)',
      'loadbalancer1 keepalived.conf (validated with keepalived -t)',
      'loadbalancer2 keepalived.conf (validated with keepalived -t)',
      'postgresql2 replication passfile',
      'postgresql1 replication role',
    ]) {
      expect(changedTasks.has(t), `${t} did not change; changed: ${[...changedTasks].join(' | ')}`).toBe(true);
    }
    // 3: plain, the inventory's values (restores the lab).
    const plain = await startRun(PLAYBOOK, ['-i', lab.inventory], { json: false }).done;
    expect(plain.code, plain.stderr + plain.stdout.slice(-3000)).toBe(0);
    search.look('plain stdout', plain.stdout);
    search.look('plain stderr', plain.stderr);
    // 4: haproxy rejects the config: its error is printed, the secrets are not.
    const bogus = await startRun(PLAYBOOK, ['-i', lab.inventory, '--limit', 'loadbalancers', '-e', `@${c.file}`, '-e', 'haproxy_extra_config=bogus_keyword_for_the_test on', '-v'], { json: false }).done;
    expect(bogus.code, bogus.stdout.slice(-3000)).toBe(2);
    expect(bogus.stdout).toMatch(/bogus_keyword_for_the_test/);
    search.look('error run stdout (haproxy -c failed)', bogus.stdout);
    search.look('error run stderr (haproxy -c failed)', bogus.stderr);
    // 5: a value the schema refuses: exit 65, the message names file and key, not the value.
    const invalid = await startRun(PLAYBOOK, ['-i', lab.inventory, '-e', `@${badFile}`], { json: false }).done;
    expect(invalid.code).toBe(65);
    expect(invalid.stderr).toMatch(/keepalived_auth_pass/);
    search.look('invalid input stdout', invalid.stdout);
    search.look('invalid input stderr', invalid.stderr);
    // Back to the inventory's values on the load balancers (run 4 changed them).
    const restore = await startRun(PLAYBOOK, ['-i', lab.inventory, '--limit', 'loadbalancers'], { json: false }).done;
    expect(restore.code, restore.stdout.slice(-3000)).toBe(0);

    const ctlProcs = ctl.stop();
    const hostProcs = await onHosts.stop();

    // Files on the hosts: what each host wrote since boot (overlay upper dir) and its tmpfs dirs.
    const patterns = join(tmp, 'patterns');
    writeFileSync(patterns, all.map((s) => s.value).join('\n') + '\n', { mode: 0o600 });
    const fileHits: string[] = [];
    let filesSearched = 0;
    for (const h of hosts) {
      const upper = hostPaths(h).upper;
      filesSearched += Number(execFileSync('sh', ['-c', `find ${quote(upper)} -xdev -type f | wc -l`], { encoding: 'utf8' }).trim());
      const inUpper = execFileSync('sh', ['-c', `grep -rlsF -f ${quote(patterns)} ${quote(upper)} || true`], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((p) => p.slice(upper.length));
      // tmpfs dirs (not in the upper dir), searched on the host; the patterns go on stdin, never argv.
      const r = await labSsh(h, 'for d in /run /tmp /dev/shm; do find "$d" -xdev -type f 2>/dev/null; done | wc -l; grep -rlsF -f /dev/stdin /run /tmp /dev/shm 2>/dev/null; true', {
        input: readFileSync(patterns, 'utf8'),
      });
      const [count, ...inTmpfs] = r.stdout.split('\n').filter(Boolean);
      filesSearched += Number(count);
      for (const path of [...inUpper, ...inTmpfs]) {
        const st = (await onHost(h, `stat -c '%a %U:%G' ${quote(path)}`)).trim();
        const content = (await onHost(h, `cat ${quote(path)}`));
        const which = all.filter((s) => content.includes(s.value)).map((s) => s.name);
        const rule = ALLOWED[path];
        if (!rule) fileHits.push(`${h}:${path} (${st}) holds ${which.join(', ')}: not a place for a secret`);
        else {
          if (st !== `${rule.mode} ${rule.owner}`) fileHits.push(`${h}:${path} is ${st}, must be ${rule.mode} ${rule.owner}`);
          const stray = which.filter((n) => !rule.vars.includes(n));
          if (stray.length) fileHits.push(`${h}:${path} holds ${stray.join(', ')} besides what it must`);
        }
        search.places.set('host files', (search.places.get('host files') ?? 0) + 1);
      }
    }

    expect(search.hits, search.hits.slice(0, 20).join('\n')).toEqual([]);
    expect(fileHits).toEqual([]);
    // The allowed files really hold the inventory's secrets (so the search above can find them).
    expect(await onHost('loadbalancer1', `grep -cF ${quote(inventorySecrets.find((s) => s.name === 'haproxy_stats_password')!.value)} /etc/haproxy/haproxy.cfg`)).not.toBe('0\n');
    console.log(
      `[faults-secrets] ${all.length} secret values (${SECRET_VARS.length} secret vars: inventory + 3 fresh sets + 1 invalid) searched in ` +
        `${search.places.size + 1} kinds of place: ${[...search.places.entries()].map(([p, n]) => `${p} x${n}`).join(', ')}; ` +
        `${tui.screens} TUI screens; ${ctlProcs} controller process samples; ${hostProcs} host process samples; ${filesSearched} host files`,
    );
  });
});

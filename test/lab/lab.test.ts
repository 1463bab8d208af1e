// The lab itself: real Debian 12 hosts under systemd-nspawn, reached over ssh with strict
// host key checking, apt through the mirror bridge, and a down that leaves nothing behind.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KNOWN_HOSTS,
  labDown,
  labExec,
  labSsh,
  labSshArgv,
  labStatus,
  labUp,
  readTopology,
  type LabHost,
  type LabTopology,
  type StatusResult,
  type UpResult,
} from '../../lab/index.ts';
import { parseDeb822, parseSourcesList, mirrorEndpoints } from '../../lab/mirror.ts';
import { hostMac, vethName } from '../../lab/network.ts';
import { SMALL_INVENTORY, labGate } from './support/lab-env.ts';

const gate = labGate();

describe('lab inventories (no host needed)', () => {
  it('inventory/lab.yaml is the seed-004 topology on 10.17.4.0/24', async () => {
    const t = await readTopology('inventory/lab.yaml');
    expect(t.bridgeAddress).toBe('10.17.4.1');
    expect(t.prefixLength).toBe(24);
    const by = new Map(t.hosts.map((h) => [h.name, h]));
    expect([...by.keys()].sort()).toEqual(
      [
        'infra',
        'loadbalancer1',
        'loadbalancer2',
        'master1',
        'master2',
        'master3',
        'postgresql1',
        'postgresql2',
        'storage1',
        'worker1',
        'worker2',
        'worker3',
      ].sort(),
    );
    expect(by.get('master1')?.address).toBe('10.17.4.21');
    expect(by.get('storage1')?.address).toBe('10.17.4.27');
    expect(by.get('loadbalancer1')?.address).toBe('10.17.4.30');
    for (const h of t.hosts) expect(h.address.startsWith('10.17.4.')).toBe(true);
    // Flatcar-like hosts have no python; Ansible's targets do.
    expect(t.hosts.filter((h) => !h.python).map((h) => h.name).sort()).toEqual(
      ['master1', 'master2', 'master3', 'storage1', 'worker1', 'worker2', 'worker3'],
    );
    expect(by.get('master2')?.groups).toEqual(expect.arrayContaining(['all', 'k3s_cluster', 'masters']));
    expect(by.get('postgresql2')?.groups).toEqual(expect.arrayContaining(['databases', 'postgres_replica']));
    expect(by.get('storage1')?.groups).toContain('k3s_cluster');
  });

  it('test/lab-small.yaml has a python host and one without', async () => {
    const t = await readTopology(SMALL_INVENTORY);
    expect(t.hosts).toHaveLength(3);
    expect(t.hosts.some((h) => h.python)).toBe(true);
    expect(t.hosts.some((h) => !h.python)).toBe(true);
  });
});

describe('lab helpers (no host needed)', () => {
  it('reads the machine mirror from deb822 and one-line apt sources', () => {
    const deb822 = parseDeb822(
      'Types: deb\n# http://snapshot.example/x\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n' +
        'Components: main\n\nTypes: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\n' +
        'Types: deb\nEnabled: no\nURIs: http://off.example/debian\nSuites: bookworm\n\n' +
        'Types: deb\nURIs: https://sec.example:8443/debian-security\nSuites: bookworm-security\n',
    );
    expect(deb822.map((u) => [u.host, u.port, u.suites.join(',')])).toEqual([
      ['mirror.example', 80, 'bookworm,bookworm-updates'],
      ['sec.example', 8443, 'bookworm-security'],
    ]);
    const list = parseSourcesList('# deb http://old.example/ bookworm main\ndeb [arch=amd64] http://m.example/debian bookworm main\ndeb-src http://m.example/debian bookworm main\n');
    expect(list.map((u) => u.uri)).toEqual(['http://m.example/debian']);
    expect(mirrorEndpoints({ files: [], uris: [...deb822, ...list] })).toEqual([
      { host: 'mirror.example', port: 80 },
      { host: 'sec.example', port: 8443 },
      { host: 'm.example', port: 80 },
    ]);
  });

  it('derives stable MACs and short interface names', () => {
    expect(hostMac('10.17.4.21')).toBe('02:00:0a:11:04:15');
    expect(vethName('master1')).toBe('v-master1');
    const long = vethName('a-very-long-host-name');
    expect(long.length).toBeLessThanOrEqual(15);
    expect(vethName('a-very-long-host-name')).toBe(long);
    expect(vethName('a-very-long-host-name2')).not.toBe(long);
  });
});

describe.runIf(gate.mustFail)('lab prerequisites (CI)', () => {
  it('are installed', () => {
    throw new Error(`lab prerequisites missing under CI: ${gate.reason}`);
  });
});

/** Alive = present in /proc and not a zombie waiting for its (non-reaping) parent. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Live processes whose command line mentions the lab's own paths. */
function labProcesses(): string[] {
  const out: string[] = [];
  for (const d of readdirNumeric('/proc')) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (/systemd-nspawn|socat/.test(cmd) && /\/var\/lib\/drover-lab\/|\/run\/drover-lab\//.test(cmd) && alive(d)) {
      out.push(`${d} ${cmd}`);
    }
  }
  return out;
}

function readdirNumeric(dir: string): number[] {
  return readdirSync(dir)
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

describe.runIf(gate.run)('lab (real hosts)', () => {
  let small: LabTopology;
  let pythonHost: LabHost;
  let noPythonHost: LabHost;
  let first: UpResult;
  let before: StatusResult;
  let downDone = false;

  beforeAll(async () => {
    small = await readTopology(SMALL_INVENTORY);
    pythonHost = small.hosts.find((h) => h.python)!;
    noPythonHost = small.hosts.find((h) => !h.python)!;
    const t0 = Date.now();
    first = await labUp(SMALL_INVENTORY, { log: (l) => console.log(`[lab] ${l}`) });
    console.log(`[lab] up took ${Date.now() - t0} ms`);
  });

  afterAll(async () => {
    // A failed assertion above must not leave hosts running.
    if (!downDone) await labDown();
  });

  it('boots every host of the inventory', () => {
    expect(first.hosts.map((h) => h.name).sort()).toEqual(small.hosts.map((h) => h.name).sort());
    for (const h of first.hosts) expect(['running', 'degraded', 'sshd answers']).toContain(h.systemState);
  });

  it('each host answers ssh with strict host key checking, under its name and address', async () => {
    for (const h of small.hosts) {
      const r = await labSsh(h.name, 'hostname');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(h.name);
      // The name form of the known_hosts entry: connect by address, check the key as the name.
      const byName = await labExec([...labSshArgv(h.name, 'true').slice(0, -2), '-o', `HostKeyAlias=${h.name}`, `root@${h.address}`, 'true']);
      expect(byName.code).toBe(0);
    }
    const kh = readFileSync(KNOWN_HOSTS, 'utf8');
    for (const h of small.hosts) expect(kh).toMatch(new RegExp(`^${h.name},${h.address.replace(/\./g, '\\.')} ssh-ed25519 `, 'm'));
  });

  it('refuses a host whose key is not in known_hosts (no opt-out)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drover-lab-kh-'));
    try {
      const empty = join(dir, 'known_hosts');
      writeFileSync(empty, '');
      const argv = labSshArgv(pythonHost.name, 'true').map((a) => (a === `UserKnownHostsFile=${KNOWN_HOSTS}` ? `UserKnownHostsFile=${empty}` : a));
      expect(argv).toContain(`UserKnownHostsFile=${empty}`);
      const r = await labExec(argv);
      expect(r.code).toBe(255);
      expect(r.stderr).toMatch(/Host key verification failed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('systemd is PID 1 and the system is running', async () => {
    for (const h of small.hosts) {
      const r = await labSsh(h.name, 'ps -p 1 -o comm=; systemctl is-system-running');
      const [pid1, state] = r.stdout.trim().split('\n');
      expect(pid1).toBe('systemd');
      expect(['running', 'degraded']).toContain(state);
    }
  });

  it('hosts are systemd-nspawn containers', async () => {
    const r = await labSsh(noPythonHost.name, 'systemd-detect-virt --container');
    expect(r.stdout.trim()).toBe('systemd-nspawn');
  });

  it('the no-python host has no python3; the python host has it', async () => {
    const none = await labSsh(noPythonHost.name, 'command -v python3 python3.11 python || echo NONE; ls /usr/bin | grep -c ^python || true');
    expect(none.stdout.trim().split('\n')).toEqual(['NONE', '0']);
    const some = await labSsh(pythonHost.name, 'python3 -c "print(6*7)"');
    expect(some.stdout.trim()).toBe('42');
  });

  it('apt-get update works inside a host through the mirror bridge only', async () => {
    const route = await labSsh(noPythonHost.name, 'ip -4 route');
    // The only way out is the controller's bridge address.
    expect(route.stdout).toMatch(/^default via 10\.17\.4\.1 dev eth0/m);
    const r = await labSsh(noPythonHost.name, 'apt-get update 2>&1; echo "EXIT=$?"', { timeoutMs: 240_000 });
    expect(r.stdout).toMatch(/EXIT=0\s*$/);
    expect(r.stdout).not.toMatch(/^E: /m);
    expect(r.stdout).toMatch(/^(Get|Hit):\d+ http/m);
    const status = labStatus();
    expect(status.mirrors.length).toBeGreaterThan(0);
    expect(status.mirrors.every((m) => m.running)).toBe(true);
  }, 300_000);

  it('a second up is a no-op and fast', async () => {
    const pids = new Map(labStatus().hosts.map((h) => [h.name, h.pid]));
    const t0 = Date.now();
    const again = await labUp(SMALL_INVENTORY);
    const ms = Date.now() - t0;
    expect(again.hosts.every((h) => h.action === 'kept')).toBe(true);
    for (const h of labStatus().hosts) if (pids.has(h.name)) expect(h.pid).toBe(pids.get(h.name));
    expect(ms).toBeLessThan(5000);
    console.log(`[lab] second up: ${ms} ms`);
  });

  it('status reports pid, address, boot time and memory per host', () => {
    before = labStatus();
    for (const h of small.hosts) {
      const s = before.hosts.find((x) => x.name === h.name);
      expect(s?.running).toBe(true);
      expect(s?.address).toBe(h.address);
      expect(s?.pid && alive(s.pid)).toBe(true);
      expect(s?.bootMs).toBeGreaterThan(0);
      expect(s?.memory?.pssKiB).toBeGreaterThan(1024);
      console.log(`[lab] ${h.name}: boot ${s?.bootMs} ms, PSS ${Math.round((s?.memory?.pssKiB ?? 0) / 1024)} MiB`);
    }
  });

  it('down leaves no process, namespace or mount behind', async () => {
    const st = before ?? labStatus();
    const pids = st.hosts.filter((h) => h.running && h.pid).map((h) => h.pid!);
    expect(pids.length).toBeGreaterThanOrEqual(small.hosts.length);
    expect(labProcesses().length).toBeGreaterThan(0);
    const t0 = Date.now();
    await labDown();
    downDone = true;
    console.log(`[lab] down took ${Date.now() - t0} ms`);
    for (const p of pids) expect(alive(p), `pid ${p} still alive`).toBe(false);
    expect(labProcesses()).toEqual([]);
    const ns = await labExec(['true']);
    expect(ns.code).not.toBe(0); // no `lab` namespace to enter
    const { execFileSync } = await import('node:child_process');
    const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(list.split('\n').filter((l) => /^(lab|h-)/.test(l))).toEqual([]);
    const mounts = readFileSync('/proc/mounts', 'utf8');
    expect(mounts).not.toContain('/var/lib/drover-lab/');
    expect(labStatus().hosts.every((h) => !h.running)).toBe(true);
  });
});

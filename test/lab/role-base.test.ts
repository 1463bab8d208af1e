// Role base on real lab hosts (infra, master1-3, worker1-3, storage1; never the load
// balancers or databases, which other tests use meanwhile), checked by its real effect:
// an admin logs in with a key made here and sudoes, a password login is refused, chrony on
// the clients polls infra and infra sees them, the nftables allow-list really lets the
// K3s API port through from an allowed source and drops it from another lab host, hostname,
// /etc/hosts and timezone are right. Then a second run changes nothing, and --check after
// a drift reports it and changes nothing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KNOWN_HOSTS, labExec } from '../../lab/index.ts';
import { describeRun, runDrover, type DroverRun } from './support/drover.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const MASTERS = ['master1', 'master2', 'master3'];
const OTHERS = ['infra', 'worker1', 'worker2', 'worker3', 'storage1'];
const ALL = [...OTHERS, ...MASTERS];
const ADDR: Record<string, string> = {
  infra: '10.17.4.11',
  master1: '10.17.4.21',
  master2: '10.17.4.22',
  master3: '10.17.4.23',
  worker1: '10.17.4.24',
  worker2: '10.17.4.25',
  worker3: '10.17.4.26',
  storage1: '10.17.4.27',
};
const ADMIN = 'drover-admin';
const CONTROLLER = '10.17.4.1';
const LISTENER_UNIT = 'drover-test-base-listener';
const LBS = ['10.17.4.30/32', '10.17.4.31/32'];

let lab: Lab | undefined;
const tmp = mkdtempSync(join(tmpdir(), 'drover-role-base-'));
const key = join(tmp, 'admin_ed25519');
const runner = join(tmp, 'base.mts');
const commonVars = join(tmp, 'common.json');
const masterVars = join(tmp, 'masters.json');

/** Two invocations, so every host always gets the same variables: masters with the allow-list. */
async function converge(extra: string[] = []): Promise<{ others: DroverRun; masters: DroverRun }> {
  const others = await runDrover(runner, ['-i', lab!.inventory, '--limit', OTHERS.join(','), '-e', `@${commonVars}`, ...extra]);
  const masters = await runDrover(runner, ['-i', lab!.inventory, '--limit', MASTERS.join(','), '-e', `@${commonVars}`, '-e', `@${masterVars}`, ...extra]);
  return { others, masters };
}

/** ssh as the admin user, with the key generated for this test and strict host keys. */
function adminSsh(host: string, command: string, opts: string[] = []) {
  return labExec([
    'ssh', '-F', 'none', '-o', `UserKnownHostsFile=${KNOWN_HOSTS}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=3', '-o', 'IdentitiesOnly=yes', '-i', key, ...opts, `${ADMIN}@${ADDR[host]}`, command,
  ]);
}

/** A TCP connect to addr:port: "connected rc=0"; rc=124 when it timed out (dropped); rc=1 refused. */
const probeTcp = (addr: string, port: number) => `timeout 4 bash -c 'exec 3<>/dev/tcp/${addr}/${port} && printf connected' 2>/dev/null; echo " rc=$?"`;

/**
 * A listener on master1:port for the filter test: ours (systemd-socket-activate) unless one is
 * already there (the haproxy lab test runs stand-in API backends on the masters meanwhile);
 * either way a connect proves the path. Returns a cleanup.
 */
async function listenOn(host: string, port: number): Promise<() => Promise<void>> {
  const busy = (await lab!.sh(host, `ss -Hltn 'sport = :${port}' | grep -c LISTEN`)).stdout.trim() !== '0';
  if (busy) return async () => {};
  const unit = `${LISTENER_UNIT}-${port}`;
  const r = await lab!.sh(host, `systemd-run --quiet --collect --unit=${unit} systemd-socket-activate -l ${port} -a --inetd /bin/echo listener-ok && sleep 0.5 && ss -Hltn 'sport = :${port}' | grep -c LISTEN`);
  if (r.code !== 0) throw new Error(`cannot start a listener on ${host}:${port}: ${r.stderr}`);
  return async () => void (await lab!.sh(host, `systemctl stop ${unit}`));
}

beforeAll(async () => {
  lab = await useLab();
  if (!lab) {
    console.warn('[role-base] lab not available here: skipping the role base lab tests');
    return;
  }
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${ADMIN}@drover-test`, '-f', key]);
  const pub = readFileSync(`${key}.pub`, 'utf8').trim();
  writeFileSync(commonVars, JSON.stringify({ base_admin_users: [{ name: ADMIN, keys: [pub], sudo: true, sudo_nopasswd: true }] }));
  // Allowed: the controller (10.17.4.1), so another lab host (worker1) is a disallowed source;
  // and the load balancers, whose lab test health-checks the masters' 6443 meanwhile.
  writeFileSync(masterVars, JSON.stringify({ base_nftables_enabled: true, base_nftables_allowed_cidrs: [`${CONTROLLER}/32`, ...LBS] }));
  const root = process.cwd();
  writeFileSync(
    runner,
    [
      `import { main } from '${root}/lib/cli/index.ts';`,
      `import { basePlays } from '${root}/playbooks/plays/base.ts';`,
      `await main({ name: 'base', plays: basePlays });`,
      '',
    ].join('\n'),
  );
  // Start from a drifted state, so the first run has real work on every host.
  await Promise.all(ALL.map((h) => lab!.sh(h, `rm -f /etc/ssh/sshd_config.d/50-drover.conf; ln -sfn /usr/share/zoneinfo/Etc/UTC /etc/localtime`)));
  // Role base alone: no k3s-prereqs include (it would admit the nodes to 6443), no old table.
  await Promise.all(MASTERS.map((h) => lab!.sh(h, 'rm -f /etc/nftables.d/k3s-prereqs.nft; nft delete table inet drover 2>/dev/null; true')));
}, 900_000);

afterAll(async () => {
  if (lab) {
    // Leave the masters without our 6443 filter (the K3s tests reach the API from other hosts).
    await Promise.all(MASTERS.map((h) => lab!.sh(h, `systemctl stop ${LISTENER_UNIT}-6443 2>/dev/null; systemctl disable --now nftables 2>/dev/null; true`)));
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('role base on the lab', () => {
  it('converges, then a second run changes nothing', async (ctx) => {
    if (!lab) return ctx.skip();
    const t0 = Date.now();
    const first = await converge();
    const firstMs = Date.now() - t0;
    expect(first.others.code, describeRun(first.others)).toBe(0);
    expect(first.masters.code, describeRun(first.masters)).toBe(0);
    for (const h of ALL) {
      const run = MASTERS.includes(h) ? first.masters : first.others;
      expect(run.recap!.hosts[h]!.changed, `${h} changed on the first run`).toBeGreaterThan(0);
    }
    // The container reasons are reported, not hidden.
    const chrony = first.others.tasks.find((e) => e.host === 'worker1' && e.task === 'chrony can run here');
    expect(chrony?.msg).toContain('chronyd runs with -x in this container (systemd-nspawn)');

    const t1 = Date.now();
    const second = await converge();
    const secondMs = Date.now() - t1;
    expect(second.others.code, describeRun(second.others)).toBe(0);
    expect(second.masters.code, describeRun(second.masters)).toBe(0);
    const changedTasks = [...second.others.tasks, ...second.masters.tasks].filter((e) => e.status === 'changed').map((e) => `${e.host}: ${e.task}: ${e.msg}`);
    expect(changedTasks).toEqual([]);
    expect(second.others.changed + second.masters.changed).toBe(0);
    console.log(`[role-base] 8 hosts: first run ${firstMs} ms, second (no change) run ${secondMs} ms`);
  });

  it('hostname, /etc/hosts block and timezone', async (ctx) => {
    if (!lab) return ctx.skip();
    for (const h of ALL) {
      const r = await lab.sh(h, 'hostname; readlink /etc/localtime; cat /etc/timezone; date +%Z; cat /etc/hosts');
      const [name, link, tz, zone] = r.stdout.split('\n');
      expect(name).toBe(h);
      expect(link).toBe('/usr/share/zoneinfo/Europe/Madrid');
      expect(tz).toBe('Europe/Madrid');
      expect(['CET', 'CEST']).toContain(zone);
      const block = r.stdout.slice(r.stdout.indexOf('# BEGIN DROVER MANAGED BLOCK inventory'), r.stdout.indexOf('# END DROVER MANAGED BLOCK inventory'));
      for (const [n, a] of Object.entries(ADDR)) expect(block).toContain(`${a}\t${n}\n`);
      // The lab's own lines (the apt mirror name) are kept.
      expect(r.stdout).toMatch(/^10\.17\.4\.1\s+\S+$/m);
    }
  });

  it('the admin logs in with its key and sudoes; a password login is refused', async (ctx) => {
    if (!lab) return ctx.skip();
    for (const h of ['worker1', 'master2', 'infra']) {
      const r = await adminSsh(h, 'id -un; sudo -n id -u');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${ADMIN}\n0\n`);
      const pw = await adminSsh(h, 'true', ['-o', 'PreferredAuthentications=password,keyboard-interactive', '-o', 'PubkeyAuthentication=no']);
      expect(pw.code).toBe(255);
      // The methods the server still offers: publickey only.
      expect(pw.stderr).toMatch(/Permission denied \(publickey\)\./);
      const t = await lab.sh(h, "sshd -T | grep -E '^(passwordauthentication|kbdinteractiveauthentication|permitrootlogin) '; stat -c '%a %U' /etc/sudoers.d/drover-admins; visudo -cf /etc/sudoers.d/drover-admins >/dev/null && echo sudoers-ok");
      expect(t.stdout).toBe('permitrootlogin without-password\npasswordauthentication no\nkbdinteractiveauthentication no\n440 root\nsudoers-ok\n');
    }
  });

  it('chrony: the clients poll infra, infra serves the lab subnet and sees them', async (ctx) => {
    if (!lab) return ctx.skip();
    const clients = ['master1', 'worker2', 'storage1'];
    const infra = await lab.sh('infra', 'systemctl is-active chrony; ps -o args= -C chronyd; grep -E "^(allow|local|server|pool)" /etc/chrony/chrony.conf');
    expect(infra.stdout).toContain('active\n');
    expect(infra.stdout).toMatch(/chronyd .*-x/);
    expect(infra.stdout).toContain('allow 10.17.4.0/24\nlocal stratum 10\n');
    expect(infra.stdout).not.toMatch(/^(server|pool) /m);
    for (const c of clients) {
      // Ask for an immediate poll (the first iburst may have hit infra while it restarted).
      await lab.sh(c, 'chronyc burst 4/4 >/dev/null');
    }
    const reach: Record<string, string> = {};
    for (const c of clients) {
      const deadline = Date.now() + 40_000;
      let line = '';
      while (Date.now() < deadline) {
        line = (await lab.sh(c, 'chronyc -n sources | grep 10.17.4.11')).stdout.trim();
        const r = line.split(/\s+/)[4];
        if (r && r !== '0') break;
        await new Promise((res) => setTimeout(res, 2000));
      }
      reach[c] = line;
      expect(line, `${c}: chronyc sources`).toMatch(/^\^[*+?x~-] 10\.17\.4\.11 +10 +\d+ +[1-7]\d*/);
    }
    const clientsSeen = (await lab.sh('infra', 'chronyc -n clients')).stdout;
    for (const c of clients) expect(clientsSeen).toContain(ADDR[c]);
    console.log(`[role-base] chrony sources:\n${Object.entries(reach).map(([h, l]) => `  ${h}: ${l}`).join('\n')}\n[role-base] infra chronyc clients:\n${clientsSeen}`);
  });

  it('nftables: 6443 on a master only from the allowed source; other ports untouched', async (ctx) => {
    if (!lab) return ctx.skip();
    const rules = await lab.sh('master1', 'systemctl is-enabled nftables; nft list ruleset');
    expect(rules.stdout).toContain('enabled\n');
    expect(rules.stdout).toContain('table inet drover');
    // The kernel's set holds the allowed source and not the other host.
    const member = (ip: string) => lab!.sh('master1', `nft get element inet drover allowed_v4 '{ ${ip} }' >/dev/null 2>&1; echo $?`);
    expect((await member(CONTROLLER)).stdout).toBe('0\n');
    expect((await member(ADDR.worker1!)).stdout).toBe('1\n');
    expect(rules.stdout).toContain('tcp dport 6443 jump protected');
    const stop = await listenOn('master1', 6443);
    try {
      const fromController = await labExec(probeTcp(ADDR.master1!, 6443));
      expect(fromController.stdout).toBe('connected rc=0\n');
      const fromWorker = await lab.sh('worker1', probeTcp(ADDR.master1!, 6443));
      expect(fromWorker.stdout).toBe(' rc=124\n');
      // Only the protected port is filtered: ssh from the same host still connects.
      const ssh = await lab.sh('worker1', probeTcp(ADDR.master1!, 22));
      expect(ssh.stdout).toBe('connected rc=0\n');
      const dropped = await lab.sh('master1', 'nft list chain inet drover protected | grep -o "counter packets [0-9]*"');
      expect(Number(dropped.stdout.trim().split(' ')[2])).toBeGreaterThan(0);
      console.log(`[role-base] master1:6443 from ${CONTROLLER}: accepted; from worker1 (${ADDR.worker1}): dropped (${dropped.stdout.trim()})`);
    } finally {
      await stop();
    }
  });

  it('--check after a drift reports it and changes nothing; a real run repairs it', async (ctx) => {
    if (!lab) return ctx.skip();
    await lab.sh('worker2', 'echo "PermitEmptyPasswords no" >> /etc/ssh/sshd_config.d/50-drover.conf');
    await lab.sh('master2', 'nft delete table inet drover');
    const before = (await lab.sh('worker2', 'sha256sum /etc/ssh/sshd_config.d/50-drover.conf')).stdout;
    const check = await converge(['--check', '--diff']);
    expect(check.others.code, describeRun(check.others)).toBe(0);
    expect(check.masters.code, describeRun(check.masters)).toBe(0);
    const changed = [...check.others.tasks, ...check.masters.tasks].filter((e) => e.status === 'changed');
    // The handler the drift would notify is reported too (as would-reload), as in Ansible.
    expect(changed.map((e) => `${e.host}: ${e.handler ? 'handler ' : ''}${e.task}`).sort()).toEqual([
      'master2: nftables ruleset loaded',
      'worker2: handler reload sshd',
      'worker2: sshd hardening drop-in',
    ]);
    const sshd = changed.find((e) => e.host === 'worker2' && !e.handler)!;
    expect(sshd.msg).toMatch(/^would update \/etc\/ssh\/sshd_config\.d\/50-drover\.conf/);
    expect(sshd.diff?.[0]?.before).toContain('PermitEmptyPasswords no');
    // Nothing changed on the hosts.
    expect((await lab.sh('worker2', 'sha256sum /etc/ssh/sshd_config.d/50-drover.conf')).stdout).toBe(before);
    expect((await lab.sh('master2', 'nft list table inet drover >/dev/null 2>&1; echo $?')).stdout).toBe('1\n');

    const fix = await converge();
    const fixed = [...fix.others.tasks, ...fix.masters.tasks].filter((e) => e.status === 'changed').map((e) => `${e.host}: ${e.handler ? 'handler ' : ''}${e.task}`);
    expect(fixed.sort()).toEqual(['master2: nftables ruleset loaded', 'worker2: handler reload sshd', 'worker2: sshd hardening drop-in']);
    expect((await lab.sh('worker2', 'grep -c PermitEmptyPasswords /etc/ssh/sshd_config.d/50-drover.conf')).stdout).toBe('0\n');
    expect((await lab.sh('master2', 'nft list table inet drover >/dev/null 2>&1; echo $?')).stdout).toBe('0\n');
  });
});

// Role k3s-prereqs on the lab's K3s nodes (master1-3, worker1-3, storage1), checked by its
// real effect: sysctl values read from /proc/sys on every host, files persisted, a swap
// line commented out of fstab, the container reasons in the events (modules cannot be
// loaded, SELinux is RHEL-only, no firewalld), and, composed with role base's nftables
// allow-list, the K3s ports open to the nodes and closed to a host outside the cluster.
// Then a second run changes nothing, and --check after a drift reports it and changes nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labExec } from '../../lab/index.ts';
import { describeRun, runDrover, type DroverRun } from './support/drover.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const MASTERS = ['master1', 'master2', 'master3'];
const NODES = [...MASTERS, 'worker1', 'worker2', 'worker3', 'storage1'];
const ADDR = { master1: '10.17.4.21', worker1: '10.17.4.24', infra: '10.17.4.11' } as const;
const CONTROLLER = '10.17.4.1';
const LISTENER_UNIT = 'drover-test-k3s-listener';
const SYSCTLS = ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding', 'net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables'];
const FSTAB_SWAP = '/swapfile none swap sw 0 0';

let lab: Lab | undefined;
const tmp = mkdtempSync(join(tmpdir(), 'drover-role-k3s-prereqs-'));
const prereqsRunner = join(tmp, 'k3s-prereqs.mts');
const foundationRunner = join(tmp, 'foundation.mts');
const nftVars = join(tmp, 'nft.json');
const extraVars = join(tmp, 'extra.json');
/** A non-namespaced sysctl (the host kernel's), set to a value it does not have. */
let swappiness = 1;

const prereqs = (extra: string[] = []) => runDrover(prereqsRunner, ['-i', lab!.inventory, '--limit', NODES.join(','), '-e', `@${extraVars}`, ...extra]);
/** base + k3s-prereqs on the masters, with base's allow-list on (only the controller and the LBs allowed). */
const foundation = (extra: string[] = []) => runDrover(foundationRunner, ['-i', lab!.inventory, '--limit', MASTERS.join(','), '-e', `@${nftVars}`, ...extra]);

const procPath = (k: string) => `/proc/sys/${k.replace(/\./g, '/')}`;
const probeTcp = (addr: string, port: number) => `timeout 4 bash -c 'exec 3<>/dev/tcp/${addr}/${port} && printf connected' 2>/dev/null; echo " rc=$?"`;
const changedTasks = (r: DroverRun) => r.tasks.filter((e) => e.status === 'changed').map((e) => `${e.host}: ${e.handler ? 'handler ' : ''}${e.task}`);

/** A listener for the filter test, unless something (the haproxy test's backends) already listens. */
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
    console.warn('[role-k3s-prereqs] lab not available here: skipping the role k3s-prereqs lab tests');
    return;
  }
  const root = process.cwd();
  const runnerFor = (plays: string) =>
    [`import { main } from '${root}/lib/cli/index.ts';`, `import { ${plays} } from '${root}/playbooks/plays/base.ts';`, `await main({ name: 'k3s-prereqs', plays: ${plays} });`, ''].join('\n');
  writeFileSync(prereqsRunner, runnerFor('k3sPrereqsPlays'));
  writeFileSync(foundationRunner, runnerFor('foundationPlays'));
  const current = Number((await lab.sh('worker1', 'cat /proc/sys/vm/swappiness')).stdout.trim());
  swappiness = current === 1 ? 2 : 1;
  // The plain runs leave the firewall out explicitly (whatever group_vars say for masters);
  // the foundation runs below turn base's allow-list on.
  writeFileSync(extraVars, JSON.stringify({ k3s_prereqs_sysctls_extra: { 'vm.swappiness': swappiness }, base_nftables_enabled: false }));
  writeFileSync(nftVars, JSON.stringify({ base_nftables_enabled: true, base_nftables_allowed_cidrs: [`${CONTROLLER}/32`, '10.17.4.30/32', '10.17.4.31/32'] }));
  // Start from hosts that need work: no persisted files, IPv6 forwarding off, a swap line in fstab.
  await Promise.all(
    NODES.map((h) => lab!.sh(h, 'rm -f /etc/sysctl.d/90-k3s.conf /etc/modules-load.d/k3s.conf; sysctl -qw net.ipv6.conf.all.forwarding=0; sed -i "/ swap /d" /etc/fstab')),
  );
  await lab.sh('worker3', `echo '${FSTAB_SWAP}' >> /etc/fstab`);
  await Promise.all(MASTERS.map((h) => lab!.sh(h, 'rm -f /etc/nftables.d/k3s-prereqs.nft')));
}, 900_000);

afterAll(async () => {
  // Leave the masters without the 6443 filter: the K3s and haproxy tests reach it from other hosts.
  if (lab) await Promise.all(MASTERS.map((h) => lab!.sh(h, `systemctl stop ${LISTENER_UNIT}-6443 ${LISTENER_UNIT}-2379 2>/dev/null; systemctl disable --now nftables 2>/dev/null; true`)));
  rmSync(tmp, { recursive: true, force: true });
});

describe('role k3s-prereqs on the lab', () => {
  it('converges: real sysctls, persisted files, swap commented; container reasons in the events; second run changes nothing', async (ctx) => {
    if (!lab) return ctx.skip();
    const first = await prereqs();
    expect(first.code, describeRun(first)).toBe(0);
    // The play lists only k3s-prereqs: role base ran first on every node as its declared dependency.
    expect(first.tasks.filter((e) => e.task === 'hostname').map((e) => e.host).sort()).toEqual([...NODES].sort());

    for (const h of NODES) {
      const values = await lab.sh(h, SYSCTLS.map((k) => `cat ${procPath(k)}`).join('; '));
      expect(values.stdout, `${h}: ${SYSCTLS.join(', ')}`).toBe('1\n1\n1\n1\n');
      const files = await lab.sh(h, 'cat /etc/sysctl.d/90-k3s.conf; echo ---; grep -v "^#" /etc/modules-load.d/k3s.conf');
      expect(files.stdout).toBe(`${SYSCTLS.map((k) => `${k} = 1`).join('\n')}\nvm.swappiness = ${swappiness}\n---\noverlay\nbr_netfilter\n`);
      expect(first.recap!.hosts[h]!.changed).toBeGreaterThan(0);
    }
    expect((await lab.sh('worker3', 'grep swap /etc/fstab')).stdout).toBe(`# ${FSTAB_SWAP}\n`);
    expect(first.tasks.find((e) => e.host === 'worker3' && e.task === 'swap off')).toMatchObject({ status: 'changed', msg: 'comment out swap in /etc/fstab' });

    // What a container cannot do is reported skipped with the reason, per host.
    const reason = (task: string) => first.tasks.filter((e) => e.task === task).map((e) => `${e.status}: ${e.msg}`);
    const modules = reason('kernel modules loaded');
    expect(modules).toHaveLength(NODES.length);
    for (const m of modules) expect(m).toMatch(/^skipped: cannot load kernel modules in a container \(systemd-nspawn\): the host kernel (provides|lacks) /);
    for (const m of reason('modprobe available')) expect(m).toBe('skipped: not needed: kernel modules cannot be loaded in a container (systemd-nspawn)');
    for (const m of reason('SELinux permissive')) expect(m).toBe('skipped: SELinux is only managed on the RHEL family (this host: debian)');
    for (const m of reason('firewalld opens the K3s ports')) expect(m).toBe('skipped: firewalld is not active on this host');
    // IPv6 forwarding was really set (it was 0): namespaced, so done for real in a container.
    for (const m of reason('forwarding sysctls')) expect(m).toContain('set net.ipv6.conf.all.forwarding = 1 (was 0)');
    const bridge = reason('bridge netfilter sysctls');
    console.log(`[role-k3s-prereqs] modules: ${modules[0]}\n[role-k3s-prereqs] bridge sysctls: ${bridge[0]}`);

    const t1 = Date.now();
    const second = await prereqs();
    expect(second.code, describeRun(second)).toBe(0);
    expect(changedTasks(second)).toEqual([]);
    expect(second.changed).toBe(0);
    // vm.* is the host kernel's: persisted, but its live part is skipped with the reason.
    for (const e of second.tasks.filter((x) => x.task === 'extra sysctls')) {
      expect(`${e.status}: ${e.msg}`).toBe('skipped: live value not set: vm.swappiness is not namespaced and this host is a container (systemd-nspawn)');
    }
    expect((await lab.sh('worker1', 'cat /proc/sys/vm/swappiness')).stdout.trim()).not.toBe(String(swappiness));
    console.log(`[role-k3s-prereqs] 7 nodes, second (no change) run: ${Date.now() - t1} ms`);
  });

  it('with base nftables: K3s ports open to the nodes, closed to a host outside the cluster', async (ctx) => {
    if (!lab) return ctx.skip();
    // Hosts keep their state between runs (an earlier site run may have written the file):
    // remove it so this run must write it again.
    await lab.sh('master1', 'rm -f /etc/nftables.d/k3s-prereqs.nft');
    const first = await foundation();
    expect(first.code, describeRun(first)).toBe(0);
    const nft = first.tasks.find((e) => e.host === 'master1' && e.task === 'nftables allow-list admits the K3s ports');
    expect(nft?.status).toBe('changed');
    const ruleset = (await lab.sh('master1', 'nft list chain inet drover input; nft list chain inet drover allow')).stdout;
    expect(ruleset).toMatch(/tcp dport \{ 2379-2380, 6443, 10250 \} jump protected/);
    expect(ruleset).toMatch(/udp dport \{ 8472, 51820-51821 \} jump protected/);

    const stops = [await listenOn('master1', 6443), await listenOn('master1', 2379)];
    try {
      const seen: string[] = [];
      for (const port of [6443, 2379]) {
        // A node (worker1) is admitted by k3s-prereqs; infra is not a node and not allowed by base.
        const fromNode = await lab.sh('worker1', probeTcp(ADDR.master1, port));
        expect(fromNode.stdout, `worker1 -> master1:${port}`).toBe('connected rc=0\n');
        const fromInfra = await lab.sh('infra', probeTcp(ADDR.master1, port));
        expect(fromInfra.stdout, `infra -> master1:${port}`).toBe(' rc=124\n');
        const fromController = await labExec(probeTcp(ADDR.master1, port));
        expect(fromController.stdout, `controller -> master1:${port}`).toBe('connected rc=0\n');
        seen.push(`${port}: worker1 accepted, infra dropped, ${CONTROLLER} accepted`);
      }
      console.log(`[role-k3s-prereqs] master1 ${seen.join('; ')}`);
    } finally {
      for (const stop of stops) await stop();
    }

    const second = await foundation();
    expect(second.code, describeRun(second)).toBe(0);
    expect(changedTasks(second)).toEqual([]);
  });

  it('--check after a drift reports it and changes nothing; a real run repairs it', async (ctx) => {
    if (!lab) return ctx.skip();
    await lab.sh('worker2', 'sysctl -qw net.ipv4.ip_forward=0; sed -i "s/^net.bridge.bridge-nf-call-ip6tables = 1/net.bridge.bridge-nf-call-ip6tables = 0/" /etc/sysctl.d/90-k3s.conf');
    const before = (await lab.sh('worker2', 'cat /proc/sys/net/ipv4/ip_forward; sha256sum /etc/sysctl.d/90-k3s.conf')).stdout;
    const check = await prereqs(['--check', '--diff']);
    expect(check.code, describeRun(check)).toBe(0);
    expect(changedTasks(check).sort()).toEqual(['worker2: bridge netfilter sysctls', 'worker2: forwarding sysctls']);
    const fwd = check.tasks.find((e) => e.host === 'worker2' && e.task === 'forwarding sysctls')!;
    expect(fwd.msg).toContain('would set net.ipv4.ip_forward = 1 (was 0)');
    const br = check.tasks.find((e) => e.host === 'worker2' && e.task === 'bridge netfilter sysctls')!;
    expect(br.diff?.[0]?.before).toContain('net.bridge.bridge-nf-call-ip6tables = 0');
    expect((await lab.sh('worker2', 'cat /proc/sys/net/ipv4/ip_forward; sha256sum /etc/sysctl.d/90-k3s.conf')).stdout).toBe(before);

    const fix = await prereqs();
    expect(changedTasks(fix).sort()).toEqual(['worker2: bridge netfilter sysctls', 'worker2: forwarding sysctls']);
    expect((await lab.sh('worker2', 'cat /proc/sys/net/ipv4/ip_forward; grep ip6tables /etc/sysctl.d/90-k3s.conf')).stdout).toBe('1\nnet.bridge.bridge-nf-call-ip6tables = 1\n');
  });
});

// Parts 1 and 2: the lab hosts (real Debian 12 under systemd-nspawn, `npm run lab -- up`).
// The same no-change run of base, k3s-prereqs, haproxy and keepalived by Drover
// (bench/playbooks/lab-site.ts: the project's own plays), by Ansible (bench/ansible/lab-site.yml)
// and by the floor (bench/lab/floor-lib.sh + per-host checks, one ssh session per host), side
// by side, rounds interleaved. Every controller runs inside the lab namespace.
//
// Ansible needs Python on a target; the lab keeps the K3s nodes without it on purpose (Drover
// must not need it), so Ansible runs on the hosts that have it (load balancers, infra,
// databases) and the all-hosts comparison is Drover against the floor.
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_NETNS, labReset, labSshArgv, labStatus, labSsh, labUp } from '../lab/index.ts';
import { loadInventory } from '../lib/inventory/index.ts';
import type { Inventory } from '../lib/inventory/types.ts';
import { quote } from '../lib/shell/quote.ts';
import { CHRONY_CONTAINER_DROP_IN, NFTABLES_CONF, NFTABLES_DROP_IN, SSHD_DROP_IN, SUDOERS_FILE, packageList } from '../roles/base/index.ts';
import { NFT_INCLUDE_DIR, NFT_TABLE } from '../roles/base/templates.ts';
import { baseVars } from '../roles/base/vars.ts';
import { K3S_NFT_FILE, MODULES_LOAD_FILE, SYSCTL_PATH } from '../roles/k3s-prereqs/index.ts';
import { BRIDGE_SYSCTLS, FORWARDING_SYSCTLS, k3sPrereqsVars } from '../roles/k3s-prereqs/vars.ts';
import { haproxyVars } from '../roles/haproxy/vars.ts';
import { LINKS } from '../roles/k3s-master/install.ts';
import { CONFIG_PATH, envFile, K3S_BIN, unitFile, unitName, type K3sKind } from '../roles/k3s-master/templates.ts';
import { apiVip, k3sVars } from '../roles/k3s-master/vars.ts';
import { prepareK3sHosts, startK3sRelease, type K3sRelease } from '../test/lab/support/k3s-double.ts';
import { keepalivedVars } from '../roles/keepalived/vars.ts';
import { type Measurement, measure } from './lib/measure.ts';
import { fmtMiB, fmtRatio, fmtS, load1, machine, median, type Sample, summarise, type Summary, table } from './lib/report.ts';
import { parseAnsibleRecap } from './scale.ts';
import { parseFloorOutput } from './scale/floor.ts';
import { KEX } from './scale/fleet.ts';
import { buildIfNeeded, droverCommand, isDrover, type DroverVariant } from './lib/drover.ts';
import { type DelayCheck, delayProblems, droverRoundTrips, RelayProcess, relayKnownHosts, relayOverlay, relayRoutes, turnsOfRun, withKnownHosts } from './lib/relay.ts';
import { KNOWN_HOSTS } from '../lab/paths.ts';
import { FIRST_CASES, LAB_SCENARIOS, type FirstCaseId, type LabScenarioId } from './lib/lab-cases.ts';

/** The Drover variants (bench/lib/drover.ts), Ansible and the floor. */
export type LabTool = DroverVariant | 'ansible' | 'floor';

export interface LabOptions {
  runs: number;
  /** Limit the "all hosts" scenario to these hosts (default: every host of the inventory). */
  hosts?: string[];
  /** The single-host scenario's host (default: the first load balancer with Python). */
  oneHost?: string;
  inventory?: string;
  /** Run Drover from another checkout (an engine before a change). */
  droverRoot?: string;
  /** Node flags for the Drover runs (e.g. --cpu-prof). */
  droverNodeFlags?: string[];
  /** Only these tools (default: all of each scenario's). */
  tools?: LabTool[];
  /**
   * Round-trip times (ms) to measure at, each through a latency relay per host (bench/lib/relay.ts);
   * 0 goes through the relay too, so the relay's own cost is in that row. Unset: straight to the hosts.
   */
  rtts?: number[];
  /** How far (ms) each relay's measured added round trip may be from the RTT asked for (default 3). */
  rttToleranceMs?: number;
  /** Scenarios of the lab part: one, python, all (default: all three). */
  scenarios?: LabScenarioId[];
  /** Cases of lab-first: drover-1, drover-all, ansible-1, ansible-python (default: all four; with rtts the first three). */
  firstCases?: FirstCaseId[];
  log: (msg: string) => void;
}


/** Per-run figures a relay adds: round trips per host counted on the wire, the relay's own CPU. */
export interface RelayFigures {
  /** Round trips per host (mean over the run's hosts; median over runs), and the largest host's. */
  turnsPerHost: number;
  turnsMaxHost: number;
  /** SSH connections per host the tool opened (median over runs). */
  connectionsPerHost: number;
  relayCpuMs: number;
}

/** The relays' delay, checked before the runs of one RTT (which must pass) and after them (reported). */
export interface DelayReport {
  rttMs: number;
  before: DelayCheck[];
  after?: DelayCheck[];
}

export interface LabScenario {
  name: string;
  hosts: string[];
  tools: LabTool[];
  /** Through the latency relays at this RTT (ms); undefined: straight to the hosts. */
  rttMs?: number;
  results: Map<LabTool, { summary: Summary; targetCpuMs: number; tasks: number; engineMs?: number; relay?: RelayFigures; droverRoundTrips?: number }>;
}

/** One RTT's relays: the process and the files each tool reads to go through it. */
interface Via {
  rttMs: number;
  relay: RelayProcess;
  droverOverlay: string;
  ansibleOverlay: string;
  knownHosts: string;
  report: DelayReport;
}

const repo = new URL('..', import.meta.url).pathname;
const workDir = '/run/drover-bench-lab';
const here = new URL('.', import.meta.url).pathname;
const CGROUP_V2 = '/sys/fs/cgroup/unified/drover-lab';
const LAB_CHRONY_DROP_IN = `/etc/systemd/system/chrony.service.d/${CHRONY_CONTAINER_DROP_IN}`;

/** What the four roles manage on one host, as the floor checks it and Ansible copies it. */
interface HostPlan {
  name: string;
  address: string;
  python: boolean;
  groups: string[];
  /** Files compared by sha256 + attributes (content also fetched for Ansible's copies). */
  files: string[];
  lines: string[];
}

/** Hosts of a group, in inventory order. */
const groupOf = (inv: Inventory, g: string) => [...inv.hosts.values()].filter((h) => h.groups.includes(g)).map((h) => h.name);

/**
 * What roles k3s-master / k3s-worker check on a converged node (their no-change run): the
 * binary's version, links, config/env/unit files, the unit active, enabled and not older than
 * what it reads, and the gates (servers: token file, /readyz, voter; agents: the VIP). The
 * first server also answers for the others: the preflight's VIP check, the token read for each
 * joiner and agent, each agent's registration, and the kubeconfig the controller fetches.
 */
function k3sLines(inv: Inventory, name: string, vars: Record<string, unknown>): { files: string[]; lines: string[] } | undefined {
  const v = k3sVars.parse(vars);
  const servers = groupOf(inv, v.k3s_server_group);
  const agents = groupOf(inv, v.k3s_agent_group).filter((h) => !servers.includes(h));
  const kind: K3sKind | undefined = servers.includes(name) ? 'server' : agents.includes(name) ? 'agent' : undefined;
  if (!kind) return undefined;
  const unit = unitName(kind);
  const files = [CONFIG_PATH, envFile(kind), unitFile(kind)];
  const vip = `${apiVip(v)} ${v.k3s_api_port}`;
  const lines = [
    `k3sver ${quote(v.k3s_version)}`,
    ...(v.k3s_symlinks ? LINKS.map((l) => `lnk ${l} ${K3S_BIN}`) : []),
    ...files.map((f) => `file_is ${f} @@${f}@@`),
    `svc ${unit}`,
    `k3sfresh ${unit} ${K3S_BIN} ${files.join(' ')}`,
  ];
  if (kind === 'agent') lines.splice(lines.length - 2, 0, `tcp ${vip}`);
  else lines.push(`k3sready ${quote(name)} ${servers[0] === name ? 0 : 1}`);
  if (servers[0] === name) {
    lines.push(`tcp ${vip}`, ...(v.k3s_token ? [] : [...servers.slice(1), ...agents].map(() => 'tokenread')), ...agents.map((a) => `k3snode ${quote(a)}`), 'kubecfg');
  }
  return { files, lines };
}

function planHost(inv: Inventory, name: string): HostPlan {
  const h = inv.hosts.get(name);
  if (!h) throw new Error(`lab host ${name} is not in the inventory`);
  const base = baseVars.parse(h.vars);
  const k3s = k3sPrereqsVars.parse(h.vars);
  const lb = h.groups.includes('loadbalancers');
  const node = h.groups.includes('k3s_cluster');
  const files = [SSHD_DROP_IN, LAB_CHRONY_DROP_IN, '/etc/chrony/chrony.conf'];
  const lines: string[] = [
    `host ${quote(name)}`,
    `file_is /etc/hostname @@/etc/hostname@@`,
    `block /etc/hosts inventory @@block:/etc/hosts@@`,
    `pkgs ${packageList(base).map(quote).join(' ')}`,
    `lnk /etc/localtime ${quote(`/usr/share/zoneinfo/${base.base_timezone}`)}`,
    `file_is /etc/timezone @@/etc/timezone@@`,
    `absent ${SUDOERS_FILE}`,
    ...files.map((f) => `file_is ${f} @@${f}@@`),
    'svc chrony',
  ];
  if (base.base_nftables_enabled) {
    const more = [`/etc/systemd/system/${NFTABLES_DROP_IN}`, NFTABLES_CONF];
    files.push(...more);
    lines.push(`dir ${NFT_INCLUDE_DIR} 755`, ...more.map((f) => `file_is ${f} @@${f}@@`), 'svc nftables', `nftable ${NFT_TABLE}`);
  }
  if (node) {
    files.push(MODULES_LOAD_FILE, SYSCTL_PATH);
    lines.push('swapoff_', `file_is ${MODULES_LOAD_FILE} @@${MODULES_LOAD_FILE}@@`, ...k3s.k3s_prereqs_modules.map((m) => `module ${m}`));
    lines.push(`file_is ${SYSCTL_PATH} @@${SYSCTL_PATH}@@`, ...Object.entries({ ...FORWARDING_SYSCTLS, ...BRIDGE_SYSCTLS }).map(([k, v]) => `sysctl_is ${k} ${v}`));
    if (base.base_nftables_enabled) {
      files.push(K3S_NFT_FILE);
      lines.push(`file_is ${K3S_NFT_FILE} @@${K3S_NFT_FILE}@@`);
    }
  }
  const k3sNode = node ? k3sLines(inv, name, h.vars) : undefined;
  if (k3sNode) {
    files.push(...k3sNode.files);
    lines.push(...k3sNode.lines);
  }
  if (lb) {
    const hp = haproxyVars.parse(h.vars).haproxy_config_path;
    const ka = keepalivedVars.parse(h.vars).keepalived_config_path;
    files.push(hp, ka);
    lines.push('pkgs haproxy', `file_is ${hp} @@${hp}@@`, 'svc haproxy', 'pkgs keepalived', `file_is ${ka} @@${ka}@@`, 'svc keepalived');
  }
  const address = typeof h.vars.ansible_host === 'string' ? h.vars.ansible_host : name;
  return { name, address, python: h.vars.lab_python === true, groups: h.groups, files: [...files, '/etc/hostname', '/etc/timezone'], lines };
}

interface Fetched {
  /** path -> "sha mode owner group" */
  attrs: Map<string, string>;
  /** path -> content, for Ansible's copy sources */
  content: Map<string, Buffer>;
  hostsBlock: string;
}

/** Read the managed files' state from a host (after Drover's run, the converged state). */
async function fetchState(p: HostPlan): Promise<Fetched> {
  const script = [
    ...p.files.map((f) => `printf '@@ %s %s %s\\n' ${quote(f)} "$(sha256sum < ${quote(f)} | cut -d' ' -f1)" "$(stat -c '%a %U %G' ${quote(f)})"; base64 -w0 < ${quote(f)}; echo`),
    `printf '@@block\\n'; sed -n '/^# BEGIN DROVER MANAGED BLOCK inventory$/,/^# END DROVER MANAGED BLOCK inventory$/p' /etc/hosts`,
  ].join('\n');
  const r = await labSsh(p.name, 'sh -s', { input: script, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`reading the managed files of ${p.name} failed: ${r.stderr}`);
  const out: Fetched = { attrs: new Map(), content: new Map(), hostsBlock: '' };
  const text = r.stdout;
  const blockAt = text.indexOf('@@block\n');
  out.hostsBlock = text.slice(blockAt + '@@block\n'.length);
  const lines = text.slice(0, blockAt).split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const m = /^@@ (\S+) (\S*) (.*)$/.exec(lines[i]!);
    if (!m) throw new Error(`unexpected output reading ${p.name}: ${lines[i]}`);
    if (!m[2]) throw new Error(`${p.name}: ${m[1]} is missing: converge the lab first (a Drover run failed?)`);
    out.attrs.set(m[1]!, `${m[2]} ${m[3]}`);
    out.content.set(m[1]!, Buffer.from(lines[i + 1]!, 'base64'));
  }
  return out;
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function floorScript(p: HostPlan, f: Fetched): string {
  const lib = readFileSync(join(here, 'lab/floor-lib.sh'), 'utf8');
  const body = p.lines.map((l) =>
    l.replace(/@@block:\/etc\/hosts@@/, sha256(f.hostsBlock)).replace(/@@([^@]+)@@/, (_, path: string) => {
      const a = f.attrs.get(path);
      if (!a) throw new Error(`${p.name}: no state read for ${path}`);
      return a;
    }),
  );
  return `${lib}\n${body.join('\n')}\necho "${p.name} changed=$n failed=0"\n`;
}

/** A run that did not do the job (changes found, a host failed or did not answer). */
class LabRunError extends Error {}

interface RunFigures {
  m: Measurement;
  targetCpuMs: number;
  tasks: number;
  engineMs?: number;
  relay?: { meanPerHost: number; maxPerHost: number; connections: number; relayCpuMs: number };
  droverRoundTrips?: number;
}

/** "median 20.6 ms through the relays (19.9-21.2), 0.21 ms straight": one RTT's check, for the log and the tables. */
export function fmtChecks(cs: readonly DelayCheck[]): string {
  const added = cs.map((c) => c.addedMs);
  const through = cs.map((c) => c.relayMs);
  const direct = cs.map((c) => c.directMs);
  return `SSH ping-pong through the ${cs.length} relays: the relay added ${median(added).toFixed(2)} ms (hosts ${Math.min(...added).toFixed(2)}-${Math.max(...added).toFixed(2)}); through it to sshd ${median(through).toFixed(2)} ms, straight to sshd ${median(direct).toFixed(2)} ms (medians)`;
}

class LabRun {
  private inv!: Inventory;
  private plans = new Map<string, HostPlan>();
  /** Every converge run (the first one is a real first converge when the lab is fresh). */
  readonly converges: Array<{ m: Measurement; changed: number; hosts: number }> = [];
  private seq = 0;
  /** The K3s test double served as a release (the lab cannot download K3s), when K3s nodes are benched. */
  private release: K3sRelease | undefined;
  /** The relays runs go through (--rtt), or none. */
  private via: Via | undefined;
  /** Every RTT's delay checks, in order. */
  readonly delays: DelayReport[] = [];
  constructor(private readonly o: LabOptions) {}

  /** The lab bridge address: where the controller side lives and the relays listen. */
  private bridge(): string {
    const b = [...this.inv.hosts.values()][0]?.vars.lab_bridge_address;
    if (typeof b !== 'string') throw new Error('the lab inventory sets no lab_bridge_address');
    return b;
  }

  /**
   * Start the relays of one RTT for `hosts` (known_hosts read now: a reset lab has new host
   * keys), check the delay each adds with the SSH banner ping-pong, and fail if one is off.
   */
  private async startVia(rttMs: number, hosts: readonly string[]): Promise<void> {
    const routes = relayRoutes(hosts.map((h) => ({ name: h, address: this.plans.get(h)!.address })), this.bridge());
    const knownHosts = join(workDir, 'relay-known_hosts');
    writeFileSync(knownHosts, relayKnownHosts(readFileSync(KNOWN_HOSTS, 'utf8'), routes));
    const droverOverlay = join(workDir, 'relay-drover.yaml');
    const ansibleOverlay = join(workDir, 'relay-ansible.yaml');
    writeFileSync(droverOverlay, relayOverlay(routes, 'drover', knownHosts));
    writeFileSync(ansibleOverlay, relayOverlay(routes, 'ansible', knownHosts));
    this.writeFloorDriver(routes);
    this.o.log(`lab: latency relays at ${rttMs} ms RTT (${rttMs / 2} ms each way) on ${routes[0]!.listenHost}:${routes[0]!.listenPort}-${routes[routes.length - 1]!.listenPort}, checking the delay`);
    const relay = await RelayProcess.start({ netns: LAB_NETNS, repo, routes, rttMs });
    try {
      const before = await relay.check(5);
      this.o.log(`  ${fmtChecks(before)}`);
      const tol = this.o.rttToleranceMs ?? 3;
      const bad = delayProblems(before, rttMs, tol);
      if (bad.length) throw new Error(`the latency relays are off: ${bad.join('; ')}`);
      const report: DelayReport = { rttMs, before };
      this.delays.push(report);
      this.via = { rttMs, relay, droverOverlay, ansibleOverlay, knownHosts, report };
    } catch (e) {
      await relay.stop();
      throw e;
    }
  }

  /** Check the delay again (reported, not enforced: it shows whether it held during the runs), then stop the relays. */
  private async stopVia(): Promise<void> {
    const v = this.via;
    if (!v) return;
    this.via = undefined;
    try {
      v.report.after = await v.relay.check(5);
      this.o.log(`  after the runs: ${fmtChecks(v.report.after)}`);
    } catch (e) {
      this.o.log(`  the delay check after the runs failed: ${(e as Error).message}`);
    } finally {
      await v.relay.stop();
    }
  }

  /** K3s nodes need the double's runtime (nodejs, etcd) and, to converge, its release. */
  private async k3sReady(all: readonly string[]): Promise<void> {
    const k3sHosts = all.filter((h) => this.plans.get(h)!.lines.some((l) => l.startsWith('k3sver ')));
    if (!k3sHosts.length) return;
    this.o.log(`lab: the K3s test double's runtime on ${k3sHosts.join(', ')}, its release served on 10.17.4.1`);
    // A reset lab (lab-first) comes back without it: prepared again before each case.
    await prepareK3sHosts({ inventory: this.o.inventory ?? 'inventory/lab.yaml', sh: (h, c, opt) => labSsh(h, c, opt) }, k3sHosts, k3sHosts.filter((h) => this.plans.get(h)!.lines.some((l) => l.startsWith('k3sready '))));
    this.release ??= await startK3sRelease();
  }

  private async stopRelease(): Promise<void> {
    await this.release?.stop();
    this.release = undefined;
  }

  private files(tag: string) {
    const n = ++this.seq;
    return { stdout: join(workDir, `${n}-${tag}.out`), stderr: join(workDir, `${n}-${tag}.err`) };
  }

  private hostsCpu(hosts: readonly string[]): number {
    let ms = 0;
    for (const h of hosts) {
      try {
        const t = readFileSync(join(CGROUP_V2, h, 'cpu.stat'), 'utf8');
        ms += (Number(/user_usec (\d+)/.exec(t)?.[1] ?? 0) + Number(/system_usec (\d+)/.exec(t)?.[1] ?? 0)) / 1000;
      } catch {
        return NaN;
      }
    }
    return ms;
  }

  /** argv of one run; through the current relays (--rtt) unless `direct` (converges, checks). */
  private argv(tool: LabTool, hosts: readonly string[], direct = false): { argv: string[]; env: NodeJS.ProcessEnv; cwd: string } {
    const inv = this.o.inventory ?? 'inventory/lab.yaml';
    const via = direct ? undefined : this.via;
    const env: NodeJS.ProcessEnv = { ...process.env, CI: '1' };
    const limit = hosts.join(',');
    if (isDrover(tool)) {
      const root = this.o.droverRoot ?? repo;
      const k3sArgs = this.release ? ['-e', `k3s_release_url=${this.release.baseUrl}`] : [];
      const invArgs = ['-i', inv, ...(via ? ['-i', via.droverOverlay] : [])];
      const d = droverCommand(tool, 'bench/playbooks/lab-site', [...invArgs, '--limit', limit, '--forks', String(hosts.length), ...k3sArgs, '--json'], { root, ...(this.o.droverNodeFlags ? { nodeFlags: this.o.droverNodeFlags } : {}) });
      return { argv: ['ip', 'netns', 'exec', LAB_NETNS, ...d.argv], env: d.env, cwd: root };
    }
    if (tool === 'ansible') {
      env.ANSIBLE_CONFIG = join(repo, 'bench/ansible/ansible.cfg');
      env.ANSIBLE_NOCOLOR = '1';
      env.ANSIBLE_SSH_COMMON_ARGS = `-o UserKnownHostsFile=${via ? via.knownHosts : KNOWN_HOSTS} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o KexAlgorithms=${KEX}`;
      const invArgs = ['-i', inv, ...(via ? ['-i', via.ansibleOverlay] : [])];
      return {
        argv: ['ip', 'netns', 'exec', LAB_NETNS, 'ansible-playbook', ...invArgs, 'bench/ansible/lab-site.yml', '-l', limit, '-f', String(hosts.length), '-e', `lab_files=${join(workDir, 'files')}`],
        env,
        cwd: repo,
      };
    }
    const list = join(workDir, `floor-${hosts.length}-${hosts[0]}`);
    writeFileSync(list, hosts.map((h) => `${h}\n`).join(''));
    return { argv: ['ip', 'netns', 'exec', LAB_NETNS, '/bin/sh', join(workDir, via ? 'floor-driver-relay.sh' : 'floor-driver.sh'), list], env, cwd: repo };
  }

  /**
   * One measured run of `run` on `hosts`: the process tree (measure()), the hosts' CPU meanwhile,
   * and with relays (--rtt) the round trips they counted and their CPU over the run.
   */
  private async measureRun(run: ReturnType<LabRun['argv']>, hosts: readonly string[], tag: string) {
    const f = this.files(tag);
    const c0 = this.hostsCpu(hosts);
    const r0 = this.via ? await this.via.relay.stats() : undefined;
    const m = await measure(run.argv, { cwd: run.cwd, env: run.env, stdoutFile: f.stdout, stderrFile: f.stderr, timeoutMs: 30 * 60_000 });
    const targetCpuMs = this.hostsCpu(hosts) - c0;
    let relay: (ReturnType<typeof turnsOfRun> & { relayCpuMs: number }) | undefined;
    if (this.via && r0) {
      const r1 = await this.via.relay.stats();
      relay = { ...turnsOfRun(r0.stats, r1.stats, hosts), relayCpuMs: r1.cpuMs - r0.cpuMs };
    }
    return { f, m, targetCpuMs, relay };
  }

  private async runTool(tool: LabTool, hosts: readonly string[]): Promise<RunFigures> {
    const { f, m, targetCpuMs, relay } = await this.measureRun(this.argv(tool, hosts), hosts, `${tool}-${hosts.length}${this.via ? `-rtt${this.via.rttMs}` : ''}`);
    const text = readFileSync(f.stdout, 'utf8');
    let check: { hosts: number; changed: number; failed: number };
    let tasks = 0;
    let engineMs: number | undefined;
    let ownTrips: number | undefined;
    if (isDrover(tool)) {
      const last = JSON.parse(text.trim().split('\n').pop() ?? '{}') as { type?: string; durationMs?: number; hosts?: Record<string, { ok: number; changed: number; failed: number; unreachable: number; skipped: number; roundTrips?: unknown }> };
      engineMs = last.durationMs;
      ownTrips = droverRoundTrips(last);
      const hs = Object.values(last.hosts ?? {});
      check = { hosts: hs.length, changed: hs.reduce((a, h) => a + h.changed, 0), failed: hs.reduce((a, h) => a + h.failed + h.unreachable, 0) };
      tasks = hs.reduce((a, h) => a + h.ok + h.changed, 0);
    } else if (tool === 'ansible') {
      check = parseAnsibleRecap(text);
      for (const mm of text.slice(text.lastIndexOf('PLAY RECAP')).matchAll(/ok=(\d+)\s+changed=(\d+)/g)) tasks += Number(mm[1]);
    } else {
      check = parseFloorOutput(text);
      tasks = hosts.reduce((a, h) => a + (this.plans.get(h)?.lines.length ?? 0), 0);
    }
    const problem = m.timedOut
      ? 'timed out'
      : check.hosts !== hosts.length
        ? `${check.hosts} of ${hosts.length} hosts reported`
        : check.failed
          ? `${check.failed} failures`
          : check.changed
            ? `${check.changed} changes in a no-change run`
            : null;
    if (problem) throw new LabRunError(`${tool} on ${hosts.join(',')}: ${problem} (see ${f.stdout}, ${f.stderr})`);
    return { m, targetCpuMs, tasks, ...(engineMs !== undefined ? { engineMs } : {}), ...(relay ? { relay } : {}), ...(ownTrips !== undefined ? { droverRoundTrips: ownTrips } : {}) };
  }

  /**
   * The floor's driver: one `ssh host sh -s < script` per host, all in parallel. With relay
   * routes (--rtt), floor-driver-relay.sh: the same, to each host's relay port, its key under
   * [bridge]:port in the relays' known_hosts.
   */
  private writeFloorDriver(routes?: ReadonlyArray<{ name: string; listenHost: string; listenPort: number }>): void {
    const first = [...this.plans.values()][0]!;
    const full = labSshArgv(first.name);
    if (!full[full.length - 1]!.endsWith(`@${first.address}`)) throw new Error(`unexpected lab ssh argv: ${full.join(' ')}`);
    const ssh = routes ? withKnownHosts(full.slice(0, -1), join(workDir, 'relay-known_hosts')) : full.slice(0, -1);
    const lines = ['#!/bin/sh', '# usage: floor-driver.sh HOSTLIST (one lab host name per line)', 'while read -r name; do'];
    lines.push('  case $name in');
    if (routes) for (const r of routes) lines.push(`    ${r.name}) addr=${r.listenHost} port=${r.listenPort} ;;`);
    else for (const p of this.plans.values()) lines.push(`    ${p.name}) addr=${p.address} port=22 ;;`);
    lines.push('  esac');
    lines.push(`  ${ssh.map(quote).join(' ')} -o KexAlgorithms=${KEX} -o ControlMaster=no -p "$port" root@"$addr" sh -s < ${quote(workDir)}/floor-"$name".sh &`);
    lines.push('done < "$1"', 'wait', '');
    writeFileSync(join(workDir, routes ? 'floor-driver-relay.sh' : 'floor-driver.sh'), lines.join('\n'));
  }

  /**
   * Drover brings the hosts to the roles' state (normally a no-change run: the lab tests
   * converge it), then the state is read back: the floor's expected values and Ansible's copy
   * sources. Every later run of every tool must change nothing.
   */
  private async converge(all: readonly string[]): Promise<void> {
    this.o.log(`lab: drover run on ${all.length} hosts (converge), then reading the managed files`);
    const { argv, env, cwd } = this.argv('drover', all, true);
    const f = this.files('drover-converge');
    const conv = await measure(argv, { cwd, env, stdoutFile: f.stdout, stderrFile: f.stderr });
    if (conv.code !== 0) throw new Error(`the converge run failed (exit ${conv.code}): see ${f.stdout}`);
    const recap = JSON.parse(readFileSync(f.stdout, 'utf8').trim().split('\n').pop() ?? '{}') as { hosts?: Record<string, { changed: number }> };
    const changed = Object.values(recap.hosts ?? {}).reduce((a, h) => a + h.changed, 0);
    this.converges.push({ m: conv, changed, hosts: all.length });
    this.o.log(`  converge: ${fmtS(conv.wallMs)}, ${changed} changes`);
    for (const p of this.plans.values()) {
      const got = await fetchState(p);
      writeFileSync(join(workDir, `floor-${p.name}.sh`), floorScript(p, got));
      const dir = join(workDir, 'files', p.name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const [path, buf] of got.content) writeFileSync(join(dir, path.replace(/^\//, '').replace(/\//g, '__')), buf, { mode: 0o600 });
      writeFileSync(join(dir, 'hosts.block'), got.hostsBlock.replace(/^# BEGIN.*\n/, '').replace(/# END.*\n?$/, ''), { mode: 0o600 });
    }
    this.writeFloorDriver();
  }

  /** Hosts, plans and work dir; the lab must be up. */
  private async setup(): Promise<{ all: string[]; python: string[]; one: string }> {
    const o = this.o;
    const st = labStatus();
    const running = new Set(st.hosts.filter((h) => h.running).map((h) => h.name));
    this.inv = await loadInventory([join(repo, o.inventory ?? 'inventory/lab.yaml')]);
    const all = (o.hosts ?? [...this.inv.hosts.keys()]).filter((h) => this.inv.hosts.has(h));
    const down = all.filter((h) => !running.has(h));
    if (down.length) throw new Error(`lab hosts not running: ${down.join(', ')} (boot the lab: npm run lab -- up)`);
    for (const h of all) this.plans.set(h, planHost(this.inv, h));
    const python = all.filter((h) => this.plans.get(h)!.python);
    const one = o.oneHost ?? python.find((h) => this.plans.get(h)!.groups.includes('loadbalancers')) ?? python[0] ?? all[0]!;
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(join(workDir, 'files'), { recursive: true, mode: 0o700 });
    chmodSync(workDir, 0o700);
    return { all, python, one };
  }

  async run(): Promise<LabScenario[]> {
    try {
      return await this.runScenarios();
    } finally {
      await this.stopVia();
      await this.stopRelease();
    }
  }

  private async runScenarios(): Promise<LabScenario[]> {
    const o = this.o;
    const { all, python, one } = await this.setup();
    await this.k3sReady(all);
    await this.converge(all);

    const only = (tools: LabTool[]) => (o.tools ? tools.filter((t) => o.tools!.includes(t)) : tools);
    const wanted = o.scenarios ?? LAB_SCENARIOS;
    const scenariosAt = (rttMs: number | undefined): LabScenario[] => {
      const scenario = (id: LabScenarioId, name: string, hosts: string[], tools: LabTool[]): LabScenario[] =>
        wanted.includes(id) ? [{ name, hosts, tools: only(tools), ...(rttMs !== undefined ? { rttMs } : {}), results: new Map() }] : [];
      // Over latency (issue 15): the README's command (npx tsx) and prebuilt on 1 host and on
      // all, no-ahead next to prebuilt everywhere (does probe-ahead pay at latency?).
      const lat = rttMs !== undefined;
      return [
        ...scenario('one', `1 host (${one})`, [one], lat ? ['drover-npx', 'drover-prebuilt', 'drover-no-ahead', 'ansible', 'floor'] : ['drover-npx', 'drover', 'drover-prebuilt', 'ansible', 'floor']),
        ...scenario('python', `the ${python.length} hosts with Python`, python, lat ? ['drover-prebuilt', 'drover-no-ahead', 'ansible', 'floor'] : ['drover', 'drover-prebuilt', 'ansible', 'floor']),
        // rolling: the serial K3s plays without Play.checkFirst (every host in its own batch).
        ...scenario('all', `all ${all.length} lab hosts`, all, lat ? ['drover-npx', 'drover-prebuilt', 'drover-no-ahead', 'drover-rolling', 'floor'] : ['drover', 'drover-prebuilt', 'drover-no-ahead', 'drover-rolling', 'drover-sessions', 'floor']),
      ].filter((s) => s.hosts.length > 0 && s.tools.length > 0);
    };
    const out: LabScenario[] = [];
    let drifts = 0;
    let built = false; // once: every RTT runs the same build
    for (const rttMs of o.rtts ?? [undefined]) {
      const scenarios = scenariosAt(rttMs);
      if (!scenarios.length) throw new Error('no scenario left to run (--lab-scenarios, --tools)');
      if (!built) buildIfNeeded(scenarios.flatMap((s) => s.tools), o.droverRoot ?? repo, o.log);
      built = true;
      if (rttMs !== undefined) await this.startVia(rttMs, all);
      try {
        for (const sc of scenarios) {
          const at = rttMs !== undefined ? `${rttMs} ms RTT, ` : '';
          const samples = new Map<LabTool, { s: Sample[]; t: number[]; e: number[]; tasks: number; turns: number[]; turnsMax: number[]; conns: number[]; relayCpu: number[]; own: number[] }>(
            sc.tools.map((t) => [t, { s: [], t: [], e: [], tasks: 0, turns: [], turnsMax: [], conns: [], relayCpu: [], own: [] }]),
          );
          for (let r = 0; r < o.runs; r++) {
            for (const tool of sc.tools) {
              const load = load1();
              let res: RunFigures;
              try {
                res = await this.runTool(tool, sc.hosts);
              } catch (e) {
                // Other jobs use the lab too: they alter hosts (changes found) or restart them (a
                // host briefly unreachable). Wait, converge again and repeat that run, at most
                // 3 times in the whole part, saying so.
                if (!(e instanceof LabRunError) || (drifts += 1) > 3) throw e;
                o.log(`  the lab changed under the bench (${e.message}): converging again and repeating the run`);
                await new Promise((r) => setTimeout(r, 5_000));
                await this.converge(all);
                res = await this.runTool(tool, sc.hosts);
              }
              const acc = samples.get(tool)!;
              acc.s.push({ m: res.m, load });
              acc.t.push(res.targetCpuMs);
              if (res.engineMs !== undefined) acc.e.push(res.engineMs);
              if (res.relay) {
                acc.turns.push(res.relay.meanPerHost);
                acc.turnsMax.push(res.relay.maxPerHost);
                acc.conns.push(res.relay.connections / sc.hosts.length);
                acc.relayCpu.push(res.relay.relayCpuMs);
              }
              if (res.droverRoundTrips !== undefined) acc.own.push(res.droverRoundTrips);
              acc.tasks = res.tasks;
              const trips = res.relay ? `, ${res.relay.meanPerHost.toFixed(1)} round trips/host (max ${res.relay.maxPerHost})${res.droverRoundTrips !== undefined ? ` (Drover counts ${res.droverRoundTrips.toFixed(1)})` : ''}` : '';
              o.log(`  ${at}${sc.name}, round ${r + 1}: ${tool} ${fmtS(res.m.wallMs)}${trips}, cpu ${fmtS(res.m.cpuMs)}, hosts' cpu ${fmtS(res.targetCpuMs)}, load ${load.toFixed(2)}`);
            }
          }
          for (const [tool, acc] of samples) {
            sc.results.set(tool, {
              summary: summarise(acc.s),
              targetCpuMs: median(acc.t),
              tasks: acc.tasks,
              ...(acc.e.length ? { engineMs: median(acc.e) } : {}),
              ...(acc.turns.length ? { relay: { turnsPerHost: median(acc.turns), turnsMaxHost: median(acc.turnsMax), connectionsPerHost: median(acc.conns), relayCpuMs: median(acc.relayCpu) } } : {}),
              ...(acc.own.length ? { droverRoundTrips: median(acc.own) } : {}),
            });
          }
          out.push(sc);
        }
      } finally {
        await this.stopVia();
      }
    }
    rmSync(join(workDir, 'files'), { recursive: true, force: true }); // copies hold the lab's (lab-only) secrets
    return out;
  }

  /**
   * First converges on fresh hosts: before each one the lab is reset (all host state gone)
   * and booted again from the cached root filesystem, so every case starts from the same
   * fresh Debian. Ansible's copy sources are read from a Drover converge first. After each
   * first converge a Drover no-change run on the same hosts counts what it would still change
   * (0 = the first converge reached the roles' state). The lab is left up and converged.
   */
  async first(): Promise<FirstConverge[]> {
    const o = this.o;
    const { all, python, one } = await this.setup();
    await this.k3sReady(all);
    await this.converge(all);
    const byId: Record<FirstCaseId, { name: string; tool: 'drover' | 'ansible'; hosts: string[] }> = {
      'drover-1': { name: `1 host (${one})`, tool: 'drover', hosts: [one] },
      'drover-all': { name: `all ${all.length} lab hosts`, tool: 'drover', hosts: all },
      'ansible-1': { name: `1 host (${one})`, tool: 'ansible', hosts: [one] },
      'ansible-python': { name: `the ${python.length} hosts with Python`, tool: 'ansible', hosts: python },
    };
    const ids = o.firstCases ?? (o.rtts ? FIRST_CASES.filter((c) => c !== 'ansible-python') : FIRST_CASES);
    // Each RTT runs every case (RTTs outer: a partial run still has whole RTTs).
    const cases = (o.rtts ?? [undefined]).flatMap((rttMs) => ids.map((id) => ({ ...byId[id], rttMs })));
    const out: FirstConverge[] = [];
    const inventory = join(repo, o.inventory ?? 'inventory/lab.yaml');
    try {
      for (const c of cases) {
        const at = c.rttMs !== undefined ? ` at ${c.rttMs} ms RTT` : '';
        o.log(`lab first converge: resetting the lab, then ${c.tool} on ${c.name}${at}`);
        // The release server lives in the lab namespace, which the reset removes: a new one after.
        await this.stopRelease();
        await labReset({ log: () => {} });
        await labUp(inventory, { log: () => {} });
        await this.reachable(all);
        await this.k3sReady(all);
        // The relays after the reset: the hosts have new keys.
        if (c.rttMs !== undefined) await this.startVia(c.rttMs, all);
        const load = load1();
        const run = this.argv(c.tool, c.hosts);
        if (c.tool === 'ansible') run.argv.push('-e', 'lab_fresh=true'); // refresh the empty apt index of a fresh image
        const { f, m, targetCpuMs, relay: turns } = await this.measureRun(run, c.hosts, `first-${c.tool}-${c.hosts.length}${c.rttMs !== undefined ? `-rtt${c.rttMs}` : ''}`);
        const delay = this.via?.report;
        await this.stopVia();
        const text = readFileSync(f.stdout, 'utf8');
        const check = c.tool === 'ansible' ? parseAnsibleRecap(text) : droverRecap(text);
        if (m.code !== 0 || check.failed || check.hosts !== c.hosts.length) throw new Error(`first converge by ${c.tool} on ${c.name} failed (exit ${m.code}): see ${f.stdout}, ${f.stderr}`);
        const after = this.argv('drover-prebuilt', c.hosts, true);
        const fa = this.files(`after-first-${c.tool}-${c.hosts.length}`);
        await measure(after.argv, { cwd: after.cwd, env: after.env, stdoutFile: fa.stdout, stderrFile: fa.stderr });
        const left = droverRecap(readFileSync(fa.stdout, 'utf8')).changed;
        o.log(`  ${fmtS(m.wallMs)}, ${check.changed} changes${turns ? `, ${turns.meanPerHost.toFixed(1)} round trips/host` : ''}; a Drover run after it would still change ${left}`);
        out.push({
          name: c.name,
          tool: c.tool,
          hosts: c.hosts.length,
          m,
          targetCpuMs,
          changed: check.changed,
          leftByDrover: left,
          load,
          ...(c.rttMs !== undefined ? { rttMs: c.rttMs } : {}),
          ...(turns ? { turnsPerHost: turns.meanPerHost } : {}),
          ...(delay ? { delay } : {}),
        });
      }
    } finally {
      await this.stopVia();
      // Leave the lab up (a failed case may have left it down) and converged for whoever comes next.
      await labUp(inventory, { log: () => {} })
        .then(() => this.reachable(all))
        .then(() => this.converge(all))
        .catch((e: unknown) => o.log(`  bringing the lab back failed: ${(e as Error).message}`));
      rmSync(join(workDir, 'files'), { recursive: true, force: true });
      await this.stopRelease();
    }
    return out;
  }

  /** After a boot: every host answers ssh (sshd can take a moment after `up` returns). */
  private async reachable(hosts: readonly string[]): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (const h of hosts) {
      for (;;) {
        const r = await labSsh(h, 'true', { timeoutMs: 5_000 }).catch(() => ({ code: 1 }));
        if (r.code === 0) break;
        if (Date.now() > deadline) throw new Error(`lab host ${h} does not answer ssh after the reset`);
        await new Promise((res) => setTimeout(res, 500));
      }
    }
  }
}

export interface FirstConverge {
  name: string;
  tool: 'drover' | 'ansible';
  hosts: number;
  m: Measurement;
  targetCpuMs: number;
  changed: number;
  /** Changes a Drover run right after still found (0 = converged to the roles' state). */
  leftByDrover: number;
  load: number;
  /** Through the latency relays at this RTT (--rtt), with the round trips per host they counted. */
  rttMs?: number;
  turnsPerHost?: number;
  delay?: DelayReport;
}

/** hosts / changed / failed from Drover's --json recap line. */
function droverRecap(text: string): { hosts: number; changed: number; failed: number } {
  const last = JSON.parse(text.trim().split('\n').pop() ?? '{}') as { hosts?: Record<string, { changed: number; failed: number; unreachable: number }> };
  const hs = Object.values(last.hosts ?? {});
  return { hosts: hs.length, changed: hs.reduce((a, h) => a + h.changed, 0), failed: hs.reduce((a, h) => a + h.failed + h.unreachable, 0) };
}

export async function runLabFirst(o: LabOptions): Promise<FirstConverge[]> {
  return new LabRun(o).first();
}

export function labFirstMarkdown(rows: readonly FirstConverge[], cmd: string): string {
  if (rows.some((r) => r.rttMs !== undefined)) return labFirstRttMarkdown(rows, cmd);
  return [
    '## Lab: first converge on fresh hosts',
    '',
    `Machine: ${machine()}`,
    '',
    `Reproduce: \`npm run lab -- up\`, then \`${cmd}\` (resets the lab before each case: a few minutes)`,
    '',
    table(
      ['hosts', 'tool', 'wall', 'changes', "left for Drover's next run", 'controller CPU', 'controller RSS', "hosts' CPU", 'load avg'],
      rows.map((r) => [r.name, r.tool, fmtS(r.m.wallMs), String(r.changed), String(r.leftByDrover), fmtS(r.m.cpuMs), fmtMiB(r.m.peakTreeRssKiB), fmtS(r.targetCpuMs), r.load.toFixed(2)]),
    ),
    '',
    'One run per case (a first converge is not repeatable without a reset; apt downloads through the lab mirror make it',
    "noisy: read it as minutes, not milliseconds). Before each case `npm run lab -- reset` and `up`: fresh Debian 12 hosts",
    "from the cached root filesystem. Drover: `node --import tsx bench/playbooks/lab-site.ts` (as users run it); Ansible:",
    '`bench/ansible/lab-site.yml` with `-e lab_fresh=true` (its apt tasks refresh the empty index of a fresh image, as',
    "Drover's package op does when something is to be installed). \"left for Drover's next run\": changes a Drover run right",
    "after still made (0: the first converge reached the roles' full state). Ansible's row covers the hosts with Python",
    'only (the K3s nodes have none by design).',
  ].join('\n');
}

export interface LabResults {
  scenarios: LabScenario[];
  converges: Array<{ m: Measurement; changed: number; hosts: number }>;
  delays: DelayReport[];
}

export async function runLab(o: LabOptions): Promise<LabResults> {
  const r = new LabRun(o);
  const scenarios = await r.run();
  return { scenarios, converges: r.converges, delays: r.delays };
}

const fmtTrips = (x: number | undefined): string => (x === undefined ? '' : x >= 100 ? x.toFixed(0) : x.toFixed(1));

/** The section of a run with --rtt: a README-ready table, every column, and the relays' checks. */
export function labRttMarkdown(res: LabResults, o: LabOptions, cmd: string): string {
  const compact: string[][] = [];
  const full: string[][] = [];
  for (const sc of res.scenarios) {
    const get = (t: LabTool) => sc.results.get(t);
    const pre = get('drover-prebuilt');
    const tsx = get('drover-npx') ?? get('drover');
    const tsxName = get('drover-npx') ? 'npx tsx' : 'node --import tsx';
    const na = get('drover-no-ahead');
    const ro = get('drover-rolling');
    const an = get('ansible');
    const fl = get('floor');
    const wall = (r: typeof pre) => (r ? fmtS(r.summary.wallMs) : '');
    const trips = (r: typeof pre) => (r?.relay ? fmtTrips(r.relay.turnsPerHost) : '-');
    const ratio = (a: typeof pre, b: typeof pre) => (a && b ? fmtRatio(a.summary.wallMs / b.summary.wallMs) : '');
    compact.push([
      `${sc.rttMs} ms`,
      sc.name,
      wall(pre),
      tsx ? `${wall(tsx)} (${tsxName})` : '',
      wall(na),
      an ? wall(an) : '(no Python)',
      wall(fl),
      [pre, na, an, fl].map(trips).join(' / '),
      ratio(pre, fl),
      tsx && fl ? ratio(tsx, fl) : '',
      ratio(an, pre),
      ratio(na, pre),
      wall(ro),
      ratio(ro, pre),
      median([...sc.results.values()].map((r) => r.summary.load)).toFixed(2),
    ]);
    for (const [tool, r] of sc.results) {
      const s = r.summary;
      const d = isDrover(tool);
      full.push([
        `${sc.rttMs} ms`,
        sc.name,
        tool,
        `${fmtS(s.wallMs)} (${fmtS(s.wallMinMs)}-${fmtS(s.wallMaxMs)})`,
        r.relay ? `${fmtTrips(r.relay.turnsPerHost)} (${fmtTrips(r.relay.turnsMaxHost)})` : '',
        d ? (r.droverRoundTrips !== undefined ? fmtTrips(r.droverRoundTrips) : 'not reported') : '',
        r.relay ? fmtTrips(r.relay.connectionsPerHost) : '',
        String(s.runs),
        fmtS(s.cpuMs),
        fmtS(r.targetCpuMs),
        r.relay ? fmtS(r.relay.relayCpuMs) : '',
        d && fl ? fmtRatio(s.wallMs / fl.summary.wallMs) : '',
        d && an ? `${fmtRatio(an.summary.wallMs / s.wallMs)}` : '',
        s.load.toFixed(2),
      ]);
    }
  }
  const checks = res.delays.map((d) => `- ${d.rttMs} ms: before the runs ${fmtChecks(d.before)}${d.after ? `; after them ${fmtChecks(d.after).replace(/^SSH ping-pong through the \d+ relays: /, '')}` : ''}`);
  return [
    '## Lab over latency: Drover vs Ansible vs the floor through latency relays (no-change re-run)',
    '',
    `Machine: ${machine()}`,
    '',
    `Reproduce: \`npm run lab -- up\`, then \`${cmd}\``,
    '',
    `Every tool reaches every host through a relay in the lab namespace (lab/latency-relay.ts: one port per host on the lab bridge,`,
    'each direction delayed by RTT/2; the 0 ms rows go through it too, so its own cost is in them). The delay each relay adds was',
    'measured before the runs (5 SSH banner ping-pongs through each relay to its host\'s sshd; added = each ping-pong minus its time',
    `beyond the relay, median; the bench stops if one is more than ${o.rttToleranceMs ?? 3} ms off) and again after them:`,
    '',
    ...checks,
    '',
    'Ready for the README (medians; round trips per host as the relay counted them, for Drover prebuilt / no-ahead / Ansible / floor):',
    '',
    table(['RTT', 'hosts', 'Drover prebuilt', 'Drover (tsx)', 'no-ahead', 'Ansible', 'floor', 'round trips/host', 'Drover/floor', 'tsx/floor', 'Ansible/Drover', 'no-ahead/Drover', 'rolling', 'rolling/Drover', 'load avg'], compact),
    '',
    'Every column:',
    '',
    table(['RTT', 'hosts', 'tool', 'wall, median (min-max)', 'round trips/host (largest host)', "Drover's own count/host", 'connections/host', 'runs', 'controller CPU', "hosts' CPU", 'relay CPU', 'Drover/floor', 'Ansible/Drover', 'load avg'], full),
    '',
    '**Round trips** are counted by the relay, outside every tool, the same way for all: per connection, a direction turn (the',
    'controller sent, then the host answered = 1), summed over the host\'s connections (SSH handshakes and authentication included).',
    'Concurrent channels on one connection can interleave and count as more turns than were waited for, so it is an upper bound of',
    "the round trips a tool waits on. \"Drover's own count\" is what Drover's --json recap reports per host (hosts.NAME.roundTrips), when",
    'the engine reports it: the cross-check. "relay CPU": what the relay process spent during the run (on the same cores).',
    'Tools as in the lab part: drover-prebuilt = `node dist/bench/playbooks/lab-site.js`, drover-npx = `npx tsx bench/playbooks/lab-site.ts`',
    '(the README\'s command word for word, npm\'s start-up included; on 1 host and on all), drover-no-ahead = prebuilt',
    'with `DROVER_PROBE_AHEAD=0`, drover-rolling = prebuilt with `DROVER_CHECK_FIRST=0` (the serial K3s plays roll every host in',
    'its own batch, converged or not, as Ansible does: the engine before Play.checkFirst); Ansible: pipelining, ControlPersist (its default, 60 s; the master is killed after each run, so every',
    'run pays its connection), forks = hosts, only on the hosts with Python; the floor: one `ssh host sh -s` per host with the',
    'hand-written checks. Every timed run is checked: all hosts answered, nothing failed, nothing changed.',
    `Rounds interleaved per scenario (tool A, B, C, then again), RTTs one after another; ${o.runs} runs per tool; load average before each run (median).`,
    `Runs repeated because other jobs altered or restarted lab hosts meanwhile: ${Math.max(0, res.converges.length - 1)}.`,
  ].join('\n');
}

export function labMarkdown(res: LabResults, o: LabOptions, cmd: string): string {
  const scenarios = res.scenarios;
  const first = res.converges[0];
  const rows: string[][] = [];
  for (const sc of scenarios) {
    const a = sc.results.get('ansible')?.summary;
    const f = sc.results.get('floor')?.summary;
    for (const [tool, r] of sc.results) {
      const s = r.summary;
      const d = isDrover(tool) ? s : undefined;
      rows.push([
        sc.name,
        tool,
        String(r.tasks),
        `${fmtS(s.wallMs)} (${fmtS(s.wallMinMs)}-${fmtS(s.wallMaxMs)})`,
        r.engineMs !== undefined ? fmtS(r.engineMs) : '',
        String(s.runs),
        fmtS(s.cpuMs),
        fmtMiB(s.peakTreeRssKiB),
        fmtS(r.targetCpuMs),
        d && a ? `${fmtRatio(a.wallMs / d.wallMs)} faster` : '',
        d && f ? fmtRatio(d.wallMs / f.wallMs) : '',
        s.load.toFixed(2),
      ]);
    }
  }
  return [
    '## Lab: Drover vs Ansible vs the floor (no-change re-run)',
    '',
    `Machine: ${machine()}`,
    '',
    `Reproduce: \`npm run lab -- up\`, then \`${cmd}\``,
    '',
    table(['hosts', 'tool', 'checks', 'wall, median (min-max)', 'of which in the engine', 'runs', 'controller CPU', 'controller RSS', "hosts' CPU", 'Ansible/Drover', 'Drover/floor', 'load avg'], rows),
    '',
    'Drover is started as users can start it, and every row includes its start-up (a fresh process per run, spawn to exit):',
    '**drover** = `node --import tsx bench/playbooks/lab-site.ts` (what `npx tsx` runs, without npm\'s own start-up),',
    '**drover-npx** = `npx tsx bench/playbooks/lab-site.ts`, the README\'s command word for word (npm adds its start-up),',
    '**drover-prebuilt** = `node dist/bench/playbooks/lab-site.js` after `npm run build` (scripts/build.ts: the project\'s',
    'TypeScript bundled, packages from node_modules), **drover-sessions** = prebuilt with `DROVER_PIPELINING=0` (one SSH',
    'session per command instead of the default pipelined shell: the engine before pipelining became the default),',
    '**drover-no-ahead** = prebuilt with `DROVER_PROBE_AHEAD=0` (one round trip per probe instead of reading the next',
    'tasks\' probes in one: the engine before probe-ahead, lib/run/probe-ahead.ts), **drover-rolling** = prebuilt with',
    '`DROVER_CHECK_FIRST=0` (the serial K3s plays roll every host in its own batch, converged or not, as Ansible does: the',
    'engine before Play.checkFirst).',
    'Pipelining and probe-ahead are on in every other Drover row. The ratio columns are given for each Drover row; the goals of issue 6',
    '(Ansible/Drover >= 20x on 1 host, Drover/floor <= 1.5x on all hosts) are read on the rows named in bench/README.md.',
    '"of which in the engine": Drover\'s own run_start-to-recap time (the rest is starting node, loading the modules and',
    'closing the connections).',
    'What runs: base on every host, k3s-prereqs on the K3s nodes, haproxy + keepalived on the load balancers, then K3s',
    '(roles k3s-master and k3s-worker on the masters and workers, against the lab\'s K3s test double: the same commands and gates as on real K3s)',
    '(`bench/playbooks/lab-site.ts`, the project\'s own plays; `bench/ansible/lab-site.yml`; the floor: `bench/lab/floor-lib.sh`',
    'plus one check line per managed thing, sent whole over one ssh session per host). "checks" counts ok results',
    '(Drover: tasks incl. fact gathering; Ansible: ok incl. fact gathering; floor: check lines). Every timed run is checked:',
    "all hosts answered, nothing failed, nothing changed. Ansible's copy sources are the files Drover's run left on each",
    'host (so the end state is the same byte for byte; `template` would cost Ansible the same on the hosts, plus Jinja on',
    'the controller). Ansible needs Python on a target: the K3s nodes of the lab have none by design (Drover does not need',
    'it), so Ansible runs on the hosts that have it, and the all-hosts row is Drover against the floor.',
    first && first.changed > 0
      ? `Drover's first run on this lab state (before the table's runs): ${fmtS(first.m.wallMs)} wall, ${fmtS(first.m.cpuMs)} controller CPU, ${first.changed} changes on ${first.hosts} hosts${first.changed > 100 ? ' (fresh hosts: a first converge, packages installed through the lab mirror)' : ' (the lab was already close to converged)'}.`
      : 'The lab was already converged (other work on this machine converges it), so no first converge was measured here (a fresh one needs a lab reset); the scale table has Drover\'s first converge on fresh light hosts.',
    `Runs repeated because other jobs altered or restarted lab hosts meanwhile: ${Math.max(0, res.converges.length - 1)}.`,
    `Noise: other jobs were running on this machine; the load average before each run is shown (median). ${o.runs} runs per tool.`,
  ].join('\n');
}

function labFirstRttMarkdown(rows: readonly FirstConverge[], cmd: string): string {
  return [
    '## Lab over latency: first converge on fresh hosts, through latency relays',
    '',
    `Machine: ${machine()}`,
    '',
    `Reproduce: \`npm run lab -- up\`, then \`${cmd}\` (resets the lab before each case: a few minutes each; leaves it up)`,
    '',
    table(
      ['RTT', 'hosts', 'tool', 'wall', 'round trips/host', 'changes', "left for Drover's next run", 'controller CPU', "hosts' CPU", 'relay added (median)', 'load avg'],
      rows.map((r) => [
        r.rttMs !== undefined ? `${r.rttMs} ms` : 'direct',
        r.name,
        r.tool,
        fmtS(r.m.wallMs),
        fmtTrips(r.turnsPerHost),
        String(r.changed),
        String(r.leftByDrover),
        fmtS(r.m.cpuMs),
        fmtS(r.targetCpuMs),
        r.delay ? `${median(r.delay.before.map((c) => c.addedMs)).toFixed(1)} ms` : '',
        r.load.toFixed(2),
      ]),
    ),
    '',
    'One run per case: before each, `npm run lab -- reset` and `up` (fresh Debian 12 hosts from the cached root filesystem), then the',
    "relays of that RTT (their delay checked as in the no-change part). apt's downloads go from the hosts to the lab mirror directly,",
    'not through the relays (the relays sit between the controller and the hosts only, as a WAN between an operator and a fleet would),',
    "so the RTT costs what the tool's own round trips cost. Drover: `node --import tsx bench/playbooks/lab-site.ts`; Ansible:",
    '`bench/ansible/lab-site.yml -e lab_fresh=true` (only hosts with Python). "left for Drover\'s next run": changes a Drover run',
    "straight after (not through the relay) still made (0: the first converge reached the roles' state). Round trips counted by the relay",
    'as in the no-change part.',
  ].join('\n');
}

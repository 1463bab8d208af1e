// up / down / reset / status: the lab's life cycle, built from the modules beside this one.
import { mkdirSync, rmSync } from 'node:fs';
import { ensureBaseRootfs, ensurePythonLayer } from './rootfs.ts';
import { readAptSources, mirrorEndpoints, type AptSources } from './mirror.ts';
import { ensureMirrorBridge, stopMirrorBridge } from './mirror-bridge.ts';
import { createHostNetwork, ensureLabNetwork, netnsExists, removeHostNetwork, removeLabNetwork } from './network.ts';
import { hostPublicKey, mountOverlay, mountedAt, removeHostDisk, writeHostFiles } from './hostfs.ts';
import { ensureControllerKey, writeKnownHosts, type KnownHost } from './keys.ts';
import { withLabLock } from './lock.ts';
import { labPrereqs } from './prereqs.ts';
import { findProcesses, isAlive, refOf, spawnDaemon, stopProcess, treeMemory, type ProcRef, type TreeMemory } from './procs.ts';
import { readTopology, intToIp, ipToInt, type LabHost, type LabTopology } from './inventory.ts';
import { HOSTS_DIR, RUN_DIR, STATE_DIR, hostNetns, hostPaths } from './paths.ts';
import { knownHostNames, readHostState, readMirrors, writeHostState, type HostState } from './state.ts';
import { sshBanners, watchReady } from './wait.ts';
import { cgroupMemoryBytes, cgroupPids, createCgroups, inCgroups, planHostCgroups, removeCgroups } from './cgroups.ts';
import { dirname } from 'node:path';

export type Log = (line: string) => void;

export interface UpHostResult {
  name: string;
  address: string;
  action: 'started' | 'kept';
  /** Start of nspawn to ready (started hosts), or the recorded value (kept hosts). */
  bootMs?: number;
  /** Time spent preparing the host's files and network before nspawn started. */
  prepareMs?: number;
  /** `running`/`degraded` from systemd, or `sshd answers` for a kept host only probed. */
  systemState: string;
}

export interface UpResult {
  hosts: UpHostResult[];
  totalMs: number;
}

const BOOT_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 20_000;

function requirePrereqs(): void {
  const p = labPrereqs();
  if (!p.ok) throw new Error(`lab prerequisites: ${p.why}`);
}

/** Every systemd-nspawn the lab started for this host, recorded or not (by its --directory). */
function hostProcesses(name: string): ProcRef[] {
  const dirArg = `--directory=${hostPaths(name).root}`;
  const refs = findProcesses((argv) => (argv[0] ?? '').endsWith('systemd-nspawn') && argv.includes(dirArg));
  const rec = readHostState(name)?.proc;
  if (rec && isAlive(rec) && !refs.some((r) => r.pid === rec.pid)) refs.push(rec);
  return refs;
}

/** Running exactly as the inventory and the current layers want it. */
function isHealthy(h: LabHost, lowers: readonly string[]): boolean {
  const s = readHostState(h.name);
  return (
    !!s &&
    isAlive(s.proc) &&
    mountedAt(hostPaths(h.name).root) &&
    netnsExists(hostNetns(h.name)) &&
    s.address === h.address &&
    s.python === h.python &&
    s.lowers.join(':') === lowers.join(':')
  );
}

/** Stop a host's processes by pid, then remove its network and disk state. */
async function teardownHost(name: string): Promise<'gone' | 'terminated' | 'killed'> {
  const results = await Promise.all(hostProcesses(name).map((r) => stopProcess(r, STOP_GRACE_MS)));
  // Whatever is still in the host's cgroups (a guest whose nspawn died) goes too, by pid.
  const cgroups = readHostState(name)?.cgroups ?? planHostCgroups(name).dirs;
  const left = cgroupPids(cgroups)
    .map(refOf)
    .filter((r): r is ProcRef => !!r);
  if (left.length) {
    results.push('killed');
    await Promise.all(left.map((r) => stopProcess(r, 0)));
  }
  removeCgroups(cgroups);
  await removeHostNetwork(name);
  await removeHostDisk(name);
  return results.includes('killed') ? 'killed' : results.includes('terminated') ? 'terminated' : 'gone';
}

/** Lab addresses that answer for each mirror host name: the bridge address first, then
 *  addresses from the top of the subnet down that no host uses. */
function mirrorListenAddresses(topo: LabTopology, src: AptSources): Map<string, string> {
  const used = new Set([topo.bridgeAddress, ...topo.hosts.map((h) => h.address)]);
  const size = 2 ** (32 - topo.prefixLength);
  const net = Math.floor(ipToInt(topo.bridgeAddress) / size) * size;
  let next = net + size - 2;
  const out = new Map<string, string>();
  for (const e of mirrorEndpoints(src)) {
    if (out.has(e.host)) continue;
    if (out.size === 0) {
      out.set(e.host, topo.bridgeAddress);
      continue;
    }
    while (used.has(intToIp(next))) next--;
    out.set(e.host, intToIp(next));
    used.add(intToIp(next--));
  }
  return out;
}

function nspawnArgv(name: string): string[] {
  return [
    'systemd-nspawn',
    '--boot',
    // No systemd (machined) on the controller machine: do not register, keep our cgroup.
    '--register=no',
    '--keep-unit',
    `--directory=${hostPaths(name).root}`,
    `--machine=${name}`,
    // Join the prepared namespace by path: under `ip netns exec` nspawn fails (remounted /sys).
    `--network-namespace-path=/run/netns/${hostNetns(name)}`,
    '--private-network',
    // keepalived needs these to add a VIP inside the host.
    '--capability=CAP_NET_ADMIN,CAP_NET_RAW',
    '--console=read-only',
    '--resolv-conf=off',
    '--timezone=off',
    '--link-journal=no',
  ];
}

async function startHost(
  h: LabHost,
  topo: LabTopology,
  lowers: string[],
  files: { hostsEntries: string[]; src: AptSources; authorizedKey: string },
): Promise<{ prepareMs: number; spawnedAt: number }> {
  const t0 = Date.now();
  const p = hostPaths(h.name);
  mkdirSync(p.dir, { recursive: true });
  const root = await mountOverlay(h.name, lowers);
  await writeHostFiles(root, {
    name: h.name,
    hostsEntries: files.hostsEntries,
    aptSources: files.src.files,
    authorizedKey: files.authorizedKey,
  });
  await createHostNetwork(h.name, h.address, topo.prefixLength, topo.bridgeAddress);
  rmSync(p.console, { force: true });
  const cg = planHostCgroups(h.name);
  createCgroups(cg.dirs);
  const spawnedAt = Date.now();
  // Enter the host's own cgroups, then become nspawn (exec keeps the pid we record).
  const proc = spawnDaemon(inCgroups(cg.dirs, nspawnArgv(h.name)), p.console);
  const state: HostState = {
    name: h.name,
    address: h.address,
    python: h.python,
    proc,
    cgroups: cg.dirs,
    ...(cg.memoryDir ? { memoryCgroup: cg.memoryDir } : {}),
    lowers,
    startedAt: new Date(spawnedAt).toISOString(),
  };
  writeHostState(state);
  return { prepareMs: spawnedAt - t0, spawnedAt };
}

/** known_hosts from every host whose root is mounted (this inventory's and any other running). */
function refreshKnownHosts(): void {
  const entries: KnownHost[] = [];
  for (const name of knownHostNames()) {
    const s = readHostState(name);
    const key = hostPublicKey(name);
    if (s && key) entries.push({ name, address: s.address, publicKey: key });
  }
  writeKnownHosts(entries);
}

export async function up(inventoryPath: string, log: Log): Promise<UpResult> {
  requirePrereqs();
  const topo = await readTopology(inventoryPath);
  return withLabLock(
    'up',
    async () => {
      const t0 = Date.now();
      mkdirSync(HOSTS_DIR, { recursive: true, mode: 0o700 });
      mkdirSync(RUN_DIR, { recursive: true });

      // Another inventory's running host on one of our addresses would answer in its place.
      for (const name of knownHostNames()) {
        const s = readHostState(name);
        if (!s || !isAlive(s.proc) || topo.hosts.some((h) => h.name === name)) continue;
        const clash = topo.hosts.find((h) => h.address === s.address);
        if (clash) throw new Error(`${clash.name}: address ${s.address} is in use by running lab host ${name} (run lab down)`);
      }

      const src = readAptSources();
      const base = await ensureBaseRootfs(src, log);
      const python = topo.hosts.some((h) => h.python) ? await ensurePythonLayer(base, src, log) : undefined;
      const lowersOf = (h: LabHost) => (h.python && python ? [python, base] : [base]);
      const authorizedKey = await ensureControllerKey();

      const listen = mirrorListenAddresses(topo, src);
      await ensureLabNetwork([...new Set([topo.bridgeAddress, ...listen.values()])].map((a) => `${a}/${topo.prefixLength}`));
      await ensureMirrorBridge(mirrorEndpoints(src), (host) => listen.get(host) ?? topo.bridgeAddress);

      const hostsEntries = [
        ...topo.hosts.map((h) => `${h.address}\t${h.name}`),
        ...[...listen.entries()].map(([name, addr]) => `${addr}\t${name}`),
      ];

      const keep = topo.hosts.filter((h) => isHealthy(h, lowersOf(h)));
      const start = topo.hosts.filter((h) => !keep.includes(h));
      // Anything left of the hosts to start (crash, half-done up, changed settings) goes first.
      await Promise.all(start.map((h) => teardownHost(h.name)));
      const started = await Promise.all(
        start.map(async (h) => ({ h, ...(await startHost(h, topo, lowersOf(h), { hostsEntries, src, authorizedKey })) })),
      );
      refreshKnownHosts();
      if (start.length) log(`started ${start.map((h) => h.name).join(' ')}; waiting for ssh + systemd...`);

      // Kept hosts that finished booting before only need to show they still answer; the
      // rest (just started, or left mid-boot by an interrupted up) get the full ssh check.
      const answering = await sshBanners(keep.filter((h) => readHostState(h.name)?.bootMs !== undefined).map((h) => h.address));
      const watched = watchReady(
        topo.hosts.filter((h) => !answering.has(h.address)).map((h) => h.address),
        BOOT_TIMEOUT_MS,
      );
      const results = await Promise.all(
        topo.hosts.map(async (h): Promise<UpHostResult> => {
          const quick = answering.has(h.address) ? { state: 'sshd answers' } : undefined;
          const ready = quick ?? await watched.get(h.address)!.catch((e: unknown) => {
            throw new Error(`${h.name}: ${(e as Error).message} (console: ${hostPaths(h.name).console})`);
          });
          const s = started.find((x) => x.h === h);
          const state = readHostState(h.name);
          if (s && state) {
            const bootMs = Date.now() - s.spawnedAt;
            writeHostState({ ...state, bootMs });
            log(
              `  ${h.name.padEnd(16)} ${h.address.padEnd(15)} ready (${ready.state}) in ${(bootMs / 1000).toFixed(1)} s` +
                ` (+${(s.prepareMs / 1000).toFixed(1)} s to prepare)`,
            );
            return { name: h.name, address: h.address, action: 'started', bootMs, prepareMs: s.prepareMs, systemState: ready.state };
          }
          log(`  ${h.name.padEnd(16)} ${h.address.padEnd(15)} kept: already running (${ready.state})`);
          return {
            name: h.name,
            address: h.address,
            action: 'kept',
            ...(state?.bootMs !== undefined ? { bootMs: state.bootMs } : {}),
            systemState: ready.state,
          };
        }),
      );
      const totalMs = Date.now() - t0;
      log(`lab up: ${results.length} hosts (${start.length} started, ${keep.length} kept) in ${(totalMs / 1000).toFixed(1)} s`);
      return { hosts: results, totalMs };
    },
    log,
  );
}

export interface DownResult {
  hosts: { name: string; stop: 'gone' | 'terminated' | 'killed' }[];
  totalMs: number;
}

async function downUnlocked(log: Log): Promise<DownResult> {
  const t0 = Date.now();
  const names = knownHostNames();
  const hosts = await Promise.all(names.map(async (name) => ({ name, stop: await teardownHost(name) })));
  for (const h of hosts) if (h.stop !== 'gone') log(`  ${h.name.padEnd(16)} stopped (${h.stop === 'killed' ? 'SIGKILL after timeout' : 'SIGTERM'})`);
  await stopMirrorBridge();
  await removeLabNetwork();
  // The per-host cgroups' common parent (drover-lab/), once empty.
  removeCgroups([...new Set(planHostCgroups('x').dirs.map((d) => dirname(d)))].filter((d) => !cgroupPids([d]).length));
  const totalMs = Date.now() - t0;
  log(`lab down: ${hosts.filter((h) => h.stop !== 'gone').length} hosts stopped in ${(totalMs / 1000).toFixed(1)} s`);
  return { hosts, totalMs };
}

export async function down(log: Log): Promise<DownResult> {
  requirePrereqs();
  return withLabLock('down', () => downUnlocked(log), log);
}

/** down, then forget all lab state (keys, known_hosts, logs); the rootfs cache stays. */
export async function reset(log: Log): Promise<DownResult> {
  requirePrereqs();
  return withLabLock(
    'reset',
    async () => {
      const r = await downUnlocked(log);
      rmSync(STATE_DIR, { recursive: true, force: true });
      // Our lock file goes with it; releasing it afterwards is a no-op.
      rmSync(RUN_DIR, { recursive: true, force: true });
      log(`lab reset: removed ${STATE_DIR} and ${RUN_DIR}`);
      return r;
    },
    log,
  );
}

export interface HostStatus {
  name: string;
  running: boolean;
  pid?: number;
  address?: string;
  python?: boolean;
  startedAt?: string;
  bootMs?: number;
  /** Over the nspawn process tree (nspawn + every process of the guest). */
  memory?: TreeMemory;
  /** Bytes charged to the host's memory cgroup (includes its page cache). */
  cgroupMemoryBytes?: number;
}

export interface MirrorStatus {
  host: string;
  port: number;
  listen: string;
  running: boolean;
}

export interface StatusResult {
  hosts: HostStatus[];
  mirrors: MirrorStatus[];
  labNetns: boolean;
}

export function status(): StatusResult {
  const hosts = knownHostNames().map((name): HostStatus => {
    const s = readHostState(name);
    if (!s) return { name, running: false };
    const running = isAlive(s.proc);
    return {
      name,
      running,
      pid: s.proc.pid,
      address: s.address,
      python: s.python,
      startedAt: s.startedAt,
      ...(s.bootMs !== undefined ? { bootMs: s.bootMs } : {}),
      ...(running ? { memory: treeMemory(s.proc.pid) } : {}),
      ...(running && cgroupMemoryBytes(s.memoryCgroup) !== undefined
        ? { cgroupMemoryBytes: cgroupMemoryBytes(s.memoryCgroup) }
        : {}),
    };
  });
  const mirrors = readMirrors().map((m) => ({
    host: m.host,
    port: m.port,
    listen: m.listen,
    running: isAlive(m.inner) && isAlive(m.outer),
  }));
  return { hosts, mirrors, labNetns: netnsExists('lab') };
}

/** Address of a running lab host by name. */
export function hostAddress(name: string): string {
  const s = readHostState(name);
  if (!s) throw new Error(`no lab host named ${name} (is the lab up?)`);
  return s.address;
}

// Issue 15: "a converged role costs a small, stated number of round trips per host, counted in
// a unit test". Over a WAN a no-change run's wall time is round trips x RTT. No host here: the
// converged lab was recorded (test/support/record-converged.ts: every exec and its answer, a
// read-ahead batch probe by probe, the facts; secrets left out) and each role's play, as the
// playbooks compose it, is replayed from that recording (drover/testing Replay) through the
// real runner, with probe-ahead on (the default) and off. The replay counts the round trips it
// is asked for (REPLAY_ROUND_TRIPS: an exec 1, a batch is one exec, a get 1, a put or an exec
// with stdin 3, the facts 1), and the counts below are what each role costs a converged host
// beyond connecting and gathering facts. A role change that moves a count fails here: restate
// the table (and roles/<name>/README.md), and re-record if a probe changed (the "not recorded"
// failure says how).
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory, runPlays, selectHosts, type DroverEvent, type EventSink, type Inventory, type Play } from 'drover';
import { Replay, hostRecordingSchema, type HostRecording } from 'drover/testing';
import { haproxyRole } from 'drover/roles/haproxy';
import { keepalivedRole } from 'drover/roles/keepalived';
import { basePlay, k3sPrereqsPlay } from '../../../playbooks/plays/base.ts';
import { dbPlays } from '../../../playbooks/plays/db.ts';
import { k3sAgentPlay, k3sPreflightPlay, k3sServerPlay } from '../../../playbooks/plays/k3s.ts';
import { lbPlay } from '../../../playbooks/plays/lb.ts';
import { ciliumPlay, cloudflaredPlay, sitePlaysWith } from '../../../playbooks/plays/site.ts';
import { CLUSTER_URL } from '../../../roles/k3s-master/model.ts';
import { ADMIN_KUBECONFIG, controllerKubeconfig } from '../../../roles/k3s-master/templates.ts';
import { k3sVars } from '../../../roles/k3s-master/vars.ts';
import { CONVERGED_DIR, RECORD_COMMAND, RECORDED_EXTRA_VARS, SCRAM_VERIFIER, replaySubstitutions, secretValues } from '../../support/converged-lab.ts';

type PerHost = Record<string, number>;

const each = (hosts: readonly string[], n: number): PerHost => Object.fromEntries(hosts.map((h) => [h, n]));
const LB = ['loadbalancer1', 'loadbalancer2'];
const MASTERS = ['master1', 'master2', 'master3'];
const WORKERS = ['worker1', 'worker2', 'worker3'];
const ALL = [...LB, 'infra', 'postgresql1', 'postgresql2', ...MASTERS, ...WORKERS, 'storage1'];

/**
 * Round trips per host on the converged lab, beyond connecting and facts, with probe-ahead
 * (the default) and without (drover_probe_ahead: false). Hosts outside a role's play appear
 * when the role delegates to them: k3s-worker reads the cluster token and checks each agent's
 * registration on the first server (master1: 2 per agent). Probe-ahead saves 2 to 12 per
 * host and role: base 2 instead of 9 (14 on the masters, with nftables), k3s-prereqs 4-5
 * instead of 9-11, haproxy and keepalived 1 instead of 3 each, postgres 4-5 instead of 12,
 * k3s-master 5-8 instead of 10-14, k3s-worker 7 instead of 11 per agent, cilium 2 instead of
 * 3; cloudflared is 2 either way (a lone probe and a fetch-like read gain nothing).
 * The K3s plays check every host at once first (Play.checkFirst): these counts are that pass.
 */
const ROUND_TRIPS: Record<string, { ahead: PerHost; without: PerHost }> = {
  base: { ahead: each(ALL, 2), without: { ...each(ALL, 9), ...each(MASTERS, 14) } },
  'k3s-prereqs': { ahead: { ...each(MASTERS, 4), ...each([...WORKERS, 'storage1'], 3) }, without: { ...each(MASTERS, 11), ...each([...WORKERS, 'storage1'], 9) } },
  haproxy: { ahead: each(LB, 1), without: each(LB, 3) },
  keepalived: { ahead: each(LB, 1), without: each(LB, 3) },
  postgres: { ahead: { postgresql1: 3, postgresql2: 5 }, without: { postgresql1: 12, postgresql2: 12 } },
  'k3s-master': { ahead: { master1: 6, master2: 3, master3: 3, ...each(WORKERS, 0) }, without: { master1: 14, master2: 10, master3: 10, ...each(WORKERS, 0) } },
  'k3s-worker': { ahead: { master1: 6, ...each(WORKERS, 5) }, without: { master1: 6, ...each(WORKERS, 11) } },
  cilium: { ahead: { master1: 2, master2: 0, master3: 0 }, without: { master1: 3, master2: 0, master3: 0 } },
  cloudflared: { ahead: { master1: 2, master2: 0, master3: 0 }, without: { master1: 2, master2: 0, master3: 0 } },
};

/**
 * Execs not marked probe on a converged host (no put happens anywhere): none. waitFor's
 * polls (the K3s preflight's "API VIP answering" on master1, PostgreSQL's "accepting
 * connections") look once first as a fresh read, so a state already there drops nothing
 * read ahead; only a real wait counts as a change.
 */
const NOT_PROBES: Record<string, PerHost> = {};

/** The whole site (with the tunnel) per host, facts included, probe-ahead on / off. */
const SITE: Record<string, [number, number]> = {
  loadbalancer1: [4, 16],
  loadbalancer2: [4, 16],
  infra: [3, 10],
  postgresql1: [5, 22],
  postgresql2: [7, 22],
  master1: [22, 51],
  master2: [10, 36],
  master3: [10, 36],
  worker1: [10, 30],
  worker2: [10, 30],
  worker3: [10, 30],
  storage1: [6, 19],
};

class Events implements EventSink {
  readonly events: DroverEvent[] = [];
  emit(e: DroverEvent): void {
    this.events.push(e);
  }
  close(): void {}
}

let inventory: Inventory;
let recordings: HostRecording[];
let fixtureTexts: Map<string, string>;
let substitute: Record<string, string>;
let kubeDir: string;

interface Replayed {
  trips: PerHost;
  facts: PerHost;
  nonProbe: PerHost;
  puts: PerHost;
  batches: PerHost;
  changed: string[];
  failed: string[];
  missing: string[];
}

async function replay(plays: Play[], ahead: boolean): Promise<Replayed> {
  const r = new Replay(recordings, { hint: RECORD_COMMAND, substitute });
  const sink = new Events();
  const recap = await runPlays(plays, {
    inventory,
    sink,
    extraVars: { ...RECORDED_EXTRA_VARS, k3s_kubeconfig_path: join(kubeDir, 'lab.yaml'), drover_probe_ahead: ahead },
    ...r.runOptions(),
  });
  const out: Replayed = { trips: {}, facts: {}, nonProbe: {}, puts: {}, batches: {}, changed: [], failed: [], missing: [] };
  for (const [h, t] of r.transports) {
    out.trips[h] = t.stats.trips - t.stats.factTrips;
    out.facts[h] = t.stats.factTrips;
    out.nonProbe[h] = t.stats.nonProbeExecs;
    out.puts[h] = t.stats.puts;
    out.batches[h] = t.stats.batches;
    out.missing.push(...t.missing.map((m) => `${h}: ${m}`));
  }
  for (const e of sink.events) {
    if (e.type !== 'task_end') continue;
    if (e.status === 'changed') out.changed.push(`${e.host}: ${e.role ?? ''} : ${e.task}`);
    if (e.status === 'failed' || e.status === 'unreachable') out.failed.push(`${e.host}: ${e.task}: ${e.msg ?? ''}`);
  }
  for (const [h, hr] of Object.entries(recap.hosts)) if (hr.failed || hr.unreachable) out.failed.push(`${h}: failed ${hr.failed}, unreachable ${hr.unreachable}`);
  return out;
}

const minus = (a: PerHost, b: PerHost): PerHost => Object.fromEntries(Object.entries(a).map(([h, n]) => [h, n - (b[h] ?? 0)]));

let checkFirstEnv: string | undefined;
beforeAll(async () => {
  // The recorded runs had Play.checkFirst on (the default): a DROVER_CHECK_FIRST=0 around the
  // tests (the bench's drover-rolling) would replay other commands.
  checkFirstEnv = process.env.DROVER_CHECK_FIRST;
  delete process.env.DROVER_CHECK_FIRST;
  inventory = await loadInventory(['inventory/lab.yaml']);
  fixtureTexts = new Map(readdirSync(CONVERGED_DIR).filter((f) => f.endsWith('.json')).map((f) => [f, readFileSync(join(CONVERGED_DIR, f), 'utf8')]));
  recordings = [...fixtureTexts].filter(([f]) => f !== 'wire.json').map(([, text]) => hostRecordingSchema.parse(JSON.parse(text)));
  const password = inventory.hosts.get('postgresql1')?.vars.postgres_replication_password;
  substitute = replaySubstitutions(secretValues([...inventory.hosts.values()].map((h) => h.vars)), typeof password === 'string' ? password : undefined);
  // The controller side of a converged run: the kubeconfig fetched from the first server is
  // already there, as the role writes it from what the first server has (recorded, keys masked).
  kubeDir = mkdtempSync(join(tmpdir(), 'drover-round-trips-'));
  const master1 = recordings.find((r) => r.host === 'master1')!;
  const admin = master1.gets.find((g) => g.path === ADMIN_KUBECONFIG)!.content;
  const v = k3sVars.parse({ ...inventory.hosts.get('master1')!.vars, ...RECORDED_EXTRA_VARS });
  writeFileSync(join(kubeDir, 'lab.yaml'), controllerKubeconfig(admin, { server: CLUSTER_URL(v), name: v.k3s_cluster_name }), { mode: 0o600 });
});
afterAll(() => {
  if (checkFirstEnv !== undefined) process.env.DROVER_CHECK_FIRST = checkFirstEnv;
  if (kubeDir) rmSync(kubeDir, { recursive: true, force: true });
});

describe('the converged-lab recordings', () => {
  it('hold every lab host and none of the lab inventory\'s secret values', () => {
    expect(recordings.map((r) => r.host).sort()).toEqual([...inventory.hosts.keys()].sort());
    const secrets = secretValues([...inventory.hosts.values()].map((h) => h.vars));
    // The haproxy stats and keepalived passwords, the replication password, the tunnel token.
    expect([...secrets.values()].sort()).toEqual(['cloudflared_tunnel_token', 'haproxy_stats_password', 'keepalived_auth_pass', 'postgres_replication_password']);
    for (const [file, text] of fixtureTexts) {
      for (const [value, name] of secrets) expect(text.includes(value), `${file} holds ${name}`).toBe(false);
      expect(text.match(SCRAM_VERIFIER), file).toBeNull();
      // The K3s cluster token: only the made-up one (zeros and f's).
      for (const t of text.match(/K10[0-9a-f]{8,}::server:[0-9a-f]+/g) ?? []) expect(t, file).toMatch(/^K100+::server:f+$/);
      expect(text).not.toMatch(/(client-key-data: (?!MASKED)|BEGIN [A-Z ]*PRIVATE KEY)/);
    }
  });
});

/** Each role's play as the playbooks compose it; `before` runs first and is subtracted. */
const ROLES: Array<{ role: string; plays: () => Play[]; before?: () => Play[] }> = [
  { role: 'base', plays: () => [basePlay] },
  // k3s-prereqs depends on base: after the base play, as in site, the dependency is not run again.
  { role: 'k3s-prereqs', before: () => [basePlay], plays: () => [k3sPrereqsPlay] },
  // One play for both (lbPlay); each role alone in that play here.
  { role: 'haproxy', plays: () => [{ ...lbPlay, roles: [haproxyRole] }] },
  { role: 'keepalived', plays: () => [{ ...lbPlay, roles: [keepalivedRole] }] },
  { role: 'postgres', plays: () => dbPlays },
  // The preflight (role k3s-preflight, of roles/k3s-master) runs on masters and workers, and
  // connects them, so the servers' play checks them at once first (Play.checkFirst).
  { role: 'k3s-master', plays: () => [k3sPreflightPlay, k3sServerPlay()] },
  // After the preflight, as in site: Play.checkFirst checks at once only hosts an earlier play
  // connected (with facts); alone, the agents would roll one batch after another for real.
  { role: 'k3s-worker', before: () => [k3sPreflightPlay], plays: () => [k3sAgentPlay()] },
  { role: 'cilium', plays: () => [ciliumPlay] },
  { role: 'cloudflared', plays: () => [cloudflaredPlay] },
];

describe('round trips a converged role costs per host', () => {
  for (const { role, plays, before } of ROLES) {
    it(role, async () => {
      const inPlay = new Set(plays().flatMap((p) => selectHosts(inventory, p.hosts).hosts));
      const got: Record<'ahead' | 'without', PerHost> = { ahead: {}, without: {} };
      let notProbes: PerHost = {};
      for (const ahead of [true, false]) {
        const r = await replay([...(before?.() ?? []), ...plays()], ahead);
        expect(r.missing).toEqual([]);
        expect(r.failed).toEqual([]);
        expect(r.changed).toEqual([]);
        expect(Object.values(r.puts).every((n) => n === 0), JSON.stringify(r.puts)).toBe(true);
        let trips = r.trips;
        let nonProbe = r.nonProbe;
        if (before) {
          const b = await replay(before(), ahead);
          trips = minus(trips, b.trips);
          nonProbe = minus(nonProbe, b.nonProbe);
        }
        // The play's hosts, and any other host the role asked something (a delegated task).
        got[ahead ? 'ahead' : 'without'] = Object.fromEntries(Object.entries(trips).filter(([h, n]) => inPlay.has(h) || n !== 0));
        if (ahead) notProbes = Object.fromEntries(Object.entries(nonProbe).filter(([, n]) => n !== 0));
      }
      expect(got).toEqual(ROUND_TRIPS[role]);
      expect(notProbes).toEqual(NOT_PROBES[role] ?? {});
      // Probe-ahead never costs more.
      for (const [h, n] of Object.entries(got.ahead)) expect(n, h).toBeLessThanOrEqual(got.without[h]!);
    });
  }
});

describe('the whole site per host (what the lab bench measures)', () => {
  // The recorder kept what the ssh transport counted on the wire in the same two runs (the
  // recap's roundTrips, `roundtrips=` under -v). On every host but master1, wire = connect
  // (5-6: TCP, version, key exchange, keys, auth) + the host lock session and opening the
  // pipelined shell (4-5) + exactly what the model counts. master1 shows more, varying
  // between recordings (over model + connect: 8 and 11 with probe-ahead, 8 and 9 without in
  // session 6's; 18 and 13 in this one, 2026-12-07 07:55): it also serves the agents' delegated
  // token reads and registration checks and the joining servers' token reads, which arrive at
  // once and, since the check-first passes run each host at its own pace, while master1 runs
  // its own tasks; a command that finds the connection's pipelined shell busy opens a session
  // of its own (about 3 round trips instead of 1). So its bound allows 2 more per delegated command.
  // The joining servers' token reads on master1 (master2, master3): the servers' check-first
  // pass runs each host at its own pace, so these meet master1's own commands too.
  const JOINERS_TOKEN_READS = 2;
  it('site.ts with the tunnel: the model\'s count per host, and against the wire\'s', async () => {
    const wire = JSON.parse(fixtureTexts.get('wire.json')!) as Record<'probeAhead' | 'noProbeAhead', Record<string, { roundTrips: number; connectRoundTrips: number }>>;
    const got: Record<string, [number, number]> = {};
    for (const ahead of [true, false]) {
      // Commands the agents' play sends to master1 (delegated): the agents' play after the preflight, less the preflight.
      const delegated = (await replay([k3sPreflightPlay, k3sAgentPlay()], ahead)).trips.master1! - (await replay([k3sPreflightPlay], ahead)).trips.master1!;
      expect(delegated).toBe(6);
      const r = await replay(sitePlaysWith({ tunnel: true }), ahead);
      expect(r.missing).toEqual([]);
      expect(r.failed).toEqual([]);
      expect(r.changed).toEqual([]);
      const w = wire[ahead ? 'probeAhead' : 'noProbeAhead'];
      for (const h of Object.keys(r.trips)) {
        const model = r.trips[h]! + r.facts[h]!;
        (got[h] ??= [0, 0])[ahead ? 0 : 1] = model;
        const overhead = w[h]!.roundTrips - w[h]!.connectRoundTrips - model;
        expect(w[h]!.connectRoundTrips, h).toBeGreaterThanOrEqual(5);
        expect(overhead, `${h}: wire ${w[h]!.roundTrips}, connect ${w[h]!.connectRoundTrips}, model ${model}`).toBeGreaterThanOrEqual(4);
        expect(overhead, `${h}: wire ${w[h]!.roundTrips}, connect ${w[h]!.connectRoundTrips}, model ${model}`).toBeLessThanOrEqual(h === 'master1' ? 5 + 2 * (delegated + JOINERS_TOKEN_READS) : 5);
      }
    }
    expect(got).toEqual(SITE);
  });
});

describe('the lab bench\'s playbook (bench/playbooks/lab-site.ts)', () => {
  // Foundation, load balancers and K3s (no PostgreSQL, Cilium or cloudflared), per host, facts
  // included, probe-ahead on / off. Against the recap's roundTrips of the same playbook on the
  // converged lab through the 80 ms latency relays (2026-12-07 07:52 UTC, load 2.3; a --json run
  // of dist/bench/playbooks/lab-site.js with the bench's relays and overlay inventory,
  // bench/lib/relay.ts, probe-ahead on): load balancers 14 15, infra 14, postgresql1-2 13 13,
  // master1 39, master2-3 20 21, workers 19 21 20, storage1 16. That is this + 9 to 11 (connect
  // 5-6, lock and shell 4-5) on every host but master1 (+20: the agents' and joining servers'
  // delegated commands meeting its own, see above).
  const LAB_SITE: Record<string, [number, number]> = {
    loadbalancer1: [4, 16],
    loadbalancer2: [4, 16],
    infra: [3, 10],
    postgresql1: [3, 10],
    postgresql2: [3, 10],
    master1: [19, 46],
    master2: [10, 36],
    master3: [10, 36],
    worker1: [10, 30],
    worker2: [10, 30],
    worker3: [10, 30],
    storage1: [6, 19],
  };
  it('per host', async () => {
    const plays = [basePlay, k3sPrereqsPlay, lbPlay, k3sPreflightPlay, k3sServerPlay(), k3sAgentPlay()];
    const got: Record<string, [number, number]> = {};
    for (const ahead of [true, false]) {
      const r = await replay(plays, ahead);
      expect(r.missing).toEqual([]);
      expect(r.failed).toEqual([]);
      expect(r.changed).toEqual([]);
      for (const h of Object.keys(r.trips)) (got[h] ??= [0, 0])[ahead ? 0 : 1] = r.trips[h]! + r.facts[h]!;
    }
    expect(got).toEqual(LAB_SITE);
  });
});

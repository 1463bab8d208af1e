// A watcher that samples etcd health on every K3s server every 100 ms during a roll: from the
// controller (inside the lab namespace), GET https://<server>:6443/readyz with the admin
// client certificate of the fetched kubeconfig. /readyz answers ok only after a linearizable
// etcd read on that server (real K3s and the double alike), so "some server answered ok" at a
// tick means the cluster had quorum then; a server that does not answer is down (restarting).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { LAB_NETNS } from '../../../lab/index.ts';

export interface Sample {
  /** Tick number (one every intervalMs). */
  tick: number;
  /** ms since epoch when the request started. */
  t: number;
  server: string;
  ok: boolean;
  /** Why not ok: ECONNREFUSED (down), timeout, or the failed /readyz checks. */
  why?: string;
}

const SCRIPT = `
const https = require('https');
const [, , certB64, keyB64, intervalMs, ...targets] = process.argv;
const cert = Buffer.from(certB64, 'base64'), key = Buffer.from(keyB64, 'base64');
let tick = 0, stopping = false, inflight = 0;
function sample(n) {
  for (const tg of targets) {
    const [name, ip] = tg.split('=');
    const t = Date.now();
    inflight++;
    let done = false;
    const fin = (ok, why) => { if (done) return; done = true; inflight--; process.stdout.write(JSON.stringify({ tick: n, t, server: name, ok, ...(ok ? {} : { why }) }) + '\\n'); };
    const req = https.get({ host: ip, port: 6443, path: '/readyz?verbose', cert, key, rejectUnauthorized: false, timeout: 2500, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => fin(res.statusCode === 200, 'HTTP ' + res.statusCode + ' ' + body.split('\\n').filter((l) => l.startsWith('[-]')).join(' ')));
      res.on('error', (e) => fin(false, e.code || e.message));
    });
    req.on('timeout', () => { req.destroy(); fin(false, 'timeout'); });
    req.on('error', (e) => fin(false, e.code || e.message));
  }
}
const timer = setInterval(() => { if (!stopping) sample(tick++); }, Number(intervalMs));
process.on('SIGTERM', () => { stopping = true; clearInterval(timer); const wait = () => inflight ? setTimeout(wait, 50) : process.exit(0); wait(); });
`;

export interface QuorumWatch {
  /** Stop sampling; every sample, in tick order. */
  stop(): Promise<Sample[]>;
}

export function startQuorumWatch(kubeconfigPath: string, servers: ReadonlyArray<{ name: string; ip: string }>, intervalMs = 100): QuorumWatch {
  const kc = parseYaml(readFileSync(kubeconfigPath, 'utf8')) as { users: Array<{ user: Record<string, string> }> };
  const user = kc.users[0]!.user;
  const dir = mkdtempSync(join(tmpdir(), 'k3s-watch-'));
  writeFileSync(join(dir, 'watch.cjs'), SCRIPT);
  const child: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', LAB_NETNS, process.execPath, join(dir, 'watch.cjs'), user['client-certificate-data']!, user['client-key-data']!, String(intervalMs), ...servers.map((s) => `${s.name}=${s.ip}`)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return {
    stop: async () => {
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
      return out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Sample)
        .sort((a, b) => a.tick - b.tick || a.server.localeCompare(b.server));
    },
  };
}

export interface QuorumReport {
  ticks: number;
  /** Ticks where no server answered /readyz ok. */
  lostTicks: number[];
  /**
   * The longest run of consecutive lost ticks. A lost quorum lasts until a member is back
   * (seconds); a leadership change (a stopping leader hands over) makes etcd fail the reads in
   * flight with "leader changed" for a moment (one or two ticks), with quorum intact.
   */
  longestLost: number;
  /** Per server, its down windows as [first tick, last tick] (consecutive ticks not serving). */
  down: Record<string, Array<[number, number]>>;
  /** Ticks where two or more servers were down (not serving) at once. */
  overlapTicks: number[];
  /** For each lost (then overlapping) tick, why each server did not answer ok. */
  lostWhy: string[];
}

/** What the samples say: quorum lost at which ticks, each server's down windows, overlaps. */
export function analyse(samples: readonly Sample[], servers: readonly string[]): QuorumReport {
  const byTick = new Map<number, Map<string, boolean>>();
  for (const s of samples) {
    let m = byTick.get(s.tick);
    if (!m) byTick.set(s.tick, (m = new Map()));
    m.set(s.server, s.ok);
  }
  const ticks = [...byTick.keys()].sort((a, b) => a - b).filter((t) => byTick.get(t)!.size === servers.length);
  const lostTicks = ticks.filter((t) => ![...byTick.get(t)!.values()].some(Boolean));
  // Down = not serving at all (refused, reset, no answer). An HTTP answer that is not ok (a
  // failed etcd check, e.g. "leader changed" while a leader hands over) is a running server.
  const downAt = new Map<number, Set<string>>();
  for (const x of samples) {
    if (!x.ok && !(x.why ?? '').startsWith('HTTP')) {
      let d = downAt.get(x.tick);
      if (!d) downAt.set(x.tick, (d = new Set()));
      d.add(x.server);
    }
  }
  const overlapTicks = ticks.filter((t) => (downAt.get(t)?.size ?? 0) >= 2);
  const down: Record<string, Array<[number, number]>> = {};
  for (const s of servers) {
    const w: Array<[number, number]> = [];
    for (const t of ticks) {
      if (!downAt.get(t)?.has(s)) continue;
      const last = w.at(-1);
      if (last && last[1] === ticks[ticks.indexOf(t) - 1]) last[1] = t;
      else w.push([t, t]);
    }
    down[s] = w;
  }
  let longestLost = 0;
  let run = 0;
  for (let i = 0; i < ticks.length; i++) {
    const lost = lostTicks.includes(ticks[i]!);
    run = lost ? (i > 0 && lostTicks.includes(ticks[i - 1]!) ? run + 1 : 1) : 0;
    longestLost = Math.max(longestLost, run);
  }
  const lostWhy = [...lostTicks, ...overlapTicks].map((t) => `tick ${t}: ${samples.filter((x) => x.tick === t).map((x) => `${x.server} ${x.why ?? ''}`).join('; ')}`);
  return { ticks: ticks.length, lostTicks, longestLost, down, overlapTicks, lostWhy };
}

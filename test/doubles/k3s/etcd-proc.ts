// The real etcd member (Debian's etcd-server 3.4) as a child of the double, configured like
// K3s's embedded etcd (config file in server/db/etcd/config, data dir server/db/etcd). It runs
// under setpriv --pdeathsig so it dies with the double even if the double is SIGKILLed.
import { spawn, type ChildProcess } from 'node:child_process';
import { stringify } from 'yaml';
import { writeAtomic } from './certs.ts';

export interface EtcdSpec {
  dataDir: string;
  name: string;
  nodeIp: string;
  initialCluster: string;
  state: 'new' | 'existing';
}

export const clientUrlOf = (ip: string) => `http://${ip}:2379`;
export const peerUrlOf = (ip: string) => `http://${ip}:2380`;

export function etcdConfig(s: EtcdSpec): string {
  return stringify({
    name: s.name,
    'data-dir': s.dataDir,
    'listen-client-urls': `http://127.0.0.1:2379,${clientUrlOf(s.nodeIp)}`,
    'advertise-client-urls': clientUrlOf(s.nodeIp),
    'listen-peer-urls': peerUrlOf(s.nodeIp),
    'initial-advertise-peer-urls': peerUrlOf(s.nodeIp),
    'initial-cluster': s.initialCluster,
    'initial-cluster-state': s.state,
    'election-timeout': 5000,
    'heartbeat-interval': 500,
    'listen-metrics-urls': 'http://127.0.0.1:2381',
    // Off by default when etcd 3.4 reads a config file; the double talks JSON to /v3/*.
    'enable-grpc-gateway': true,
    logger: 'zap',
    'log-level': process.env.K3S_DOUBLE_ETCD_LOG_LEVEL ?? 'warn',
  });
}

export function startEtcd(s: EtcdSpec): ChildProcess {
  const configPath = `${s.dataDir}/config`;
  writeAtomic(configPath, etcdConfig(s), 0o600);
  const bin = process.env.K3S_DOUBLE_ETCD_BIN ?? '/usr/bin/etcd';
  return spawn('setpriv', ['--pdeathsig', 'TERM', '--', bin, '--config-file', configPath], {
    stdio: ['ignore', 'inherit', 'inherit'],
    // etcd sd_notifies by itself when NOTIFY_SOCKET is set; only the double may (main PID).
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NOTIFY_SOCKET')),
  });
}

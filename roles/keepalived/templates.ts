// /etc/keepalived/keepalived.conf as a pure function of a typed model (golden-tested in
// test/unit/roles/keepalived.test.ts).
import { REDACTED } from '../../lib/secrets/redact.ts';

const HEADER = '# Managed by drover (role keepalived): local changes are overwritten.';

export interface KeepalivedVip {
  name: string;
  address: string;
  prefix: number;
}

export interface KeepalivedCheck {
  name: string;
  script: string;
  interval: number;
  fall: number;
  rise: number;
  /** 0: omitted (a failing check means FAULT). */
  weight: number;
}

export interface KeepalivedConfigInput {
  routerId: string;
  instance: string;
  state: 'MASTER' | 'BACKUP';
  interface: string;
  virtualRouterId: number;
  priority: number;
  advertInt: number;
  preempt: boolean;
  preemptDelay: number;
  /** Unicast: this host's address and its peers'; undefined = multicast. */
  unicast?: { src: string; peers: string[] };
  authPass?: string;
  vips: KeepalivedVip[];
  check: KeepalivedCheck;
}

export function renderKeepalivedConfig(c: KeepalivedConfigInput): string {
  const out: string[] = [
    HEADER,
    'global_defs {',
    `    router_id ${c.routerId}`,
    // Scripts run as root, and keepalived refuses any script a non-root user could modify.
    '    enable_script_security',
    '    script_user root',
    '}',
    '',
    `vrrp_script ${c.check.name} {`,
    `    script "${c.check.script}"`,
    `    interval ${c.check.interval}`,
    `    fall ${c.check.fall}`,
    `    rise ${c.check.rise}`,
    ...(c.check.weight !== 0 ? [`    weight ${c.check.weight}`] : []),
    '}',
    '',
    `vrrp_instance ${c.instance} {`,
    `    state ${c.state}`,
    `    interface ${c.interface}`,
    `    virtual_router_id ${c.virtualRouterId}`,
    `    priority ${c.priority}`,
    `    advert_int ${c.advertInt}`,
  ];
  if (!c.preempt) out.push('    nopreempt');
  else if (c.preemptDelay > 0) out.push(`    preempt_delay ${c.preemptDelay}`);
  if (c.unicast) {
    out.push(`    unicast_src_ip ${c.unicast.src}`, '    unicast_peer {', ...c.unicast.peers.map((p) => `        ${p}`), '    }');
  }
  if (c.authPass !== undefined) {
    out.push('    authentication {', '        auth_type PASS', `        auth_pass ${c.authPass}`, '    }');
  }
  out.push('    virtual_ipaddress {');
  for (const v of c.vips) out.push(`        # ${v.name}`, `        ${v.address}/${v.prefix} dev ${c.interface}`);
  out.push('    }', '    track_script {', `        ${c.check.name}`, '    }', '}');
  return out.join('\n') + '\n';
}

/** The config with its VRRP password masked (for --diff), whatever value an old file held. */
export function maskKeepalivedSecrets(text: string, secrets: readonly string[]): string {
  let t = text;
  for (const s of secrets) if (s) t = t.split(s).join(REDACTED);
  return t.replace(/^(\s*auth_pass\s+)\S.*$/gm, `$1${REDACTED}`);
}

import { afterEach, describe, expect, it } from 'vitest';
import type { Facts } from '../../../lib/facts/types.ts';
import { parseInventoryText } from '../../../lib/inventory/index.ts';
import type { Inventory } from '../../../lib/inventory/types.ts';
import type { OpResult } from '../../../lib/ops/types.ts';
import { makeHostCtx } from '../../../lib/run/context.ts';
import { inventoryLookup } from '../../../lib/run/lookup.ts';
import type { HostCtx } from '../../../lib/run/types.ts';
import { clearSecrets, redact, REDACTED } from '../../../lib/secrets/redact.ts';
import { PutValidateError } from '../../../lib/transport/types.ts';
import { lbPlays } from '../../../playbooks/plays/lb.ts';
import haproxyDefault, {
  EmptyGroupError,
  HAPROXY_VALIDATE,
  haproxyModel,
  haproxyRole,
  haproxyVars,
  maskHaproxySecrets,
  probeAddress,
  RELOAD_HANDLER,
  renderHaproxyConfig,
  writeConfig,
  type HaproxyVars,
} from '../../../roles/haproxy/index.ts';
import { keepalivedRole } from '../../../roles/keepalived/index.ts';
import { FakeTransport } from '../../support/fake-transport.ts';
import { debianFacts, fileOut } from '../ops/helpers.ts';

const PW = 'Stats-Secret-91x';

const INVENTORY = `
all:
  children:
    loadbalancers:
      hosts:
        loadbalancer1: { ansible_host: 10.17.4.30 }
        loadbalancer2: { ansible_host: 10.17.4.31 }
    k3s_cluster:
      children:
        masters:
          hosts:
            master1: { ansible_host: 10.17.4.21 }
            master2: { ansible_host: 10.17.4.22 }
            master3: { ansible_host: 10.17.4.23 }
        workers:
          hosts:
            worker1: { ansible_host: 10.17.4.24 }
            worker2: { ansible_host: 10.17.4.25 }
            worker3: {}
`;

const inv = (): Inventory => parseInventoryText(INVENTORY, 'test.yaml');
const lookup = (inventory: Inventory = inv()) => inventoryLookup(inventory);
const parse = (extra: Record<string, unknown> = {}): HaproxyVars => haproxyVars.parse({ haproxy_stats_password: PW, ...extra });

const GOLDEN = `# Managed by drover (role haproxy): local changes are overwritten.
global
    log /dev/log local0
    log /dev/log local1 notice
    chroot /var/lib/haproxy
    stats socket /run/haproxy/admin.sock mode 660 level admin
    stats timeout 30s
    user haproxy
    group haproxy
    daemon
    maxconn 4096

defaults
    log global
    mode tcp
    option tcplog
    option dontlognull
    timeout connect 5s
    timeout client 1m
    timeout server 1m
    timeout tunnel 1h

# Kubernetes API
frontend k8s_api
    bind *:6443
    default_backend masters_6443

# Ingress port 80
frontend ingress_80
    bind *:80
    default_backend workers_80

# Ingress port 443
frontend ingress_443
    bind *:443
    default_backend workers_443

# hosts of inventory group masters
backend masters_6443
    balance roundrobin
    option tcp-check
    server master1 10.17.4.21:6443 check inter 2s fall 2 rise 1
    server master2 10.17.4.22:6443 check inter 2s fall 2 rise 1
    server master3 10.17.4.23:6443 check inter 2s fall 2 rise 1

# hosts of inventory group workers
backend workers_80
    balance roundrobin
    option tcp-check
    server worker1 10.17.4.24:80 check inter 2s fall 2 rise 1
    server worker2 10.17.4.25:80 check inter 2s fall 2 rise 1
    server worker3 worker3:80 check inter 2s fall 2 rise 1

# hosts of inventory group workers
backend workers_443
    balance roundrobin
    option tcp-check
    server worker1 10.17.4.24:443 check inter 2s fall 2 rise 1
    server worker2 10.17.4.25:443 check inter 2s fall 2 rise 1
    server worker3 worker3:443 check inter 2s fall 2 rise 1

# Stats page (HTTP basic auth)
listen stats
    mode http
    option httplog
    bind *:8404
    stats enable
    stats uri /stats
    stats refresh 10s
    stats auth 'admin:${PW}'
`;

afterEach(() => clearSecrets());

describe('haproxy vars', () => {
  it('applies the documented defaults', () => {
    const v = parse();
    expect(v).toMatchObject({
      haproxy_package: 'haproxy',
      haproxy_config_path: '/etc/haproxy/haproxy.cfg',
      haproxy_bind_address: '*',
      haproxy_api_port: 6443,
      haproxy_api_backend_port: 6443,
      haproxy_api_group: 'masters',
      haproxy_ingress_enabled: true,
      haproxy_ingress_ports: [80, 443],
      haproxy_ingress_group: 'workers',
      haproxy_balance: 'roundrobin',
      haproxy_check_inter: '2s',
      haproxy_check_fall: 2,
      haproxy_check_rise: 1,
      haproxy_stats_enabled: true,
      haproxy_stats_port: 8404,
      haproxy_stats_user: 'admin',
      haproxy_extra_config: '',
    });
  });

  it('registers the stats password as a secret when parsed', () => {
    expect(redact(`x ${PW} y`)).toBe(`x ${PW} y`);
    parse();
    expect(redact(`x ${PW} y`)).toBe(`x ${REDACTED} y`);
  });

  it('requires the stats password only while the stats page is enabled', () => {
    const r = haproxyVars.safeParse({});
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['haproxy_stats_password']);
    expect(haproxyVars.safeParse({ haproxy_stats_enabled: false }).success).toBe(true);
  });

  it('refuses weak or unquotable passwords without echoing them', () => {
    const short = haproxyVars.safeParse({ haproxy_stats_password: 'abc' });
    expect(short.success).toBe(false);
    expect(short.error?.issues[0]?.message).toMatch(/at least 8/);
    const quoted = haproxyVars.safeParse({ haproxy_stats_password: "it's-a-pass" });
    expect(quoted.success).toBe(false);
    expect(JSON.stringify(quoted.error?.issues)).not.toContain("it's-a-pass");
  });

  it('accepts numbers of ms and unit times, refuses nonsense times and reused ports', () => {
    expect(parse({ haproxy_check_inter: 500 }).haproxy_check_inter).toBe('500');
    expect(parse({ haproxy_check_inter: '1s' }).haproxy_check_inter).toBe('1s');
    expect(haproxyVars.safeParse({ haproxy_stats_password: PW, haproxy_check_inter: 'soon' }).success).toBe(false);
    const dup = haproxyVars.safeParse({ haproxy_stats_password: PW, haproxy_stats_port: 443 });
    expect(dup.success).toBe(false);
    expect(dup.error?.issues[0]?.message).toBe('port 443 is used by two frontends');
    expect(haproxyVars.safeParse({ haproxy_stats_password: PW, haproxy_bind_address: 'everywhere' }).success).toBe(false);
    expect(parse({ haproxy_bind_address: '10.17.4.32' }).haproxy_bind_address).toBe('10.17.4.32');
  });
});

describe('haproxy vars as INI and -e spell them', () => {
  it('parses "yes"/"no" flags and "6443"-style ports and counts', () => {
    const v = parse({
      haproxy_ingress_enabled: 'no',
      haproxy_stats_enabled: 'yes',
      haproxy_api_port: '7443',
      haproxy_api_backend_port: '6443',
      haproxy_stats_port: '8405',
      haproxy_ingress_ports: ['8080'],
      haproxy_maxconn: '2000',
      haproxy_check_fall: '3',
      haproxy_check_rise: '2',
    });
    expect(v).toMatchObject({
      haproxy_ingress_enabled: false,
      haproxy_stats_enabled: true,
      haproxy_api_port: 7443,
      haproxy_api_backend_port: 6443,
      haproxy_stats_port: 8405,
      haproxy_ingress_ports: [8080],
      haproxy_maxconn: 2000,
      haproxy_check_fall: 3,
      haproxy_check_rise: 2,
    });
    expect(parse({ haproxy_ingress_enabled: 'off', haproxy_stats_enabled: 'true' }).haproxy_ingress_enabled).toBe(false);
    expect(haproxyVars.safeParse({ haproxy_stats_password: PW, haproxy_ingress_enabled: 'maybe' }).success).toBe(false);
    expect(haproxyVars.safeParse({ haproxy_stats_password: PW, haproxy_api_port: '70000' }).success).toBe(false);
  });
});

describe('haproxy backends from the inventory', () => {
  it('addresses backends by drover_peer_address when set, not by the SSH address', () => {
    const i = inv();
    i.hosts.get('master2')!.vars.drover_peer_address = '192.168.50.22';
    i.hosts.get('worker1')!.vars.drover_peer_address = '192.168.50.24';
    const text = renderHaproxyConfig(haproxyModel(parse(), lookup(i)));
    expect(text).toContain('    server master2 192.168.50.22:6443 ');
    expect(text).toContain('    server worker1 192.168.50.24:443 ');
    expect(text).not.toContain('10.17.4.22');
    expect(text).toContain('    server master1 10.17.4.21:6443 ');
  });

  it('the config task uses the merged vars (play vars, -e) of the backend hosts', async () => {
    const t = withConfig(undefined);
    const ctx = makeHostCtx({
      ...ctxInput(t),
      varsOf: (h) => (h === 'master3' ? { ...inv().hosts.get('master3')!.vars, drover_peer_address: '172.20.0.23' } : undefined),
    }) as HostCtx<HaproxyVars>;
    const r = await writeConfig(ctx);
    expect(r.status).toBe('changed');
    expect(t.files.get(CFG)?.content.toString()).toContain('    server master3 172.20.0.23:6443 ');
  });


  it('lists a group with its children, in inventory order', () => {
    expect(lookup().hostsOf('masters')).toEqual(['master1', 'master2', 'master3']);
    expect(lookup().hostsOf('k3s_cluster')).toEqual(['master1', 'master2', 'master3', 'worker1', 'worker2', 'worker3']);
    expect(lookup().hostsOf('nope')).toEqual([]);
  });

  it('renders the golden config for the seed topology (a host without ansible_host uses its name)', () => {
    expect(renderHaproxyConfig(haproxyModel(parse(), lookup()))).toBe(GOLDEN);
  });

  it('follows the vars: groups, ports, balance, check timing, no ingress, no stats, extra config', () => {
    const text = renderHaproxyConfig(
      haproxyModel(
        haproxyVars.parse({
          haproxy_api_group: 'workers',
          haproxy_api_port: 7443,
          haproxy_api_backend_port: 6444,
          haproxy_ingress_enabled: false,
          haproxy_stats_enabled: false,
          haproxy_balance: 'leastconn',
          haproxy_check_inter: '500ms',
          haproxy_check_fall: 3,
          haproxy_check_rise: 2,
          haproxy_bind_address: '10.0.0.9',
          haproxy_extra_config: 'listen extra\n    bind *:9000\n    server a 10.0.0.1:9000\n\n',
        }),
        lookup(),
      ),
    );
    expect(text).toContain('frontend k8s_api\n    bind 10.0.0.9:7443\n    default_backend workers_6444\n');
    expect(text).toContain('backend workers_6444\n    balance leastconn\n    option tcp-check\n    server worker1 10.17.4.24:6444 check inter 500ms fall 3 rise 2\n');
    expect(text).not.toContain('ingress_');
    expect(text).not.toContain('listen stats');
    expect(text.endsWith('\n# haproxy_extra_config\nlisten extra\n    bind *:9000\n    server a 10.0.0.1:9000\n')).toBe(true);
  });

  it('refuses an empty backend group with a message naming it', () => {
    expect(() => haproxyModel(parse({ haproxy_api_group: 'servers' }), lookup())).toThrow(EmptyGroupError);
    expect(() => haproxyModel(parse({ haproxy_ingress_group: 'nodes' }), lookup())).toThrow(/"nodes" \(haproxy_ingress_group\) has no hosts/);
    expect(() => haproxyModel(parse({ haproxy_ingress_group: 'nodes', haproxy_ingress_enabled: false }), lookup())).not.toThrow();
  });

  it('masks credentials for diffs: the known value and any stats auth / userlist password', () => {
    const old = "listen stats\n    stats auth 'admin:OldPassword1'\nuserlist u\n    user bob insecure-password hunter22\n";
    expect(maskHaproxySecrets(old, [])).toBe(`listen stats\n    stats auth ${REDACTED}\nuserlist u\n    user bob insecure-password ${REDACTED}\n`);
    const masked = maskHaproxySecrets(`${GOLDEN}# note ${PW}\n`, [PW]);
    expect(masked).not.toContain(PW);
    expect(masked).toContain(`    stats auth ${REDACTED}\n`);
    expect(masked).toContain(`# note ${REDACTED}\n`);
  });

  it('probes the API frontend on loopback unless bound to one address', () => {
    expect(probeAddress('*')).toBe('127.0.0.1');
    expect(probeAddress('::')).toBe('::1');
    expect(probeAddress('10.17.4.32')).toBe('10.17.4.32');
  });
});

// ---- task decisions over FakeTransport ----------------------------------------------------

function ctxFor(t: FakeTransport, o: { vars?: Record<string, unknown>; check?: boolean; diff?: boolean; facts?: Partial<Facts> } = {}): HostCtx<HaproxyVars> {
  return makeHostCtx(ctxInput(t, o)) as HostCtx<HaproxyVars>;
}

function ctxInput(t: FakeTransport, o: { vars?: Record<string, unknown>; check?: boolean; diff?: boolean; facts?: Partial<Facts> } = {}) {
  return {
    host: 'loadbalancer1',
    transport: t,
    facts: { ...debianFacts, ...o.facts },
    check: o.check ?? false,
    diff: o.diff ?? false,
    become: false,
    vars: parse(o.vars),
    hostVars: {},
    inventory: inv(),
    groups: ['all', 'loadbalancers'],
    registered: {},
    factsOf: () => undefined,
    log: () => {},
  };
}

const CFG = '/etc/haproxy/haproxy.cfg';
const OLD = "global\n    daemon\nlisten stats\n    stats auth 'admin:PreviousPw77'\n";

/** A transport where haproxy.cfg currently holds `current` (undefined: absent). */
function withConfig(current: string | undefined): FakeTransport {
  const t = new FakeTransport('loadbalancer1');
  t.on(/^if \[ -f /, { stdout: current ?? '' });
  t.on(CFG, () => ({ stdout: fileOut(current === undefined ? { type: 'absent' } : { content: current, mode: '640', group: 'haproxy', gid: 111 }) }));
  return t;
}

const noSecretIn = (r: OpResult) => {
  const s = JSON.stringify(r);
  expect(s).not.toContain(PW);
  expect(s).not.toContain('PreviousPw77');
};

describe('haproxy config task', () => {
  it('writes through haproxy -c on the temp file, root:haproxy 0640, and reports changed', async () => {
    const t = withConfig(undefined);
    const r = await writeConfig(ctxFor(t));
    expect(r.status).toBe('changed');
    const put = t.files.get(CFG);
    expect(put?.content.toString()).toBe(GOLDEN);
    expect(put?.options).toMatchObject({ validate: HAPROXY_VALIDATE, mode: '0640', owner: 'root', group: 'haproxy' });
    expect(HAPROXY_VALIDATE).toBe('haproxy -c -f %s');
    noSecretIn(r);
  });

  it('is ok with no write when the file already holds the config', async () => {
    const t = withConfig(GOLDEN);
    const r = await writeConfig(ctxFor(t));
    expect(r.status).toBe('ok');
    expect(t.files.size).toBe(0);
  });

  it('under --diff shows a diff with every credential masked', async () => {
    const t = withConfig(OLD);
    const r = await writeConfig(ctxFor(t, { diff: true }));
    expect(r.status).toBe('changed');
    expect(r.diff).toHaveLength(1);
    expect(r.diff?.[0]?.before).toContain(`stats auth ${REDACTED}`);
    expect(r.diff?.[0]?.after).toContain(`stats auth ${REDACTED}`);
    expect(r.diff?.[0]?.after).toContain('server master1 10.17.4.21:6443');
    noSecretIn(r);
  });

  it('in --check --diff reports the would-change and its masked diff, writing nothing', async () => {
    const t = withConfig(OLD);
    const r = await writeConfig(ctxFor(t, { check: true, diff: true }));
    expect(r.status).toBe('changed');
    expect(r.msg).toMatch(/^would update/);
    expect(r.diff?.[0]?.after).toContain('frontend k8s_api');
    expect(t.files.size).toBe(0);
    noSecretIn(r);
  });

  it('fails with haproxy\'s message when validation refuses the config, and writes nothing', async () => {
    const t = withConfig(OLD);
    const alert = "[ALERT] config : parsing [/etc/haproxy/.haproxy.cfg.drover-1:80] : unknown keyword 'bogus' in 'listen' section";
    t.put = async (path) => {
      throw new PutValidateError(path, { stdout: '', stderr: alert, code: 1, durationMs: 1 });
    };
    const r = await writeConfig(ctxFor(t, { vars: { haproxy_extra_config: 'bogus on' } }));
    expect(r.status).toBe('failed');
    expect(r.msg).toContain("unknown keyword 'bogus'");
    expect(r.msg).toMatch(/^validation of \/etc\/haproxy\/haproxy.cfg failed \(rc 1\)/);
    noSecretIn(r);
  });

  it('fails without touching the host when a backend group is empty', async () => {
    const t = withConfig(OLD);
    const r = await writeConfig(ctxFor(t, { vars: { haproxy_api_group: 'nobody' } }));
    expect(r.status).toBe('failed');
    expect(r.msg).toMatch(/"nobody"/);
    expect(t.execs).toHaveLength(0);
  });
});

describe('haproxy role shape', () => {
  it('exports the role both ways, notifies a reload (not a restart) from the config task', async () => {
    expect(haproxyDefault).toBe(haproxyRole);
    expect(haproxyRole.name).toBe('haproxy');
    const cfg = haproxyRole.tasks.find((x) => x.name.startsWith('haproxy.cfg'));
    expect(cfg?.notify).toBe(RELOAD_HANDLER);
    const handler = haproxyRole.handlers?.find((h) => h.name === RELOAD_HANDLER);
    expect(handler).toBeDefined();

    // The handler reloads a running haproxy, then waits for the API frontend.
    const t = new FakeTransport('loadbalancer1');
    t.on('systemctl show', { stdout: 'load=loaded\nactive=active\nenabled=enabled\n' });
    const r = await handler!.run(ctxFor(t));
    expect(r.status).toBe('changed');
    expect(t.commands).toContain("systemctl reload haproxy");
    expect(t.commands.some((c) => c.includes('restart'))).toBe(false);
    expect(t.commands.some((c) => c.includes('127.0.0.1') && c.includes('6443'))).toBe(true);
  });

  it('skips every task with the reason where there is no package manager (Flatcar)', () => {
    const t = new FakeTransport('x');
    const ctx = ctxFor(t, { facts: { pkgManager: 'none', os: { ...debianFacts.os, id: 'flatcar', family: 'flatcar' } } });
    for (const task of haproxyRole.tasks) expect(task.when?.(ctx)).toBe('no package manager on flatcar: haproxy cannot be installed');
    expect(haproxyRole.tasks[0]!.when?.(ctxFor(t))).toBe(true);
  });

  it('the lb playbook runs haproxy then keepalived on the loadbalancers group', () => {
    expect(lbPlays).toHaveLength(1);
    expect(lbPlays[0]!.hosts).toBe('loadbalancers');
    expect(lbPlays[0]!.roles.map((r) => r.name)).toEqual([haproxyRole.name, keepalivedRole.name]);
  });
});

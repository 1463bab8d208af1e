import { afterEach, describe, expect, it } from 'vitest';
import type { Facts } from '../../../lib/facts/types.ts';
import { parseInventoryText } from '../../../lib/inventory/index.ts';
import type { Inventory } from '../../../lib/inventory/types.ts';
import type { OpResult } from '../../../lib/ops/types.ts';
import { makeHostCtx } from '../../../lib/run/context.ts';
import { inventoryLookup } from '../../../lib/run/lookup.ts';
import type { HostCtx } from '../../../lib/run/types.ts';
import { clearSecrets, redact, REDACTED } from '../../../lib/secrets/redact.ts';
import keepalivedDefault, {
  initialState,
  interfaceFor,
  KEEPALIVED_VALIDATE,
  keepalivedModel,
  keepalivedRole,
  keepalivedVars,
  maskKeepalivedSecrets,
  ModelError,
  RELOAD_HANDLER,
  renderKeepalivedConfig,
  subnetPrefix,
  writeConfig,
  type KeepalivedVars,
} from '../../../roles/keepalived/index.ts';
import { FakeTransport } from '../../support/fake-transport.ts';
import { debianFacts, fileOut } from '../ops/helpers.ts';

const PASS = 'vrrpPw42';

// The lab's shape: VIPs and priorities as inventory/lab.yaml writes them.
const INVENTORY = `
all:
  children:
    loadbalancers:
      vars:
        keepalived_vips:
          - { name: api, address: 10.17.4.32, ports: [6443] }
          - { name: web, address: 10.17.4.33, ports: [80, 443] }
      hosts:
        loadbalancer1: { ansible_host: 10.17.4.30, keepalived_priority: 150 }
        loadbalancer2: { ansible_host: 10.17.4.31, keepalived_priority: 100 }
    masters:
      hosts:
        master1: { ansible_host: 10.17.4.21 }
`;

const inv = (text = INVENTORY): Inventory => parseInventoryText(text, 'test.yaml');

function factsWith(addresses: Record<string, string[]>): Facts {
  return {
    ...debianFacts,
    interfaces: Object.entries(addresses).map(([name, a]) => ({ name, up: true, addresses: a })),
  };
}
const LB1_FACTS = factsWith({ lo: ['127.0.0.1/8', '::1/128'], eth0: ['10.17.4.30/24', 'fe80::aff:fe11:41e/64'] });
const LB2_FACTS = factsWith({ lo: ['127.0.0.1/8'], eth0: ['10.17.4.31/24'] });

/** Vars as the runner would parse them for a host: its inventory vars plus extras. */
function varsFor(host: string, extra: Record<string, unknown> = {}, inventory = inv()): KeepalivedVars {
  return keepalivedVars.parse({ ...inventory.hosts.get(host)!.vars, keepalived_auth_pass: PASS, ...extra });
}

const model = (host: string, extra: Record<string, unknown> = {}, facts = host === 'loadbalancer1' ? LB1_FACTS : LB2_FACTS, inventory = inv()) =>
  keepalivedModel({ host, vars: varsFor(host, extra, inventory), lookup: inventoryLookup(inventory), facts });

const GOLDEN_LB1 = `# Managed by drover (role keepalived): local changes are overwritten.
global_defs {
    router_id loadbalancer1
    enable_script_security
    script_user root
}

vrrp_script chk_haproxy {
    script "/usr/bin/systemctl is-active --quiet haproxy"
    interval 1
    fall 2
    rise 2
}

vrrp_instance VI_LB {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass ${PASS}
    }
    virtual_ipaddress {
        # api
        10.17.4.32/24 dev eth0
        # web
        10.17.4.33/24 dev eth0
    }
    track_script {
        chk_haproxy
    }
}
`;

afterEach(() => clearSecrets());

describe('keepalived vars', () => {
  it('applies the documented defaults and needs at least one VIP', () => {
    const v = keepalivedVars.parse({ keepalived_vips: [{ name: 'api', address: '10.0.0.5' }] });
    expect(v).toMatchObject({
      keepalived_group: 'loadbalancers',
      keepalived_instance_name: 'VI_LB',
      keepalived_virtual_router_id: 51,
      keepalived_priority: 100,
      keepalived_advert_int: 1,
      keepalived_unicast: false,
      keepalived_preempt: true,
      keepalived_preempt_delay: 0,
      keepalived_check_script: '/usr/bin/systemctl is-active --quiet haproxy',
      keepalived_check_interval: 1,
      keepalived_check_fall: 2,
      keepalived_check_rise: 2,
      keepalived_check_weight: 0,
    });
    expect(v.keepalived_vips[0]).toEqual({ name: 'api', address: '10.0.0.5', ports: [] });
    expect(v.keepalived_auth_pass).toBeUndefined();
    const none = keepalivedVars.safeParse({});
    expect(none.success).toBe(false);
    expect(none.error?.issues[0]?.path).toEqual(['keepalived_vips']);
    expect(keepalivedVars.safeParse({ keepalived_vips: [] }).error?.issues[0]?.message).toBe('keepalived_vips needs at least one VIP');
  });

  it('registers the auth pass as a secret; refuses lengths VRRP or redaction cannot handle', () => {
    varsFor('loadbalancer1');
    expect(redact(`auth_pass ${PASS}`)).toBe(`auth_pass ${REDACTED}`);
    const long = keepalivedVars.safeParse({ keepalived_vips: [{ name: 'a', address: '10.0.0.5' }], keepalived_auth_pass: 'ninechars' });
    expect(long.error?.issues[0]?.message).toMatch(/4 to 8 characters/);
    expect(JSON.stringify(long.error?.issues)).not.toContain('ninechars');
    expect(keepalivedVars.safeParse({ keepalived_vips: [{ name: 'a', address: '10.0.0.5' }], keepalived_auth_pass: 'abc' }).success).toBe(false);
    expect(keepalivedVars.safeParse({ keepalived_vips: [{ name: 'a', address: '10.0.0.5' }], keepalived_auth_pass: 'a b#c' }).success).toBe(false);
  });

  it('refuses bad addresses, duplicate VIPs, a router id out of range and nopreempt with MASTER', () => {
    const vip = [{ name: 'a', address: '10.0.0.5' }];
    expect(keepalivedVars.safeParse({ keepalived_vips: [{ name: 'a', address: '10.0.0.999' }] }).success).toBe(false);
    const dup = keepalivedVars.safeParse({ keepalived_vips: [...vip, { name: 'b', address: '10.0.0.5' }] });
    expect(dup.error?.issues[0]?.path).toEqual(['keepalived_vips', 1, 'address']);
    expect(keepalivedVars.safeParse({ keepalived_vips: vip, keepalived_virtual_router_id: 256 }).success).toBe(false);
    const np = keepalivedVars.safeParse({ keepalived_vips: vip, keepalived_preempt: false, keepalived_state: 'MASTER' });
    expect(np.error?.issues[0]?.message).toMatch(/nopreempt/);
    expect(keepalivedVars.safeParse({ keepalived_vips: vip, keepalived_check_script: 'pidof haproxy' }).success).toBe(false);
  });
});

describe('keepalived vars as INI and -e spell them', () => {
  it('parses "yes"/"no" flags, numeric strings and durations in seconds', () => {
    const v = keepalivedVars.parse({
      keepalived_vips: [{ name: 'api', address: '10.0.0.5', ports: ['6443'], prefix: '24' }],
      keepalived_unicast: 'yes',
      keepalived_preempt: 'no',
      keepalived_priority: '150',
      keepalived_virtual_router_id: '52',
      keepalived_advert_int: '500ms',
      keepalived_preempt_delay: '5',
      keepalived_check_interval: '2s',
      keepalived_check_fall: '3',
      keepalived_check_rise: '1',
      keepalived_check_weight: '-20',
    });
    expect(v).toMatchObject({
      keepalived_unicast: true,
      keepalived_preempt: false,
      keepalived_priority: 150,
      keepalived_virtual_router_id: 52,
      keepalived_advert_int: 0.5,
      keepalived_preempt_delay: 5,
      keepalived_check_interval: 2,
      keepalived_check_fall: 3,
      keepalived_check_rise: 1,
      keepalived_check_weight: -20,
    });
    expect(v.keepalived_vips[0]).toMatchObject({ ports: [6443], prefix: 24 });
    const vip = [{ name: 'a', address: '10.0.0.5' }];
    expect(keepalivedVars.safeParse({ keepalived_vips: vip, keepalived_unicast: 'sometimes' }).success).toBe(false);
    expect(keepalivedVars.safeParse({ keepalived_vips: vip, keepalived_priority: '255' }).success).toBe(false);
    expect(keepalivedVars.safeParse({ keepalived_vips: vip, keepalived_check_interval: '1500ms' }).success).toBe(false);
  });
});

describe('keepalived peers from the lookup', () => {
  it('unicast peers and the source address use drover_peer_address over ansible_host', () => {
    const i = inv();
    i.hosts.get('loadbalancer1')!.vars.drover_peer_address = '192.168.60.30';
    i.hosts.get('loadbalancer2')!.vars.drover_peer_address = '192.168.60.31';
    const facts = factsWith({ lo: ['127.0.0.1/8'], eth0: ['10.17.4.30/24'], eth1: ['192.168.60.30/24'] });
    const text = renderKeepalivedConfig(model('loadbalancer1', { keepalived_unicast: true }, facts, i));
    expect(text).toContain('    unicast_src_ip 192.168.60.30\n    unicast_peer {\n        192.168.60.31\n    }\n');
    expect(text).toContain('    interface eth1\n');
    expect(text).not.toContain('10.17.4.31');
  });

  it("reads a peer's priority from its merged vars (play vars, -e), not the raw inventory", () => {
    const inventory = inv();
    const merged = (over: Record<string, unknown>) => (h: string) => ({ ...inventory.hosts.get(h)!.vars, ...(h === 'loadbalancer2' ? over : {}) });
    // Inventory: loadbalancer1 150 > loadbalancer2 100, so loadbalancer1 starts as MASTER.
    const base = inventoryLookup(inventory, merged({}));
    expect(initialState(base, 'loadbalancer1', 'loadbalancers', 150)).toBe('MASTER');
    // -e keepalived_priority=200 (a string, as -e and INI give it) for loadbalancer2: it wins.
    const raised = inventoryLookup(inventory, merged({ keepalived_priority: '200' }));
    expect(initialState(raised, 'loadbalancer1', 'loadbalancers', 150)).toBe('BACKUP');
    const m = keepalivedModel({ host: 'loadbalancer1', vars: varsFor('loadbalancer1', {}, inventory), lookup: raised, facts: LB1_FACTS });
    expect(m.state).toBe('BACKUP');
    // A peer's bad priority is an error naming the peer, not a silent default.
    const bad = inventoryLookup(inventory, merged({ keepalived_priority: 'high' }));
    expect(() => keepalivedModel({ host: 'loadbalancer1', vars: varsFor('loadbalancer1', {}, inventory), lookup: bad, facts: LB1_FACTS })).toThrow(
      /keepalived_priority of peer loadbalancer2 is "high"/,
    );
  });

  it('the config task sees play vars of the peer through the context', async () => {
    const t = withConfig(undefined);
    const inventory = inv();
    const ctx = makeHostCtx({
      ...ctxInput(t),
      varsOf: (h) => (h === 'loadbalancer2' ? { ...inventory.hosts.get(h)!.vars, keepalived_priority: 220 } : undefined),
    }) as HostCtx<KeepalivedVars>;
    const r = await writeConfig(ctx);
    expect(r.status).toBe('changed');
    expect(t.files.get(CFG)?.content.toString()).toContain('    state BACKUP\n');
  });
});

describe('keepalived model and template', () => {
  it('renders the golden config for loadbalancer1 (MASTER, multicast, interface and prefix from facts)', () => {
    expect(renderKeepalivedConfig(model('loadbalancer1'))).toBe(GOLDEN_LB1);
  });

  it('makes loadbalancer2 the BACKUP with its own priority', () => {
    const text = renderKeepalivedConfig(model('loadbalancer2'));
    expect(text).toContain('    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    priority 100\n');
    expect(text).toContain('router_id loadbalancer2');
  });

  it('with keepalived_unicast peers with the other hosts of the group by address', () => {
    const one = renderKeepalivedConfig(model('loadbalancer1', { keepalived_unicast: true }));
    expect(one).toContain('    advert_int 1\n    unicast_src_ip 10.17.4.30\n    unicast_peer {\n        10.17.4.31\n    }\n    authentication {');
    const two = renderKeepalivedConfig(model('loadbalancer2', { keepalived_unicast: true }));
    expect(two).toContain('    unicast_src_ip 10.17.4.31\n    unicast_peer {\n        10.17.4.30\n    }\n');
    expect(GOLDEN_LB1).not.toContain('unicast');
  });

  it('unicast needs IP addresses for the peers and at least one peer', () => {
    const noIp = inv(INVENTORY.replace('loadbalancer2: { ansible_host: 10.17.4.31,', 'loadbalancer2: { ansible_host: lb2.example.org,'));
    expect(() => model('loadbalancer1', { keepalived_unicast: true }, LB1_FACTS, noIp)).toThrow(/peer loadbalancer2 has no IP address/);
    expect(() => model('loadbalancer1', { keepalived_unicast: true, keepalived_group: 'nobody' })).toThrow(/"nobody" has no other host/);
  });

  it('finds the interface holding the host address, or says which ones exist', () => {
    const facts = factsWith({ lo: ['127.0.0.1/8'], ens3: ['192.168.0.30/24'], ens4: ['10.17.4.30/16'] });
    expect(interfaceFor(facts, '10.17.4.30')).toEqual({ name: 'ens4', prefix: 16 });
    expect(interfaceFor(facts, '10.9.9.9')).toBeUndefined();
    const text = renderKeepalivedConfig(model('loadbalancer1', {}, facts));
    expect(text).toContain('    interface ens4\n');
    expect(text).toContain('        10.17.4.32/16 dev ens4\n');
    const elsewhere = factsWith({ lo: ['127.0.0.1/8'], ens3: ['192.168.0.30/24'] });
    expect(() => model('loadbalancer1', {}, elsewhere)).toThrow(ModelError);
    expect(() => model('loadbalancer1', {}, elsewhere)).toThrow(/set keepalived_interface \(interfaces: lo \(127.0.0.1\/8\); ens3 \(192.168.0.30\/24\)\)/);
    // An explicit interface wins; the VIP prefix then comes from that interface.
    expect(renderKeepalivedConfig(model('loadbalancer1', { keepalived_interface: 'ens3' }, elsewhere))).toContain('        10.17.4.32/24 dev ens3\n');
  });

  it('an explicit VIP prefix wins; without any address of the family it is a host route', () => {
    const facts = factsWith({ eth0: ['10.17.4.30/24'] });
    expect(subnetPrefix(facts, 'eth0', '10.17.4.32', '10.17.4.30')).toBe(24);
    expect(subnetPrefix(facts, 'eth0', 'fd00::32', '10.17.4.30')).toBeUndefined();
    const text = renderKeepalivedConfig(
      model('loadbalancer1', { keepalived_vips: [{ name: 'api', address: '10.17.4.32', prefix: 32 }, { name: 'v6', address: 'fd00::32' }] }, facts),
    );
    expect(text).toContain('        10.17.4.32/32 dev eth0\n');
    expect(text).toContain('        fd00::32/128 dev eth0\n');
  });

  it('chooses the initial state from the group priorities (ties: the first host)', () => {
    const i = inventoryLookup(inv());
    expect(initialState(i, 'loadbalancer1', 'loadbalancers', 150)).toBe('MASTER');
    expect(initialState(i, 'loadbalancer2', 'loadbalancers', 100)).toBe('BACKUP');
    expect(initialState(i, 'loadbalancer2', 'loadbalancers', 200)).toBe('MASTER');
    expect(initialState(i, 'loadbalancer1', 'loadbalancers', 100)).toBe('MASTER');
    expect(initialState(i, 'loadbalancer2', 'loadbalancers', 150)).toBe('BACKUP');
    expect(model('loadbalancer2', { keepalived_state: 'MASTER' }).state).toBe('MASTER');
  });

  it('renders nopreempt (as BACKUP), preempt_delay, a check weight, no authentication block without a pass', () => {
    const np = renderKeepalivedConfig(model('loadbalancer1', { keepalived_preempt: false }));
    expect(np).toContain('    state BACKUP\n');
    expect(np).toContain('    advert_int 1\n    nopreempt\n');
    expect(renderKeepalivedConfig(model('loadbalancer1', { keepalived_preempt_delay: 5 }))).toContain('    preempt_delay 5\n');
    const w = renderKeepalivedConfig(model('loadbalancer1', { keepalived_check_weight: -60, keepalived_check_script: '/usr/bin/pidof haproxy' }));
    expect(w).toContain('    script "/usr/bin/pidof haproxy"\n    interval 1\n    fall 2\n    rise 2\n    weight -60\n}');
    const inventory = inv();
    const noAuth = renderKeepalivedConfig(
      keepalivedModel({ host: 'loadbalancer1', vars: keepalivedVars.parse(inventory.hosts.get('loadbalancer1')!.vars), lookup: inventoryLookup(inventory), facts: LB1_FACTS }),
    );
    expect(noAuth).not.toContain('authentication');
  });

  it('masks the auth pass in diffs, known or not', () => {
    expect(maskKeepalivedSecrets(GOLDEN_LB1, [PASS])).not.toContain(PASS);
    expect(maskKeepalivedSecrets('    auth_pass oldpass1\n', [])).toBe(`    auth_pass ${REDACTED}\n`);
  });
});

// ---- task decisions over FakeTransport ----------------------------------------------------

const CFG = '/etc/keepalived/keepalived.conf';

function ctxFor(t: FakeTransport, o: { check?: boolean; diff?: boolean; extra?: Record<string, unknown> } = {}): HostCtx<KeepalivedVars> {
  return makeHostCtx(ctxInput(t, o)) as HostCtx<KeepalivedVars>;
}

function ctxInput(t: FakeTransport, o: { check?: boolean; diff?: boolean; extra?: Record<string, unknown> } = {}) {
  const inventory = inv();
  return {
    host: 'loadbalancer1',
    transport: t,
    facts: LB1_FACTS,
    check: o.check ?? false,
    diff: o.diff ?? false,
    become: false,
    vars: varsFor('loadbalancer1', o.extra, inventory),
    hostVars: inventory.hosts.get('loadbalancer1')!.vars,
    inventory,
    groups: ['all', 'loadbalancers'],
    registered: {},
    factsOf: () => undefined,
    log: () => {},
  };
}

function withConfig(current: string | undefined): FakeTransport {
  const t = new FakeTransport('loadbalancer1');
  t.on(/^if \[ -f /, { stdout: current ?? '' });
  t.on(CFG, () => ({ stdout: fileOut(current === undefined ? { type: 'absent' } : { content: current, mode: '600' }) }));
  return t;
}

const noSecretIn = (r: OpResult) => {
  expect(JSON.stringify(r)).not.toContain(PASS);
  expect(JSON.stringify(r)).not.toContain('oldpass1');
};

describe('keepalived config task', () => {
  it('writes through keepalived -t on the temp file, root 0600', async () => {
    const t = withConfig(undefined);
    const r = await writeConfig(ctxFor(t));
    expect(r.status).toBe('changed');
    expect(t.files.get(CFG)?.content.toString()).toBe(GOLDEN_LB1);
    expect(t.files.get(CFG)?.options).toMatchObject({ validate: 'keepalived -t -f %s', mode: '0600', owner: 'root', group: 'root' });
    expect(KEEPALIVED_VALIDATE).toBe('keepalived -t -f %s');
    noSecretIn(r);
  });

  it('is ok and writes nothing when up to date', async () => {
    const t = withConfig(GOLDEN_LB1);
    expect((await writeConfig(ctxFor(t))).status).toBe('ok');
    expect(t.files.size).toBe(0);
  });

  it('--check --diff: would change, masked diff, nothing written', async () => {
    const t = withConfig('vrrp_instance X {\n    auth_pass oldpass1\n}\n');
    const r = await writeConfig(ctxFor(t, { check: true, diff: true }));
    expect(r.status).toBe('changed');
    expect(r.msg).toMatch(/^would update/);
    expect(r.diff?.[0]?.before).toContain(`auth_pass ${REDACTED}`);
    expect(r.diff?.[0]?.after).toContain(`auth_pass ${REDACTED}`);
    expect(t.files.size).toBe(0);
    noSecretIn(r);
  });

  it('fails with the reason, before touching the host, when no interface holds the address', async () => {
    const t = withConfig(undefined);
    const ctx = { ...ctxFor(t), facts: factsWith({ lo: ['127.0.0.1/8'] }) };
    const r = await writeConfig(ctx);
    expect(r.status).toBe('failed');
    expect(r.msg).toMatch(/keepalived_interface/);
    expect(t.execs).toHaveLength(0);
  });
});

describe('keepalived role shape', () => {
  it('exports the role both ways; the config change notifies a reload handler', async () => {
    expect(keepalivedDefault).toBe(keepalivedRole);
    expect(keepalivedRole.tasks.find((x) => x.name.startsWith('keepalived.conf'))?.notify).toBe(RELOAD_HANDLER);
    const handler = keepalivedRole.handlers?.find((h) => h.name === RELOAD_HANDLER);
    const t = new FakeTransport('loadbalancer1');
    t.on('systemctl show', { stdout: 'load=loaded\nactive=active\nenabled=enabled\n' });
    expect((await handler!.run(ctxFor(t))).status).toBe('changed');
    expect(t.commands).toContain('systemctl reload keepalived');
  });
});

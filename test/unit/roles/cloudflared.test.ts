import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseInventoryText } from '../../../lib/inventory/index.ts';
import type { Inventory } from '../../../lib/inventory/types.ts';
import { makeHostCtx } from '../../../lib/run/context.ts';
import type { HostCtx } from '../../../lib/run/types.ts';
import { clearSecrets, redact, REDACTED } from '../../../lib/secrets/redact.ts';
import cloudflaredDefault, {
  CLOUDFLARED_DEFAULT_IMAGE,
  cloudflaredObjects,
  cloudflaredRole,
  cloudflaredVars,
  maskManifestSecrets,
  parseTunnelToken,
  renderManifest,
  tunnelConfig,
  validateIngress,
  writeManifest,
  type CloudflaredVars,
  type IngressRule,
} from '../../../roles/cloudflared/index.ts';
import { FakeTransport } from '../../support/fake-transport.ts';
import { debianFacts } from '../ops/helpers.ts';
import { expectGolden, fakeFs } from './cilium-cloudflared-fakefs.ts';
import { manifestDocs, validateK8sObject } from './cilium-cloudflared-validators.ts';

const FIX = new URL('../../fixtures/cloudflared/', import.meta.url);

const TUNNEL_ID = '6ff42ae2-765d-4adf-8112-31c55c1551ef';
const TUNNEL_SECRET = Buffer.from('drover-unit-test-tunnel-secret-32b!').toString('base64');
/** A token of the real shape: base64 of {"a","s","t"} (connection.TunnelToken). */
const TOKEN = Buffer.from(JSON.stringify({ a: '0123456789abcdef0123456789abcdef', s: TUNNEL_SECRET, t: TUNNEL_ID })).toString('base64');
const CREDS = JSON.stringify({ AccountTag: '0123456789abcdef0123456789abcdef', TunnelSecret: TUNNEL_SECRET, TunnelID: TUNNEL_ID, Endpoint: '' });

const INGRESS = [
  { hostname: 'app.example.com', service: 'http://frontend.default.svc.cluster.local:80' },
  { hostname: '*.example.com', path: '^/api/', service: 'http://backend.default.svc.cluster.local:5000', originRequest: { connectTimeout: '10s' } },
  { hostname: 'ssh.example.com', service: 'ssh://10.17.4.21:22' },
];

const INVENTORY = `
all:
  children:
    masters:
      hosts:
        master1: { ansible_host: 10.17.4.21 }
        master2: { ansible_host: 10.17.4.22 }
`;
const inv = (): Inventory => parseInventoryText(INVENTORY, 'test.yaml');
const vars = (extra: Record<string, unknown> = {}): CloudflaredVars => cloudflaredVars.parse({ cloudflared_tunnel_token: TOKEN, cloudflared_ingress: INGRESS, ...extra });
const credsVars = (extra: Record<string, unknown> = {}) => vars({ cloudflared_tunnel_token: undefined, cloudflared_credentials_json: CREDS, ...extra });

function ctxFor(t: FakeTransport, o: { host?: string; v?: CloudflaredVars; check?: boolean; diff?: boolean } = {}): HostCtx<CloudflaredVars> {
  const inventory = inv();
  const host = o.host ?? 'master1';
  return makeHostCtx({
    host,
    transport: t,
    facts: debianFacts,
    check: o.check ?? false,
    diff: o.diff ?? false,
    become: false,
    vars: o.v ?? vars(),
    hostVars: inventory.hosts.get(host)!.vars,
    inventory,
    groups: inventory.hosts.get(host)!.groups,
    registered: {},
    factsOf: () => undefined,
    log: () => {},
  }) as HostCtx<CloudflaredVars>;
}

/** Every object valid for Kubernetes, the config.yaml valid for cloudflared; the objects by kind. */
function validated(text: string): Record<string, Record<string, unknown>> {
  const docs = manifestDocs(text);
  expect(docs.map((d) => d.kind)).toEqual(['Namespace', 'Secret', 'ConfigMap', 'Deployment', 'PodDisruptionBudget']);
  for (const d of docs) expect(validateK8sObject(d)).toEqual([]);
  const byKind = Object.fromEntries(docs.map((d) => [String(d.kind), d]));
  const config = parse(String((byKind.ConfigMap!.data as Record<string, string>)['config.yaml'])) as { ingress: IngressRule[] };
  expect(validateIngress(config.ingress)).not.toBeInstanceOf(Error);
  return byKind;
}

afterEach(() => clearSecrets());

describe('cloudflared vars', () => {
  it('applies the documented defaults and registers the token as a secret', () => {
    const v = vars({ cloudflared_ingress: undefined });
    expect(v).toMatchObject({
      cloudflared_namespace: 'cloudflared',
      cloudflared_name: 'cloudflared',
      cloudflared_image: 'cloudflare/cloudflared:2026.8.2',
      cloudflared_replicas: 2,
      cloudflared_ingress: [],
      cloudflared_catch_all_service: 'http_status:404',
      cloudflared_metrics_port: 2000,
      cloudflared_manifests_dir: '/var/lib/rancher/k3s/server/manifests',
    });
    expect(CLOUDFLARED_DEFAULT_IMAGE).toBe(v.cloudflared_image);
    expect(redact(`token=${TOKEN}`)).toBe(`token=${REDACTED}`);
  });

  const issues = (x: Record<string, unknown>) => {
    const r = cloudflaredVars.safeParse(x);
    expect(r.success).toBe(false);
    const text = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(TUNNEL_SECRET);
    return text;
  };

  it('refuses fewer than 2 replicas, unpinned images, both or neither credential', () => {
    expect(issues({ cloudflared_tunnel_token: TOKEN, cloudflared_replicas: 1 })).toMatch(/^cloudflared_replicas: /);
    expect(issues({ cloudflared_tunnel_token: TOKEN, cloudflared_image: 'cloudflare/cloudflared:latest' })).toMatch(/latest tag is not a pin/);
    expect(issues({ cloudflared_tunnel_token: TOKEN, cloudflared_image: 'cloudflare/cloudflared' })).toMatch(/^cloudflared_image: expected an image pinned/);
    expect(cloudflaredVars.safeParse({ cloudflared_tunnel_token: TOKEN, cloudflared_image: `cloudflare/cloudflared@sha256:${'a'.repeat(64)}` }).success).toBe(true);
    expect(issues({})).toBe('cloudflared_tunnel_token: set exactly one of cloudflared_tunnel_token and cloudflared_credentials_json');
    expect(issues({ cloudflared_tunnel_token: TOKEN, cloudflared_credentials_json: CREDS })).toMatch(/set exactly one of/);
  });

  it('checks the token and credentials shapes without echoing them', () => {
    expect(parseTunnelToken(TOKEN)).toEqual({ accountTag: '0123456789abcdef0123456789abcdef', tunnelId: TUNNEL_ID });
    expect(issues({ cloudflared_tunnel_token: 'not-a-token-at-all' })).toBe(
      'cloudflared_tunnel_token: the tunnel token is not base64-encoded JSON (copy it from the dashboard or `cloudflared tunnel token <name>`)',
    );
    expect(issues({ cloudflared_tunnel_token: Buffer.from('{"a":"x"}').toString('base64') })).toBe('cloudflared_tunnel_token: the tunnel token lacks its account tag (a), secret (s) or tunnel id (t)');
    expect(issues({ cloudflared_credentials_json: '{"AccountTag":"x"}' })).toBe('cloudflared_credentials_json: the tunnel credentials lack AccountTag or TunnelSecret');
    expect(issues({ cloudflared_credentials_json: CREDS, cloudflared_tunnel: '11111111-2222-3333-4444-555555555555' })).toBe(
      `cloudflared_tunnel: cloudflared_tunnel is 11111111-2222-3333-4444-555555555555 but the credentials are for tunnel ${TUNNEL_ID}`,
    );
  });

  it('refuses ingress rules cloudflared would refuse, pointing at the rule, and unknown originRequest keys', () => {
    expect(issues({ cloudflared_tunnel_token: TOKEN, cloudflared_ingress: [INGRESS[0], { hostname: 'b.example.com:443', service: 'http://b' }] })).toBe(
      'cloudflared_ingress.1: Validation failed: Hostname cannot contain a port',
    );
    expect(issues({ cloudflared_tunnel_token: TOKEN, cloudflared_ingress: [{ service: 'http://a' }, INGRESS[0]] })).toBe(
      "cloudflared_ingress.0: Validation failed: Rule #1 is matching the hostname '', but this will match every hostname, meaning the rules which follow it will never be triggered.",
    );
    expect(issues({ cloudflared_tunnel_token: TOKEN, cloudflared_catch_all_service: 'http_status:1000' })).toBe('cloudflared_ingress: Validation failed: invalid HTTP status code: 1000');
    expect(issues({ cloudflared_tunnel_token: TOKEN, cloudflared_ingress: [{ service: 'http://a', originRequest: { noTlsVerify: true } }] })).toMatch(
      /^cloudflared_ingress\.0\.originRequest\.noTlsVerify: "noTlsVerify" is not an originRequest setting of cloudflared/,
    );
    expect(issues({ cloudflared_tunnel_token: TOKEN, cloudflared_ingress: [{ hostname: 'a.com', servce: 'http://a' }] })).toMatch(/cloudflared_ingress\.0/);
  });
});

describe('cloudflared manifests', () => {
  it('token mode: golden manifest, every object valid, TUNNEL_TOKEN from the Secret, catch-all appended', () => {
    const text = renderManifest(cloudflaredObjects(vars()));
    expectGolden(new URL('manifest-token.yaml', FIX), text);
    const o = validated(text);
    const dep = o.Deployment as { spec: { replicas: number; template: { spec: { containers: Array<Record<string, unknown>> } } } };
    expect(dep.spec.replicas).toBe(2);
    const c = dep.spec.template.spec.containers[0]!;
    expect(c.image).toBe('cloudflare/cloudflared:2026.8.2');
    expect(c.env).toEqual([{ name: 'TUNNEL_TOKEN', valueFrom: { secretKeyRef: { name: 'cloudflared', key: 'token' } } }]);
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: '/ready', port: 2000 } });
    expect(Buffer.from(String((o.Secret!.data as Record<string, string>).token), 'base64').toString()).toBe(TOKEN);
    const cfg = tunnelConfig(vars());
    expect(cfg).toMatchObject({ metrics: '0.0.0.0:2000', 'no-autoupdate': true });
    expect(cfg).not.toHaveProperty('credentials-file');
    expect((cfg.ingress as IngressRule[]).at(-1)).toEqual({ service: 'http_status:404' });
    expect(cfg.ingress as IngressRule[]).toHaveLength(4);
  });

  it('credentials mode: golden manifest, tunnel id from the credentials, the file mounted read-only', () => {
    const text = renderManifest(cloudflaredObjects(credsVars({ cloudflared_replicas: 3, cloudflared_ingress: [...INGRESS, { hostname: '*', service: 'http_status:503' }] })));
    expectGolden(new URL('manifest-credentials.yaml', FIX), text);
    const o = validated(text);
    const cfg = parse(String((o.ConfigMap!.data as Record<string, string>)['config.yaml'])) as Record<string, unknown>;
    expect(cfg).toMatchObject({ tunnel: TUNNEL_ID, 'credentials-file': '/etc/cloudflared/creds/credentials.json' });
    // The last rule was already a catch-all: nothing appended.
    expect((cfg.ingress as IngressRule[]).at(-1)).toEqual({ hostname: '*', service: 'http_status:503' });
    const spec = (o.Deployment as { spec: { replicas: number; template: { spec: Record<string, unknown> } } }).spec;
    expect(spec.replicas).toBe(3);
    expect(JSON.stringify(spec.template.spec.volumes)).toContain('"secretName":"cloudflared"');
    expect(spec.template.spec.containers).toMatchObject([{ volumeMounts: [{ name: 'config' }, { name: 'creds', mountPath: '/etc/cloudflared/creds', readOnly: true }] }]);
  });

  it('a config or secret change changes the pod template (cloudflared reads its config once)', () => {
    const ann = (v: CloudflaredVars) => ((cloudflaredObjects(v).deployment.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations);
    const a = ann(vars());
    expect(ann(vars({ cloudflared_ingress: [INGRESS[0]] }))['drover/config-sha256']).not.toBe(a['drover/config-sha256']);
    expect(ann(credsVars())['drover/secret-sha256']).not.toBe(a['drover/secret-sha256']);
    expect(JSON.stringify(a)).not.toContain(TOKEN);
  });

  it('masks every Secret value for diffs, whatever the old file held', () => {
    const text = renderManifest(cloudflaredObjects(vars()));
    const masked = maskManifestSecrets(text);
    expect(masked).not.toContain(Buffer.from(TOKEN).toString('base64'));
    expect(masked).toContain(`data:\n  token: ${REDACTED}\n`);
    // Only that line differs.
    const a = text.split('\n');
    const b = masked.split('\n');
    expect(a.filter((l, i) => l !== b[i])).toEqual([`  token: ${Buffer.from(TOKEN).toString('base64')}`]);
    expect(maskManifestSecrets('---\nkind: Secret\ndata:\n  credentials.json: b2xk\n  other: eA==\n---\nkind: ConfigMap\ndata:\n  config.yaml: x\n')).toBe(
      `---\nkind: Secret\ndata:\n  credentials.json: ${REDACTED}\n  other: ${REDACTED}\n---\nkind: ConfigMap\ndata:\n  config.yaml: x\n`,
    );
  });
});

describe('cloudflared manifest task', () => {
  const DIR = '/var/lib/rancher/k3s/server/manifests';
  const PATH = `${DIR}/cloudflared.yaml`;

  it('writes 0600 root with noLog on the first server; a second run changes nothing; nothing secret in any result', async () => {
    const fs = fakeFs('master1', [DIR, PATH]);
    const r1 = await writeManifest(ctxFor(fs.t));
    expect(r1.status).toBe('changed');
    expect(fs.writes).toEqual([`mkdir ${DIR}`, PATH]);
    expect(fs.t.files.get(PATH)!.options).toMatchObject({ mode: '0600', owner: 'root', group: 'root' });
    expect(fs.t.files.get(PATH)!.content.toString()).toBe(readFileSync(new URL('manifest-token.yaml', FIX), 'utf8'));
    const r2 = await writeManifest(ctxFor(fs.t));
    expect(r2.status).toBe('ok');
    expect(fs.writes).toHaveLength(2);
    for (const r of [r1, r2]) {
      const s = JSON.stringify(r);
      expect(s).not.toContain(TOKEN);
      expect(s).not.toContain(Buffer.from(TOKEN).toString('base64'));
    }
    for (const e of fs.t.execs) expect(e.command + JSON.stringify(e.options ?? {})).not.toContain(TOKEN);
  });

  it('under --diff (and --check --diff) shows a diff with the Secret masked, old secret included', async () => {
    const OLD_TOKEN_B64 = Buffer.from('previous-token-value').toString('base64');
    const old = `---\napiVersion: v1\nkind: Secret\ndata:\n  token: ${OLD_TOKEN_B64}\n`;
    for (const check of [false, true]) {
      const t = new FakeTransport('master1');
      t.on(/^if \[ -f /, { stdout: old });
      t.on(PATH, () => ({ stdout: '' }));
      const r = await writeManifest(ctxFor(t, { diff: true, check }));
      expect(r.status).toBe('changed');
      expect(r.diff).toHaveLength(1);
      const s = JSON.stringify(r);
      expect(s).not.toContain(OLD_TOKEN_B64);
      expect(s).not.toContain(Buffer.from(TOKEN).toString('base64'));
      expect(r.diff![0]!.after).toContain(`token: ${REDACTED}`);
      expect(t.files.size).toBe(check ? 0 : 1);
    }
  });

  it('runs on the first server only; fails on an empty group', async () => {
    const task = cloudflaredRole.tasks[0]!;
    const t = new FakeTransport('x');
    expect(task.when!(ctxFor(t))).toBe(true);
    expect(task.when!(ctxFor(t, { host: 'master2' }))).toBe('the manifest goes to the first server of masters (master1) only');
    const r = await writeManifest(ctxFor(t, { v: vars({ cloudflared_servers_group: 'servers' }) }));
    expect(r).toMatchObject({ status: 'failed', msg: 'inventory group "servers" (cloudflared_servers_group) has no hosts: no K3s server to deploy the tunnel through' });
    expect(t.execs).toEqual([]);
  });

  it('exports the role both ways', () => {
    expect(cloudflaredDefault).toBe(cloudflaredRole);
    expect(cloudflaredRole.name).toBe('cloudflared');
    expect(cloudflaredRole.tasks.map((x) => x.name)).toEqual(['cloudflared manifest (Namespace, Secret, ConfigMap, Deployment, PodDisruptionBudget)']);
  });
});

describe('cloudflared through the runner', () => {
  it('only master1 writes; no event carries the token; a second run reports nothing changed', async () => {
    const { harness, makeInventory } = await import('../run/helpers.ts');
    const i = makeInventory({ master1: { groups: ['masters'] }, master2: { groups: ['masters'] } });
    const DIR = '/var/lib/rancher/k3s/server/manifests';
    const fss = new Map([
      ['master1', fakeFs('master1', [DIR, `${DIR}/cloudflared.yaml`])],
      ['master2', fakeFs('master2', [DIR, `${DIR}/cloudflared.yaml`])],
    ]);
    const h = harness(i);
    const play = { name: 'tunnel', hosts: 'masters', roles: [cloudflaredRole], vars: { cloudflared_tunnel_token: TOKEN, cloudflared_ingress: INGRESS } };
    const connect = (host: { name: string }) => fss.get(host.name)!.t;
    const r1 = await h.run([play], { connect, diff: true });
    expect(r1.exitCode).toBe(0);
    expect(r1.hosts.master1).toMatchObject({ changed: 1, failed: 0 });
    expect(r1.hosts.master2).toMatchObject({ changed: 0, skipped: 1 });
    expect(fss.get('master2')!.writes).toEqual([]);
    const r2 = await h.run([play], { connect, diff: true });
    expect(r2.hosts.master1).toMatchObject({ changed: 0, failed: 0 });
    const events = JSON.stringify(h.sink.events);
    expect(events).not.toContain(TOKEN);
    expect(events).not.toContain(Buffer.from(TOKEN).toString('base64'));
    expect(events).not.toContain(TUNNEL_SECRET);
  });
});

describe('cloudflared bad variables through the runner', () => {
  it('an ingress rule cloudflared would refuse stops the run before any host is touched, naming the rule, never the token', async () => {
    const { harness, makeInventory } = await import('../run/helpers.ts');
    const i = makeInventory({ master1: { groups: ['masters'] } });
    const h = harness(i);
    const play = {
      name: 'tunnel',
      hosts: 'masters',
      roles: [cloudflaredRole],
      vars: { cloudflared_tunnel_token: TOKEN, cloudflared_ingress: [{ hostname: 'app.example.com:443', service: 'http://app' }] },
    };
    const err = await h.run([play]).then(
      () => undefined,
      (e: unknown) => e as Error & { key?: string },
    );
    // An InputError (exit 65 at the CLI) naming the rule's key.
    expect(err?.message).toBe('play "tunnel" vars: key "cloudflared_ingress.0": role "cloudflared" on host "master1": Validation failed: Hostname cannot contain a port');
    expect(err?.key).toBe('cloudflared_ingress.0');
    expect(JSON.stringify(err) + String(err?.message) + JSON.stringify(h.sink.events)).not.toContain(TOKEN);
    expect(h.connects).toEqual([]);
  });
});

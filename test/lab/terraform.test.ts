// The Terraform contract of examples/terraform/, tested without Terraform (it cannot be
// installed here): every .tf file is parsed with HashiCorp's HCL parser (@cdktf/hcl2json),
// each local-exec provisioner's command, environment and working directory are extracted, the
// environment is evaluated from the module's variables as Terraform would, and the command is
// run exactly as Terraform runs it: /bin/sh -c COMMAND, no TTY, no stdin, Terraform's
// environment plus that map, in the working directory, here inside the lab namespace against
// real lab hosts. Checked: plain lines (no ANSI), exit codes, the values reaching the hosts, a
// failed host and an unreachable host failing the apply, and the destroy-time reset.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAB_NETNS } from '../../lab/index.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TF = join(ROOT, 'examples/terraform');
const MODULE = join(TF, 'modules/drover');

type Hcl = Record<string, unknown>;
interface LocalExec {
  file: string;
  resource: string;
  when: 'create' | 'destroy';
  command: string;
  environment: Record<string, string>;
  workingDir: string;
  interpreter?: string[];
}

function tfFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'generated' ? [] : tfFiles(p);
    return n.endsWith('.tf') ? [p] : [];
  });
}

async function parseDir(dir: string): Promise<Hcl[]> {
  return Promise.all(tfFiles(dir).filter((f) => resolve(f, '..') === dir).map(async (f) => (await parse(f, readFileSync(f, 'utf8'))) as Hcl));
}

/** Every local-exec provisioner of every resource in the parsed files. */
function localExecs(file: string, hcl: Hcl): LocalExec[] {
  const out: LocalExec[] = [];
  const resources = (hcl.resource ?? {}) as Record<string, Record<string, Hcl[]>>;
  for (const [type, byName] of Object.entries(resources)) {
    for (const [name, blocks] of Object.entries(byName)) {
      for (const block of blocks) {
        const provs = ((block.provisioner ?? {}) as Record<string, Hcl[]>)['local-exec'] ?? [];
        for (const p of provs) {
          out.push({
            file,
            resource: `${type}.${name}`,
            when: p.when === '${destroy}' ? 'destroy' : 'create',
            command: String(p.command),
            environment: (p.environment ?? {}) as Record<string, string>,
            workingDir: String(p.working_dir ?? ''),
            ...(p.interpreter ? { interpreter: p.interpreter as string[] } : {}),
          });
        }
      }
    }
  }
  return out;
}

/**
 * Terraform's evaluation of the few expression forms the module's environment uses (a value
 * of another form fails the test: keep the contract this simple). Values become strings as
 * Terraform turns environment values into strings.
 */
function evaluate(expr: string, scope: { vars: Record<string, unknown>; input?: Record<string, string> }): unknown {
  const m = /^\$\{(.*)\}$/s.exec(expr);
  if (!m) {
    if (expr.includes('${')) throw new Error(`contract: mixed template ${expr}`);
    return expr;
  }
  const e = m[1]!.trim();
  let r: RegExpExecArray | null;
  if ((r = /^var\.(\w+)$/.exec(e))) {
    if (!(r[1]! in scope.vars)) throw new Error(`contract: no value for var.${r[1]}`);
    return scope.vars[r[1]!];
  }
  if ((r = /^self\.input\.(\w+)$/.exec(e))) return evaluate(scope.input![r[1]!]!, scope);
  if ((r = /^jsonencode\((.+)\)$/.exec(e))) return JSON.stringify(evaluate(`\${${r[1]}}`, scope));
  if ((r = /^(.+?) \? "([^"]*)" : "([^"]*)"$/.exec(e))) return evaluate(`\${${r[1]}}`, scope) ? r[2] : r[3];
  throw new Error(`contract: the test cannot evaluate \${${e}}`);
}

const asEnv = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

interface Applied {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a local-exec as Terraform does: interpreter + command, no TTY, no stdin, env added. */
function runLocalExec(le: LocalExec, env: Record<string, string>, cwd: string): Promise<Applied> {
  const [sh, flag] = le.interpreter ?? ['/bin/sh', '-c'];
  // Terraform passes its own environment on; CI is dropped so "plain because no TTY" is what is shown.
  const { CI: _ci, ...base } = process.env;
  const child = spawn('ip', ['netns', 'exec', LAB_NETNS, sh!, flag!, le.command], {
    cwd,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', rej);
    child.on('close', (code) => (clearTimeout(timer), res({ code, stdout, stderr })));
  });
}

let execs: LocalExec[] = [];
let moduleVars: Record<string, { default?: unknown }> = {};
let cluster: Hcl;

beforeAll(async () => {
  const parsed = await parseDir(MODULE);
  execs = parsed.flatMap((h) => localExecs('modules/drover', h));
  for (const h of parsed) {
    for (const [name, blocks] of Object.entries((h.variable ?? {}) as Record<string, Hcl[]>)) moduleVars[name] = blocks[0]! as { default?: unknown };
    const tfData = ((h.resource ?? {}) as Record<string, Record<string, Hcl[]>>).terraform_data;
    if (tfData?.cluster) cluster = tfData.cluster[0]!;
  }
});

describe('examples/terraform: what Terraform would read', () => {
  it('every .tf file parses, and the roots call the module with every variable it requires', async () => {
    const files = tfFiles(TF);
    expect(files.length).toBeGreaterThanOrEqual(9);
    for (const f of files) await expect(parse(f, readFileSync(f, 'utf8')), relative(ROOT, f)).resolves.toBeTruthy();
    const required = Object.entries(moduleVars).filter(([, v]) => !('default' in v)).map(([n]) => n).sort();
    expect(required).toEqual(['cluster_id', 'drover_dir', 'inventory']);
    for (const root of ['libvirt', 'proxmox']) {
      const mods = (await parseDir(join(TF, root))).flatMap((h) => Object.entries((h.module ?? {}) as Record<string, Hcl[]>));
      const [name, [call]] = mods[0]! as [string, Hcl[]];
      expect(name).toBe('drover');
      expect(call!.source).toBe('../modules/drover');
      for (const v of required) expect(call, `${root}: module "drover" needs ${v}`).toHaveProperty(v);
      // Re-run on change: the triggers name the VMs and hash the rendered inventory.
      const triggers = call!.triggers as Record<string, string>;
      expect(triggers.vms).toMatch(/\.id/);
      expect(triggers.inventory).toBe('${sha256(local_file.inventory.content)}');
      // The inventory is a file Terraform renders; secrets go through a 0600 file.
      expect(call!.inventory).toBe('${abspath(local_file.inventory.filename)}');
      expect(call!.secret_vars_file).toBe('${abspath(local_sensitive_file.secrets.filename)}');
    }
  });

  it('local-exec commands interpolate nothing: values only through environment', () => {
    expect(execs.map((e) => `${e.resource}:${e.when}`).sort()).toEqual(['terraform_data.cluster:destroy', 'terraform_data.configure:create']);
    for (const e of execs) {
      expect(e.command, `${e.resource}: no Terraform interpolation in the command`).not.toMatch(/\$\{|%\{/);
      expect(e.interpreter).toEqual(['/bin/sh', '-c']);
      expect(e.workingDir).toMatch(/^\$\{(var\.drover_dir|self\.input\.drover_dir)\}$/);
      // A destroy-time provisioner may only reference self: Terraform refuses anything else.
      if (e.when === 'destroy') for (const v of Object.values(e.environment)) expect(v).toMatch(/^\$\{self\./);
    }
    const configure = execs.find((e) => e.when === 'create')!;
    expect(Object.keys(configure.environment).sort()).toEqual([
      'DROVER_ACCEPT_NEW', 'DROVER_EXTRA_VARS', 'DROVER_INVENTORY', 'DROVER_LIMIT', 'DROVER_PLAYBOOK', 'DROVER_SECRET_VARS_FILE', 'DROVER_WAIT_TIMEOUT',
    ]);
    expect(moduleVars.reset_playbook!.default).toBe('playbooks/k3s-reset.ts');
    expect(cluster.input).toHaveProperty('cluster_id', '${var.cluster_id}');
  });
});

describe('examples/terraform: the local-execs run against the lab as Terraform would run them', () => {
  let lab: Lab | undefined;
  let vars: Record<string, unknown>;
  const hostsUnderTest = ['infra', 'worker3'];
  const run = `tf-${process.pid}`;
  const secret = `s3cr3t-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    lab = await useLab();
    if (!lab) return;
    const tmp = mkdtempSync(join(tmpdir(), 'drover-tf-'));
    const secrets = join(tmp, 'secrets.yaml');
    writeFileSync(secrets, `tf_secret: ${secret}\n`, { mode: 0o600 });
    vars = {
      ...Object.fromEntries(Object.entries(moduleVars).filter(([, v]) => 'default' in v).map(([k, v]) => [k, v.default])),
      drover_dir: ROOT,
      inventory: join(ROOT, lab.inventory),
      cluster_id: 'lab',
      playbook: 'test/fixtures/terraform/marker-playbook.ts',
      limit: hostsUnderTest.join(':'),
      extra_vars: { tf_marker: `${run}-1` },
      secret_vars_file: secrets,
      wait_timeout: 60,
    };
  });

  const configure = (over: Record<string, unknown>) => {
    const le = execs.find((e) => e.when === 'create')!;
    const scope = { vars: { ...vars, ...over } };
    const env = Object.fromEntries(Object.entries(le.environment).map(([k, v]) => [k, asEnv(evaluate(v, scope))]));
    return runLocalExec(le, env, String(evaluate(le.workingDir, scope)));
  };
  const marker = async (host: string) => (await lab!.sh(host, 'cat /var/tmp/drover-tf/marker')).stdout.trim();

  it('apply: waits for the hosts, runs the playbook, exit 0, plain lines; the values reach the hosts; secrets stay out of the output', async (ctx) => {
    if (!lab) return ctx.skip();
    const r = await configure({});
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).not.toMatch(/\x1b\[/);
    for (const h of hostsUnderTest) expect(r.stdout).toMatch(new RegExp(`^ready {4}${h} {2}\\d+\\.\\ds \\(ssh ok, no cloud-init\\)$`, 'm'));
    expect(r.stdout).toMatch(/^all 2 hosts ready in /m);
    expect(r.stdout).toMatch(/PLAY RECAP/);
    expect(out).not.toContain(secret);
    for (const h of hostsUnderTest) expect(await marker(h)).toBe(`${run}-1`);
    expect((await lab.sh('worker3', 'cat /var/tmp/drover-tf/secret.sha256')).stdout.trim()).toBe('secret received');
  });

  it('a host still running cloud-init is waited for, with a line saying so, then configured', async (ctx) => {
    if (!lab) return ctx.skip();
    // worker3 plays a fresh VM: cloud-init installed and running until boot-finished appears.
    const fake = '#!/bin/sh\necho "status: running"\n';
    await lab.sh('worker3', `mkdir -p /var/lib/cloud/instance && rm -f /var/lib/cloud/instance/boot-finished && cat > /usr/local/bin/cloud-init && chmod 755 /usr/local/bin/cloud-init`, { input: fake });
    try {
      const applying = configure({ limit: 'worker3', extra_vars: { tf_marker: `${run}-ci` } });
      // Past the first 10 s report, so the "still waiting" line must have been printed.
      await new Promise((r) => setTimeout(r, 11_000));
      expect(await marker('worker3')).not.toBe(`${run}-ci`);
      await lab.sh('worker3', 'touch /var/lib/cloud/instance/boot-finished');
      const r = await applying;
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^waiting {2}worker3 {2}\d+\.\ds: ssh ok, cloud-init still running$/m);
      expect(r.stdout).toMatch(/^ready {4}worker3 {2}\d+\.\ds \(ssh ok, cloud-init done\)$/m);
      expect(await marker('worker3')).toBe(`${run}-ci`);
    } finally {
      await lab.sh('worker3', 'rm -rf /usr/local/bin/cloud-init /var/lib/cloud');
    }
  });

  it('a changed trigger value re-runs with the new values; the unchanged part changes nothing', async (ctx) => {
    if (!lab) return ctx.skip();
    const r = await configure({ extra_vars: { tf_marker: `${run}-2` } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const h of hostsUnderTest) expect(await marker(h)).toBe(`${run}-2`);
    // Same vars again: converged, zero changes (a re-created terraform_data is harmless).
    const again = await configure({ extra_vars: { tf_marker: `${run}-2` } });
    expect(again.code).toBe(0);
    for (const h of hostsUnderTest) expect(again.stdout).toMatch(new RegExp(`^${h}\\s+: ok=\\d+\\s+changed=0\\s+unreachable=0\\s+failed=0\\s`, 'm'));
  });

  it('a failed host fails the apply (exit 2, the host and the error in the output)', async (ctx) => {
    if (!lab) return ctx.skip();
    const r = await configure({ extra_vars: { tf_marker: `${run}-2`, tf_fail_hosts: ['worker3'] } });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^TASK \[marker : fail where asked\] worker3 failed .*failing on purpose/m);
    expect(r.stdout).toMatch(/^worker3\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=1\s/m);
    expect(r.stdout + r.stderr).toContain('failing on purpose');
    expect(r.stdout + r.stderr).not.toMatch(/\x1b\[/);
  });

  it('a host that never comes up fails the apply at the wait (exit 4, one line naming it)', async (ctx) => {
    if (!lab) return ctx.skip();
    const dir = mkdtempSync(join(tmpdir(), 'drover-tf-inv-'));
    const inv = join(dir, 'hosts.yaml');
    // 10.17.4.250 is on the lab bridge with no host behind it: nothing leaves the lab.
    writeFileSync(
      inv,
      readFileSync(join(ROOT, lab.inventory), 'utf8').replace(/^(\s+)infra: \{/m, '$1ghost: { ansible_host: 10.17.4.250 }\n$1infra: {'),
    );
    const r = await configure({ inventory: inv, limit: 'ghost:infra', wait_timeout: 4 });
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^ready {4}infra /m);
    expect(r.stdout).toMatch(/^timeout {2}ghost {2}not ready after \d+\.\ds: .+$/m);
    expect(r.stdout).toMatch(/^1 of 2 hosts not ready after \d+\.\ds: ghost$/m);
    expect(r.stdout).not.toMatch(/PLAY RECAP/);
  });

  it('destroy: the reset playbook runs from self.input (here with --check: the lab keeps its state)', async (ctx) => {
    if (!lab) return ctx.skip();
    const le = execs.find((e) => e.when === 'destroy')!;
    const scope = { vars: { ...vars, limit: 'worker3', reset_check_only: true }, input: cluster.input as Record<string, string> };
    const env = Object.fromEntries(Object.entries(le.environment).map(([k, v]) => [k, asEnv(evaluate(v, scope))]));
    expect(env.DROVER_RESET_PLAYBOOK).toBe('playbooks/k3s-reset.ts');
    expect(env.DROVER_CHECK).toBe('--check');
    const r = await runLocalExec(le, env, String(evaluate(le.workingDir, scope)));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PLAY RECAP/);
    expect(r.stdout).toMatch(/^worker3\s/m);
    expect(r.stdout + r.stderr).not.toMatch(/\x1b\[/);
    // No reset playbook configured: the destroy says so and succeeds.
    const none = await runLocalExec(le, { ...env, DROVER_RESET_PLAYBOOK: '' }, ROOT);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('no reset playbook configured');
  });
});

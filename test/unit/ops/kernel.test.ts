// sysctl and kernelModule, including the container paths (systemd-nspawn).
import { describe, expect, it } from 'vitest';
import { isNamespacedSysctl } from '../../../lib/ops/container.ts';
import { decideKernelModule, kernelModule, kernelModuleProbeScript, parseKernelModuleState } from '../../../lib/ops/kernelModule.ts';
import { decideSysctl, parseSysctlState, procPath, sysctl, sysctlProbeScript } from '../../../lib/ops/sysctl.ts';
import { containerFacts, expectOnlyProbes, fileOut, makeCtx } from './helpers.ts';
import { LocalShell } from './local-shell.ts';

const CONF = '/etc/sysctl.d/99-drover.conf';
const sysOut = (live: string | null, content: string | null, hasSysctl = true) =>
  (live === null ? 'live_missing=1\n' : `live=${live}\n`) +
  (hasSysctl ? 'has_sysctl=1\n' : '') +
  fileOut(content === null ? { type: 'absent' } : { content, withContent: true });

describe('sysctl', () => {
  it('live and persisted already: ok in one exec', async () => {
    const { ctx, t } = makeCtx();
    t.on(`k=${procPath('net.ipv4.ip_forward')}`, { stdout: sysOut('1', 'net.ipv4.ip_forward = 1\n') });
    const r = await sysctl('net.ipv4.ip_forward', 1)(ctx);
    expect(r).toMatchObject({ status: 'ok', msg: 'net.ipv4.ip_forward = 1' });
    expect(t.execs).toHaveLength(1);
  });

  it('both differ: persist (edit the line) and sysctl -w', async () => {
    const { ctx, t } = makeCtx();
    t.on('k=', { stdout: sysOut('0', 'vm.swappiness = 10\nnet.ipv4.ip_forward = 0\n') });
    const r = await sysctl('net.ipv4.ip_forward', '1')(ctx);
    expect(r.status).toBe('changed');
    expect(r.commands).toEqual(['sysctl -w net.ipv4.ip_forward=1']);
    expect(r.msg).toBe(`persist net.ipv4.ip_forward = 1 in ${CONF}; set net.ipv4.ip_forward = 1 (was 0)`);
    expect(t.files.get(CONF)!.content.toString()).toBe('vm.swappiness = 10\nnet.ipv4.ip_forward = 1\n');
    expect(t.commands[1]).toBe('sysctl -w net.ipv4.ip_forward=1');
  });

  it('multi-value keys compare whitespace-normalised; no procps: write /proc/sys directly', () => {
    const s = parseSysctlState(sysOut('32768 60999', 'net.ipv4.ip_local_port_range = 32768 60999\n', false));
    expect(decideSysctl(s, { name: 'net.ipv4.ip_local_port_range', value: '32768\t60999', path: CONF, persist: true, container: null, diff: false, preserveOwner: true, check: false }).change).toBe(false);
    const d = decideSysctl(parseSysctlState(sysOut('0', null, false)), {
      name: 'net.ipv4.ip_forward',
      value: '1',
      path: CONF,
      persist: true,
      container: null,
      diff: false,
      preserveOwner: true,
      check: false,
    });
    expect(d.commands).toEqual(["printf '%s\\n' 1 > /proc/sys/net/ipv4/ip_forward"]);
    expect(d.put?.content).toBe('net.ipv4.ip_forward = 1\n');
  });

  it('container + host-global key: persists the file, live part skipped with the reason', async () => {
    const { ctx, t } = makeCtx({ facts: containerFacts });
    t.on('k=', { stdout: sysOut('60', null) });
    const r = await sysctl('vm.swappiness', 10)(ctx);
    expect(r.status).toBe('changed');
    expect(r.msg).toBe(
      `persist vm.swappiness = 10 in ${CONF}; live value not set: vm.swappiness is not namespaced and this host is a container (systemd-nspawn)`,
    );
    expect(r.commands).toBeUndefined();
    expect(t.files.get(CONF)!.content.toString()).toBe('vm.swappiness = 10\n');
    expect(t.execs).toHaveLength(1);
  });

  it('container + host-global key already persisted: skipped with the reason', async () => {
    const { ctx, t } = makeCtx({ facts: containerFacts });
    t.on('k=', { stdout: sysOut('60', 'vm.swappiness = 10\n') });
    const r = await sysctl('vm.swappiness', 10)(ctx);
    expect(r).toMatchObject({
      status: 'skipped',
      msg: 'live value not set: vm.swappiness is not namespaced and this host is a container (systemd-nspawn)',
    });
    expect(t.execs).toHaveLength(1);
  });

  it('container + namespaced key denied live (read-only /proc/sys): skipped, not failed', async () => {
    const { ctx, t } = makeCtx({ facts: containerFacts });
    t.on('k=', { stdout: sysOut('0', 'net.ipv4.ip_forward = 1\n') });
    t.on('sysctl -w', { code: 255, stderr: 'sysctl: setting key "net.ipv4.ip_forward": Read-only file system' });
    const r = await sysctl('net.ipv4.ip_forward', 1)(ctx);
    expect(r.status).toBe('skipped');
    expect(r.msg).toContain('live value not set in container (systemd-nspawn)');
    expect(r.msg).toContain('Read-only file system');
  });

  it('not a container: a denied write is a failure; an unknown key fails', async () => {
    const { ctx, t } = makeCtx();
    t.on('k=', { stdout: sysOut('0', 'net.ipv4.ip_forward = 1\n') });
    t.on('sysctl -w', { code: 255, stderr: 'permission denied' });
    expect((await sysctl('net.ipv4.ip_forward', 1)(ctx)).status).toBe('failed');
    const u = makeCtx();
    u.t.on('k=', { stdout: sysOut(null, null) });
    expect(await sysctl('net.nope', 1)(u.ctx)).toMatchObject({ status: 'failed', msg: 'no such sysctl key: /proc/sys/net/nope does not exist' });
  });

  it('check mode: would change, only the probe ran', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('k=', { stdout: sysOut('0', null) });
    const r = await sysctl('net.ipv4.ip_forward', 1)(ctx);
    expect(r.status).toBe('changed');
    expect(r.msg).toMatch(/^would persist/);
    expectOnlyProbes(t);
  });

  it('namespaced keys', () => {
    expect(isNamespacedSysctl('net.ipv4.ip_forward')).toBe(true);
    expect(isNamespacedSysctl('net/bridge/bridge-nf-call-iptables')).toBe(true);
    expect(isNamespacedSysctl('kernel.shmmax')).toBe(true);
    expect(isNamespacedSysctl('vm.swappiness')).toBe(false);
    expect(isNamespacedSysctl('fs.inotify.max_user_instances')).toBe(false);
    expect(isNamespacedSysctl('kernel.panic')).toBe(false);
  });

  it('the real probe reads /proc/sys here', async () => {
    const r = await new LocalShell().exec(sysctlProbeScript('kernel.ostype', '/nonexistent/x.conf', true));
    const s = parseSysctlState(r.stdout);
    expect(s.live).toBe('Linux');
    expect(s.file.type).toBe('absent');
    expect(parseSysctlState((await new LocalShell().exec(sysctlProbeScript('no.such.key', '/x', false))).stdout).live).toBeNull();
  });
});

describe('kernelModule', () => {
  const modOut = (loaded: boolean, persisted: boolean, modprobe = true) =>
    (loaded ? 'loaded=1\n' : '') + (modprobe ? 'has_modprobe=1\n' : '') + fileOut(persisted ? { content: 'br_netfilter\n' } : { type: 'absent' });

  it('loaded and persisted: ok in one exec', async () => {
    const { ctx, t } = makeCtx();
    t.on('/proc/modules', { stdout: modOut(true, true) });
    expect(await kernelModule('br_netfilter')(ctx)).toMatchObject({ status: 'ok', msg: 'br_netfilter is loaded' });
    expect(t.execs).toHaveLength(1);
  });

  it('neither: persist file then modprobe', async () => {
    const { ctx, t } = makeCtx();
    t.on('/proc/modules', { stdout: modOut(false, false) });
    const r = await kernelModule('br_netfilter')(ctx);
    expect(r).toMatchObject({ status: 'changed', commands: ['modprobe br_netfilter'], msg: 'persist br_netfilter in /etc/modules-load.d/br_netfilter.conf; load br_netfilter' });
    expect(t.files.get('/etc/modules-load.d/br_netfilter.conf')!.content.toString()).toBe('br_netfilter\n');
  });

  it('container, not loaded: persists, loading skipped with the reason', async () => {
    const { ctx, t } = makeCtx({ facts: containerFacts });
    t.on('/proc/modules', { stdout: modOut(false, false, false) });
    const r = await kernelModule('overlay')(ctx);
    expect(r.status).toBe('changed');
    expect(r.msg).toBe(
      'persist overlay in /etc/modules-load.d/overlay.conf; cannot load kernel modules in a container (systemd-nspawn)',
    );
    expect(t.execs).toHaveLength(1);
  });

  it('container, persisted, not loaded: skipped with the reason; loaded on the host kernel: ok', async () => {
    const { ctx, t } = makeCtx({ facts: containerFacts });
    t.on('/proc/modules', { stdout: modOut(false, true) });
    expect(await kernelModule('br_netfilter')(ctx)).toMatchObject({
      status: 'skipped',
      msg: 'cannot load kernel modules in a container (systemd-nspawn)',
    });
    const loaded = makeCtx({ facts: containerFacts });
    loaded.t.on('/proc/modules', { stdout: modOut(true, true) });
    expect((await kernelModule('br_netfilter')(loaded.ctx)).status).toBe('ok');
  });

  it('no modprobe outside a container: failed; check mode: nothing run', async () => {
    const d = decideKernelModule(parseKernelModuleState(modOut(false, true, false)), {
      name: 'x',
      persist: true,
      container: null,
      diff: false,
      preserveOwner: true,
      check: false,
    });
    expect(d.fail).toBe('cannot load x: modprobe not found (install kmod)');
    const { ctx, t } = makeCtx({ check: true });
    t.on('/proc/modules', { stdout: modOut(false, false) });
    expect((await kernelModule('br_netfilter')(ctx)).msg).toMatch(/^would persist .*; load br_netfilter$/);
    expectOnlyProbes(t);
  });

  it('the probe spells dashes as underscores', () => {
    expect(kernelModuleProbeScript('nf-conntrack', false)).toContain("grep -q '^nf_conntrack ' /proc/modules");
  });
});

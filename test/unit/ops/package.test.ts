// package: apt (dpkg-query / apt-cache policy), dnf (rpm -q / dnf list --upgrades), none.
import { describe, expect, it } from 'vitest';
import {
  APT_OPTS,
  APT_UPDATE,
  decidePackages,
  packageProbeScript,
  packages,
  parsePackageProbe,
} from '../../../lib/ops/package.ts';
import { almaFacts, expectOnlyProbes, flatcarFacts, makeCtx } from './helpers.ts';
import { LocalShell } from './local-shell.ts';

const INSTALL = `DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${APT_OPTS}`;
const aptOut = (lines: string[], cacheAge = 100, now = 1_700_000_000) =>
  [...lines, `now=${now}`, `cache=${now - cacheAge}`].join('\n') + '\n';

describe('package (apt)', () => {
  it('all installed: ok in one exec, no cache refresh even with updateCache', async () => {
    const { ctx, t } = makeCtx();
    t.on('dpkg-query', { stdout: aptOut(['ii |curl|7.88.1-10', 'ii |jq|1.6-2.1'], 999_999), code: 0 });
    const r = await packages(['curl', 'jq'], { updateCache: true })(ctx);
    expect(r).toMatchObject({ status: 'ok', msg: 'curl, jq installed' });
    expect(t.execs).toHaveLength(1);
  });

  it('missing package: refresh when the cache is stale, then one install command', async () => {
    const { ctx, t } = makeCtx();
    t.on('dpkg-query', { stdout: aptOut(['ii |curl|7.88.1-10', 'rc |haproxy|2.6'], 7200) });
    const r = await packages(['curl', 'haproxy', 'socat'], { updateCache: true, cacheValidTime: 3600 })(ctx);
    expect(r.status).toBe('changed');
    expect(r.msg).toBe('install haproxy, socat');
    expect(r.commands).toEqual([APT_UPDATE, `${INSTALL} haproxy socat`]);
    expect(t.execs).toHaveLength(2);
    expect(t.commands[1]).toBe(`${APT_UPDATE} && ${INSTALL} haproxy socat`);
  });

  it('a fresh cache is not refreshed', () => {
    const d = decidePackages(parsePackageProbe('apt', aptOut([], 60)), {
      manager: 'apt',
      names: ['x'],
      state: 'present',
      updateCache: true,
      cacheValidTime: 3600,
    });
    expect(d.commands).toEqual([`${INSTALL} x`]);
  });

  it('version pins compare the installed version', () => {
    const p = parsePackageProbe('apt', aptOut(['ii |k3s-dep|1.0']));
    expect(decidePackages(p, { manager: 'apt', names: ['k3s-dep=1.0'], state: 'present' }).change).toBe(false);
    expect(decidePackages(p, { manager: 'apt', names: ['k3s-dep=2.0'], state: 'present' }).commands).toEqual([`${INSTALL} k3s-dep=2.0`]);
  });

  it('latest: upgrades when the candidate differs', () => {
    const out = aptOut(['ii |curl|7.88.1-10', 'ii |jq|1.6']) + '__POLICY__\ncurl:\n  Installed: 7.88.1-10\n  Candidate: 7.88.1-10+deb12u5\njq:\n  Installed: 1.6\n  Candidate: 1.6\n';
    const d = decidePackages(parsePackageProbe('apt', out), { manager: 'apt', names: ['curl', 'jq'], state: 'latest' });
    expect(d).toMatchObject({ change: true, msg: 'upgrade curl', commands: [`${INSTALL} curl`] });
  });

  it('absent: remove (or purge) only what is installed', () => {
    const p = parsePackageProbe('apt', aptOut(['ii |nano|7.2', 'un |vim|']));
    expect(decidePackages(p, { manager: 'apt', names: ['nano', 'vim'], state: 'absent' }).commands).toEqual([
      `DEBIAN_FRONTEND=noninteractive apt-get remove -y ${APT_OPTS} nano`,
    ]);
    expect(decidePackages(p, { manager: 'apt', names: ['nano'], state: 'absent', purge: true }).commands[0]).toContain('apt-get purge -y');
    expect(decidePackages(p, { manager: 'apt', names: ['vim'], state: 'absent' }).change).toBe(false);
  });

  it('check mode: would install, only the probe ran', async () => {
    const { ctx, t } = makeCtx({ check: true });
    t.on('dpkg-query', { stdout: aptOut([]) });
    const r = await packages('haproxy', { updateCache: true })(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'would install haproxy' });
    expect(r.commands).toEqual([APT_UPDATE, `${INSTALL} haproxy`]);
    expectOnlyProbes(t);
  });

  it('latest with a stale cache refreshes first (not in check mode), then probes again', async () => {
    const { ctx, t } = makeCtx();
    let probes = 0;
    t.on('dpkg-query', () => {
      probes++;
      const cand = probes === 1 ? '1.0' : '1.1';
      return { stdout: aptOut(['ii |x|1.0'], 99_999) + `__POLICY__\nx:\n  Installed: 1.0\n  Candidate: ${cand}\n` };
    });
    const r = await packages('x', { state: 'latest', updateCache: true })(ctx);
    expect(r).toMatchObject({ status: 'changed', msg: 'upgrade x' });
    expect(t.commands[1]).toBe(APT_UPDATE);
    expect(t.commands[3]).toBe(`${INSTALL} x`);
  });

  it('a failing install is a failed result with apt output', async () => {
    const { ctx, t } = makeCtx();
    t.on('dpkg-query', { stdout: aptOut([]) });
    t.on('apt-get install', { code: 100, stderr: 'E: Unable to locate package nosuch' });
    const r = await packages('nosuch')(ctx);
    expect(r).toMatchObject({ status: 'failed', rc: 100 });
    expect(r.msg).toContain('Unable to locate package nosuch');
  });

  it('the real probe script runs against this machine’s dpkg', async () => {
    const sh = new LocalShell();
    const r = await sh.exec(packageProbeScript('apt', ['dpkg', 'drover-no-such-package'], 'present'));
    const p = parsePackageProbe('apt', r.stdout);
    expect(p.installed.has('dpkg')).toBe(true);
    expect(p.installed.has('drover-no-such-package')).toBe(false);
    expect(p.cacheAge).toBeGreaterThanOrEqual(0);
  });
});

describe('package (dnf, none, apk)', () => {
  it('dnf: rpm -q probe, install missing', async () => {
    const { ctx, t } = makeCtx({ facts: almaFacts });
    t.on('rpm -q', { stdout: 'pkg|curl|7.76.1-26.el9\npackage socat is not installed\nend=1\n' });
    const r = await packages(['curl', 'socat'])(ctx);
    expect(r).toMatchObject({ status: 'changed', commands: ['dnf install -y socat'] });
    expect(t.commands[0]).toContain("rpm -q --qf 'pkg|%{NAME}|%{VERSION}-%{RELEASE}\\n' curl socat");
  });

  it('dnf: nothing missing is ok in one exec; latest upgrades what dnf lists', async () => {
    const { ctx, t } = makeCtx({ facts: almaFacts });
    t.on('rpm -q', { stdout: 'pkg|curl|7.76.1-26.el9\nend=1\n' });
    expect((await packages('curl')(ctx)).status).toBe('ok');
    expect(t.execs).toHaveLength(1);
    const p = parsePackageProbe('dnf', 'pkg|curl|7.76\n__UPGRADES__\nAvailable Upgrades\ncurl.x86_64  7.76.1-29.el9  baseos\nend=1\n');
    expect(decidePackages(p, { manager: 'dnf', names: ['curl'], state: 'latest', updateCache: true }).commands).toEqual([
      'dnf upgrade -y --refresh curl',
    ]);
  });

  it('none (Flatcar): skipped with the reason, nothing run', async () => {
    const { ctx, t } = makeCtx({ facts: flatcarFacts });
    expect(await packages('curl')(ctx)).toMatchObject({ status: 'skipped', msg: 'no package manager on Flatcar Container Linux 3815.2.0' });
    expect(t.execs).toHaveLength(0);
  });

  it('apk: failed as unsupported', async () => {
    const { ctx } = makeCtx({ facts: { pkgManager: 'apk' } });
    expect((await packages('curl')(ctx)).status).toBe('failed');
  });
});

// Every generated shell script parses in dash (`sh -n`), and the read-only probes run for
// real on this machine and parse into sensible states.
import { describe, expect, it } from 'vitest';
import { authorizedKeyProbeScript, parseAuthorizedKeyState } from '../../../lib/ops/authorizedKey.ts';
import { guardProbeScript } from '../../../lib/ops/command.ts';
import { downloadProbeScript, downloadScript, parseDownloadState } from '../../../lib/ops/download.ts';
import { hostnameProbeScript, parseHostnameState } from '../../../lib/ops/hostname.ts';
import { kernelModuleProbeScript, parseKernelModuleState } from '../../../lib/ops/kernelModule.ts';
import { packageProbeScript } from '../../../lib/ops/package.ts';
import { editProbe } from '../../../lib/ops/edit.ts';
import { serviceProbeScript } from '../../../lib/ops/service.ts';
import { sysctlProbeScript } from '../../../lib/ops/sysctl.ts';
import { parseTimezoneState, timezoneProbeScript } from '../../../lib/ops/timezone.ts';
import { userProbeScript } from '../../../lib/ops/user.ts';
import { commandCheck, httpCheck, portCheck, waitScript } from '../../../lib/ops/waitFor.ts';
import { quote } from '../../../lib/shell/quote.ts';
import { LocalShell } from './local-shell.ts';

const sh = new LocalShell();
const SUM = 'a'.repeat(64);

const scripts: Record<string, string> = {
  editProbe: editProbe("/etc/it's here"),
  package_apt: packageProbeScript('apt', ['curl', 'jq=1.6'], 'latest'),
  package_dnf: packageProbeScript('dnf', ['curl'], 'latest'),
  service: serviceProbeScript('k3s@x.service'),
  sysctl: sysctlProbeScript('net.ipv4.ip_forward', '/etc/sysctl.d/99-drover.conf', true),
  kernelModule: kernelModuleProbeScript('br_netfilter', true),
  user: userProbeScript('deploy', true),
  authorizedKey: authorizedKeyProbeScript('deploy'),
  hostname: hostnameProbeScript(),
  timezone: timezoneProbeScript('Europe/Paris'),
  downloadProbe: downloadProbeScript('/usr/local/bin/k3s'),
  downloadCurl: downloadScript('https://x/a b?c=1&d=2', '/opt/x', { sha256: SUM, tool: 'curl', mode: 0o755, owner: 'root', group: 'root' }),
  downloadWget: downloadScript("https://x/it's", '/opt/x', { sha256: SUM, tool: 'wget', group: 'adm' }),
  guards: guardProbeScript({ creates: '/a b', removes: '/c', unless: 'test -f /x && true' })!,
  waitPort: waitScript(portCheck('10.0.0.1', 6443), 60, 1, 'failure'),
  waitHttp: waitScript(httpCheck('https://10.0.0.1:6443/readyz', { status: [200, 401], insecure: true }), 60, 0.5),
  waitHttpAny: waitScript(httpCheck('http://x/'), 1, 1),
  waitCommand: waitScript(commandCheck("k3s kubectl get node 'm1' | grep -q ' Ready'"), 60, 2),
};

describe('generated scripts', () => {
  it('all parse in dash', async () => {
    const bad: string[] = [];
    await Promise.all(
      Object.entries(scripts).map(async ([name, s]) => {
        const r = await sh.exec(`sh -n -c ${quote(s)}`);
        if (r.code !== 0) bad.push(`${name}: ${r.stderr}`);
      }),
    );
    expect(bad).toEqual([]);
  });

  it('read-only probes run here and parse', async () => {
    const km = parseKernelModuleState((await sh.exec(kernelModuleProbeScript('drover_no_such_module', true))).stdout);
    expect(km).toMatchObject({ loaded: false, file: { type: 'absent' } });
    const hn = parseHostnameState((await sh.exec(hostnameProbeScript())).stdout);
    expect(hn.live.length).toBeGreaterThan(0);
    const tz = parseTimezoneState((await sh.exec(timezoneProbeScript('Etc/UTC'))).stdout);
    expect(typeof tz.current).toBe('string');
    const ak = parseAuthorizedKeyState((await sh.exec(authorizedKeyProbeScript('root'))).stdout);
    expect(ak).toMatchObject({ userExists: true, home: '/root', group: 'root' });
    expect(parseAuthorizedKeyState((await sh.exec(authorizedKeyProbeScript('drover-no-such-user'))).stdout).userExists).toBe(false);
    const dl = parseDownloadState((await sh.exec(downloadProbeScript('/nonexistent/x'))).stdout);
    expect(dl).toEqual({ file: { type: 'absent' }, tool: 'curl' });
  });
});

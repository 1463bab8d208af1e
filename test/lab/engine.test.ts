// The engine end to end over real SSH: the real CLI (examples/hello.ts) against every lab host,
// including the Flatcar-like ones without python. First run converges, second run changes
// nothing, --check after a drift reports it and changes nothing, and the exit codes a
// Terraform provisioner relies on come out of the real process.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTopology } from '../../lab/index.ts';
import { describeRun, runDrover } from './support/drover.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const PLAYBOOK = 'examples/hello.ts';
let lab: Lab | undefined;
const tmp = mkdtempSync(join(tmpdir(), 'drover-engine-'));

beforeAll(async () => {
  lab = await useLab();
  if (!lab) console.warn('[engine] lab not available here: skipping the end-to-end engine tests');
  else await lab.sh('master1', 'rm -rf /etc/drover /etc/sysctl.d/90-drover-hello.conf');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('engine over real SSH on every lab host', () => {
  it('converges, then a second run changes nothing', async (ctx) => {
    if (!lab) return ctx.skip();
    const hosts = (await readTopology(lab.inventory)).hosts.map((h) => h.name);
    const first = await runDrover(PLAYBOOK, ['-i', lab.inventory]);
    expect(first.code, describeRun(first)).toBe(0);
    expect(Object.keys(first.recap!.hosts).sort()).toEqual([...hosts].sort());
    // master1 was reset above, so it must have changed there.
    expect(first.recap!.hosts.master1!.changed).toBeGreaterThan(0);

    const second = await runDrover(PLAYBOOK, ['-i', lab.inventory]);
    expect(second.code, describeRun(second)).toBe(0);
    expect(second.changed).toBe(0);
    for (const h of hosts) expect(second.recap!.hosts[h]!.failed).toBe(0);
    // The real effect, read back over ssh from a host without python.
    const py = await lab.sh('master1', 'command -v python3 || echo none; cat /etc/drover/hello; cat /proc/sys/net/ipv4/ip_forward');
    expect(py.stdout).toMatch(/^none\nmanaged by drover on master1 \(debian 12\)\n1\n$/);
  });

  it('--check after a drift reports the change and changes nothing', async (ctx) => {
    if (!lab) return ctx.skip();
    await lab.sh('worker2', 'echo drifted > /etc/drover/hello');
    const check = await runDrover(PLAYBOOK, ['-i', lab.inventory, '--limit', 'worker2', '--check', '--diff']);
    expect(check.code, describeRun(check)).toBe(0);
    const t = check.tasks.find((e) => e.task === 'motd line')!;
    expect(t.status).toBe('changed');
    expect(t.diff?.[0]?.before).toBe('drifted\n');
    expect((await lab.sh('worker2', 'cat /etc/drover/hello')).stdout).toBe('drifted\n');
    const fix = await runDrover(PLAYBOOK, ['-i', lab.inventory, '--limit', 'worker2']);
    expect(fix.changed).toBe(1);
  });

  it('exit 4 when a host is unreachable, the others still converge', async (ctx) => {
    if (!lab) return ctx.skip();
    // 10.17.4.99 is on the lab bridge but nothing answers there.
    const inv = join(tmp, 'with-ghost.yaml');
    writeFileSync(
      inv,
      [
        'all:',
        '  vars:',
        '    ansible_user: root',
        '    ansible_ssh_private_key_file: /var/lib/drover-lab/id_ed25519',
        '    drover_known_hosts: /var/lib/drover-lab/known_hosts',
        '    drover_connect_timeout: 2',
        '  hosts:',
        '    master2: { ansible_host: 10.17.4.22 }',
        '    ghost: { ansible_host: 10.17.4.99 }',
        '',
      ].join('\n'),
    );
    const r = await runDrover(PLAYBOOK, ['-i', inv]);
    expect(r.code).toBe(4);
    expect(r.recap!.hosts.ghost!.unreachable).toBe(1);
    expect(r.recap!.hosts.master2!.failed).toBe(0);
    expect(r.recap!.hosts.master2!.ok).toBeGreaterThan(0);
  });

  it('exit 65 with file:line:col and key for a typo in the inventory, before any connection', async (ctx) => {
    if (!lab) return ctx.skip();
    const inv = join(tmp, 'typo.yaml');
    writeFileSync(inv, ['all:', '  hosts:', '    master3:', '      ansible_host: 10.17.4.23', '      ansbile_user: root', ''].join('\n'));
    const r = await runDrover(PLAYBOOK, ['-i', inv]);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`${inv}:5:7`);
    expect(r.stderr).toContain('ansbile_user');
    expect(r.stderr).toMatch(/did you mean ansible_user/);
    expect(r.events).toEqual([]);
  });
});

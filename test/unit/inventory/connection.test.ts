import { homedir } from 'node:os';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { SourcePos } from '../../../lib/errors.ts';
import { connectionFor, layerVars, parseInventoryText, type InventoryHost } from '../../../lib/inventory/index.ts';
import { parseSshArgs } from '../../../lib/inventory/ssh-args.ts';
import { clearSecrets, redact, REDACTED } from '../../../lib/secrets/redact.ts';
import { FIXTURES, inputError } from './helpers.ts';

afterEach(() => clearSecrets());

function host(vars: Record<string, unknown>, at: SourcePos = { file: 'inv.yml', line: 1, col: 1 }): InventoryHost {
  return { name: 'h1', vars, origins: Object.fromEntries(Object.keys(vars).map((k) => [k, at])), groups: ['all'] };
}

describe('connectionFor', () => {
  it('fills defaults from the schema, the address from the host name', () => {
    const c = connectionFor(host({}));
    expect(c).toMatchObject({ name: 'h1', kind: 'ssh', address: 'h1', port: 22, user: 'root', become: false, privateKeyFiles: [] });
  });

  it('maps ansible_* vars (YAML fixture host)', () => {
    const inv = parseInventoryText(readFileSync(FIXTURES + 'yaml/hosts.yml', 'utf8'), 'hosts.yml');
    expect(connectionFor(inv.hosts.get('worker2')!)).toMatchObject({ address: 'worker2', port: 2222, user: 'debian' });
    expect(connectionFor(inv.hosts.get('master1')!)).toMatchObject({ address: '10.17.4.21', port: 22, user: 'debian' });
  });

  it('maps INI-typed vars and ansible_ssh_common_args (INI fixture host)', () => {
    const inv = parseInventoryText(readFileSync(FIXTURES + 'ini/hosts.ini', 'utf8'), 'hosts.ini');
    expect(connectionFor(inv.hosts.get('master3')!)).toMatchObject({
      address: '10.17.4.23',
      port: 2222,
      user: 'root',
      proxyJump: 'admin@10.17.3.2:22',
      acceptNewHostKeys: true,
    });
  });

  it('drover_* beats ansible_* beats legacy ansible_ssh_*; command-line defaults lose to vars', () => {
    const c = connectionFor(
      host({ drover_user: 'a', ansible_user: 'b', ansible_ssh_user: 'c', ansible_ssh_host: '10.0.0.2', ansible_ssh_port: '2022' }),
      { user: 'cli', port: 2200, knownHostsFiles: ['/etc/kh'] },
    );
    expect(c).toMatchObject({ user: 'a', address: '10.0.0.2', port: 2022, knownHostsFiles: ['/etc/kh'] });
    expect(connectionFor(host({}), { user: 'cli' }).user).toBe('cli');
  });

  it('become, passwords (registered as secrets), key files with ~, local connection, timeouts', () => {
    const c = connectionFor(
      host({
        ansible_become: 'yes',
        ansible_become_user: 'postgres',
        ansible_become_pass: 'sudo-secret-1',
        ansible_ssh_pass: 'ssh-secret-1',
        ansible_ssh_private_key_file: '~/.ssh/lab',
        ansible_connection: 'local',
        ansible_timeout: 5,
        drover_keepalive_interval: 0,
        drover_max_sessions: '4',
        drover_agent: '/run/agent.sock',
      }),
    );
    expect(c).toMatchObject({
      become: true,
      becomeUser: 'postgres',
      becomePassword: 'sudo-secret-1',
      password: 'ssh-secret-1',
      privateKeyFiles: [`${homedir()}/.ssh/lab`],
      kind: 'local',
      connectTimeoutMs: 5000,
      keepaliveIntervalMs: 0,
      maxSessions: 4,
      agent: '/run/agent.sock',
    });
    expect(redact('sudo-secret-1 ssh-secret-1')).toBe(`${REDACTED} ${REDACTED}`);
  });

  it('drover_pipelining sets pipelining; without it the connection leaves it to pipeliningFor()', () => {
    expect(connectionFor(host({ drover_pipelining: 'false' })).pipelining).toBe(false);
    expect(connectionFor(host({ drover_pipelining: true })).pipelining).toBe(true);
    expect(connectionFor(host({})).pipelining).toBeUndefined();
    expect(connectionFor(host({ ansible_pipelining: false })).pipelining).toBeUndefined(); // Ansible's is about modules: ignored
    const e = inputError(() => connectionFor(host({ drover_pipelining: 'sometimes' }, { file: 'g.yml', line: 4, col: 3 })));
    expect(e.message).toMatch(/^g\.yml:4:3: key "drover_pipelining": /);
  });

  it('drover_proxy_jump, known hosts and key lists override what ssh args imply', () => {
    const c = connectionFor(
      host({
        ansible_ssh_common_args: '-J jump@b1 -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -i ~/.ssh/a',
        drover_proxy_jump: 'ops@b2:2222',
        drover_known_hosts: ['/etc/ssh/lab_known_hosts'],
        drover_private_key_file: ['/k1', '/k2'],
      }),
    );
    expect(c).toMatchObject({
      proxyJump: 'ops@b2:2222',
      knownHostsFiles: ['/etc/ssh/lab_known_hosts'],
      acceptNewHostKeys: true,
      privateKeyFiles: ['/k1', '/k2'],
    });
  });

  it('an error names the origin of the bad variable', () => {
    const e = inputError(() => connectionFor(host({ ansible_port: 'abc' }, { file: 'play.yml', line: 3, col: 7 })));
    expect(e.message).toBe('play.yml:3:7: key "ansible_port": must be an integer from 1 to 65535 (got "abc")');
    const t = inputError(() => connectionFor(host({ drover_connect_timeout: 0.0001 }, { file: 'g.yml', line: 2, col: 1 })));
    expect(t.message).toMatch(/^g\.yml:2:1: key "drover_connect_timeout": connection connectTimeoutMs for host "h1": /);
    const d = inputError(() => connectionFor(host({}), { port: 0 }));
    expect(d.message).toMatch(/^key "port": connection port for host "h1": .*\(from the command-line defaults\)$/);
  });

  it('works on vars layered by the runner, blaming the layer', () => {
    const h = host({ ansible_user: 'debian' });
    const { vars, origins } = layerVars(h.vars, h.origins, { ansible_user: 'root', ansible_port: 2200 }, { file: '-e' });
    expect(connectionFor({ ...h, vars, origins })).toMatchObject({ user: 'root', port: 2200 });
  });
});

describe('parseSshArgs', () => {
  it('reads ProxyJump in its forms', () => {
    expect(parseSshArgs('-o ProxyJump=u@b:2200').proxyJump).toBe('u@b:2200');
    expect(parseSshArgs('-oProxyJump=b').proxyJump).toBe('b');
    expect(parseSshArgs('-o "ProxyJump b"').proxyJump).toBe('b');
    expect(parseSshArgs('-J b1,b2').proxyJump).toBe('b1,b2');
    expect(parseSshArgs('-Jb').proxyJump).toBe('b');
  });

  it('turns the classic ProxyCommand into a jump host', () => {
    expect(parseSshArgs(`-o ProxyCommand="ssh -W %h:%p -q admin@10.0.0.2"`).proxyJump).toBe('admin@10.0.0.2');
    expect(parseSshArgs(`-o 'ProxyCommand=ssh -p 2222 -l ops -i ~/.ssh/b -W %h:%p bastion'`).proxyJump).toBe('ops@bastion:2222');
    expect(() => parseSshArgs('-o ProxyCommand="ssh bastion nc %h %p"')).toThrow(/not supported/);
  });

  it('reads host key policy, timeouts; ignores the rest', () => {
    expect(parseSshArgs('-o ControlMaster=auto -o ControlPersist=60s -o ServerAliveInterval=30 -o ConnectTimeout=7 -o StrictHostKeyChecking=yes -C')).toEqual({
      keepaliveIntervalMs: 30_000,
      connectTimeoutMs: 7_000,
      acceptNewHostKeys: false,
    });
    expect(() => parseSshArgs('-o StrictHostKeyChecking=maybe')).toThrow(/StrictHostKeyChecking/);
  });
});

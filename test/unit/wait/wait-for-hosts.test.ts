// waitForHosts and `drover wait-for-hosts` with scripted hosts: one comes up late, one runs
// cloud-init for a while, one never answers, one has no cloud-init, one fails cloud-init.
import { describe, expect, it } from 'vitest';
import { runWaitCommand } from '../../../lib/cli/wait.ts';
import { parseInventoryText } from '../../../lib/inventory/index.ts';
import type { ExecResult, Transport } from '../../../lib/transport/types.ts';
import { CLOUD_INIT_PROBE, waitForHosts } from '../../../lib/wait/wait-for-hosts.ts';

/** A host that refuses `down` connections, then answers the cloud-init probe from `answers`. */
function scripted(name: string, down: number, answers: string[]): { attempts: () => number; connect: () => Transport } {
  let attempts = 0;
  let probes = 0;
  return {
    attempts: () => attempts,
    connect: () => ({
      name,
      async connect() {
        attempts++;
        if (attempts <= down) throw new Error(`${name}: connect ECONNREFUSED 10.0.0.1:22`);
      },
      async exec(cmd: string): Promise<ExecResult> {
        expect(cmd).toBe(CLOUD_INIT_PROBE);
        const said = answers[Math.min(probes++, answers.length - 1)]!;
        return { stdout: said + '\n', stderr: '', code: 0, durationMs: 1 };
      },
      put: async () => undefined,
      get: async () => Buffer.alloc(0),
      close: async () => undefined,
    }),
  };
}

const INV = parseInventoryText('all:\n  hosts:\n    late:\n    booting:\n    dead:\n    plain:\n    broken:\n', 'w.yaml');

describe('waitForHosts', () => {
  it('reports each host once ready, lists the waiting ones, and times out the dead one', async () => {
    const hosts = {
      late: scripted('late', 2, ['done']),
      booting: scripted('booting', 0, ['running', 'running', 'done']),
      dead: scripted('dead', Infinity, []),
      plain: scripted('plain', 0, ['none']),
      broken: scripted('broken', 0, ['error: status: error']),
    };
    const lines: string[] = [];
    const res = await waitForHosts(INV, Object.keys(hosts), {
      timeoutMs: 400,
      intervalMs: 20,
      reportEveryMs: 100,
      connect: (h) => hosts[h.name as keyof typeof hosts].connect(),
      out: (l) => lines.push(l),
    });
    expect(res.ready.sort()).toEqual(['booting', 'late', 'plain']);
    expect(res.failed).toEqual([{ host: 'broken', reason: 'cloud-init finished with an error (status: error)' }]);
    expect(res.waiting).toEqual([{ host: 'dead', reason: 'connect ECONNREFUSED 10.0.0.1:22' }]);
    expect(hosts.late.attempts()).toBe(3);
    expect(lines.find((l) => l.startsWith('ready    late'))).toMatch(/^ready {4}late {2}\d+\.\ds \(ssh ok, cloud-init done\)$/);
    expect(lines.find((l) => l.startsWith('ready    plain'))).toContain('(ssh ok, no cloud-init)');
    expect(lines.find((l) => l.startsWith('ready    booting'))).toContain('cloud-init done');
    expect(lines.filter((l) => l.startsWith('timeout'))).toEqual([expect.stringMatching(/^timeout {2}dead {2}not ready after \d+\.\ds: connect ECONNREFUSED 10\.0\.0\.1:22$/)]);
    // The periodic report names only hosts still waiting, one line each, with the reason.
    const waiting = lines.filter((l) => l.startsWith('waiting'));
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting.every((l) => /^waiting {2}\S+ {2}\d+\.\ds: .+/.test(l))).toBe(true);
    expect(waiting.some((l) => l.includes('dead') && l.includes('ECONNREFUSED'))).toBe(true);
    expect(waiting.some((l) => l.includes(' plain '))).toBe(false);
  });

  it('with cloudInit false, SSH alone is enough', async () => {
    const booting = scripted('booting', 0, ['running']);
    const res = await waitForHosts(INV, ['booting'], { cloudInit: false, timeoutMs: 200, intervalMs: 10, connect: () => booting.connect(), out: () => undefined });
    expect(res.ready).toEqual(['booting']);
  });
});

describe('drover wait-for-hosts', () => {
  const run = async (args: string[], hosts: Record<string, ReturnType<typeof scripted>>) => {
    let out = '';
    let err = '';
    const code = await runWaitCommand(args, {
      cwd: process.cwd(),
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      connect: (conn) => hosts[conn.name]!.connect(),
    });
    return { code, out, err };
  };

  it('exit 0 when all are ready; plain lines, no colour', async () => {
    const r = await run(['-i', 'a,b,', '--interval', '0.01', '--timeout', '5'], { a: scripted('a', 1, ['done']), b: scripted('b', 0, ['none']) });
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/\x1b\[/);
    expect(r.out.split('\n')[0]).toBe('waiting for 2 hosts (all): ssh and cloud-init, timeout 5s');
    expect(r.out).toMatch(/^all 2 hosts ready in \d+\.\ds$/m);
  });

  it('exit 4 naming the hosts not ready; 6 with a cloud-init failure too', async () => {
    const r = await run(['-i', 'a,b,', 'b', '--interval', '0.01', '--timeout', '0.2'], { a: scripted('a', 0, ['done']), b: scripted('b', Infinity, []) });
    expect(r.code).toBe(4);
    expect(r.out).toContain('waiting for 1 host (b)');
    expect(r.out).toMatch(/^1 of 1 hosts not ready after \d+\.\ds: b$/m);
    const both = await run(['-i', 'a,b,', '--interval', '0.01', '--timeout', '0.2'], { a: scripted('a', 0, ['error: x']), b: scripted('b', Infinity, []) });
    expect(both.code).toBe(6);
  });

  it('bad usage is 64, a bad inventory 65', async () => {
    expect((await run(['--timeout', '5'], {})).code).toBe(64);
    expect((await run(['-i', 'a,', '--timeout', 'soon'], {})).code).toBe(64);
    expect((await run(['-i', 'a,', 'nomatch'], {})).code).toBe(64);
    expect((await run(['-i', 'missing-file.yaml'], {})).code).toBe(65);
  });
});

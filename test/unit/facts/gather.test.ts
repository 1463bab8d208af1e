import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FactsError, gatherFacts } from '../../../lib/facts/gather.ts';
import { PROBE_SCRIPT } from '../../../lib/facts/probe.ts';
import { FakeTransport } from '../../support/fake-transport.ts';

const debian = readFileSync(join(import.meta.dirname, 'captures', 'debian12-vm.txt'), 'utf8');

describe('gatherFacts', () => {
  it('runs the whole probe as one exec, the script as the command (no stdin: it can be pipelined), without sudo', async () => {
    const t = new FakeTransport('m1').on('drover facts probe', { stdout: debian });
    const f = await gatherFacts(t);
    expect(t.execs).toHaveLength(1);
    expect(t.execs[0]!.command).toBe(PROBE_SCRIPT);
    expect(t.execs[0]!.options?.stdin).toBeUndefined();
    expect(t.execs[0]!.options?.sudo).toBe(false);
    expect(t.execs[0]!.options?.timeoutMs).toBe(30_000);
    expect(f.os.id).toBe('debian');
  });

  it('names the host when the probe fails or its output is cut', async () => {
    const failing = new FakeTransport('m2').on('drover facts probe', { code: 2, stderr: 'sh: 1: boom' });
    await expect(gatherFacts(failing)).rejects.toThrow(/^m2: gathering facts failed: probe exited 2: sh: 1: boom$/);
    const cut = new FakeTransport('m3').on('drover facts probe', { stdout: debian.slice(0, 200) });
    await expect(gatherFacts(cut)).rejects.toBeInstanceOf(FactsError);
  });
});

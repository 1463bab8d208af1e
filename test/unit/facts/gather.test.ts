import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FactsError, gatherFacts } from '../../../lib/facts/gather.ts';
import { PROBE_SCRIPT } from '../../../lib/facts/probe.ts';
import { FakeTransport } from '../../support/fake-transport.ts';

const debian = readFileSync(join(import.meta.dirname, 'captures', 'debian12-vm.txt'), 'utf8');

describe('gatherFacts', () => {
  it('runs the whole probe as one exec of sh -s with the script on stdin, without sudo', async () => {
    const t = new FakeTransport('m1').on('sh -s', { stdout: debian });
    const f = await gatherFacts(t);
    expect(t.execs).toHaveLength(1);
    expect(t.execs[0]!.command).toBe('sh -s');
    expect(t.execs[0]!.options?.stdin).toBe(PROBE_SCRIPT);
    expect(t.execs[0]!.options?.sudo).toBe(false);
    expect(f.os.id).toBe('debian');
  });

  it('names the host when the probe fails or its output is cut', async () => {
    const failing = new FakeTransport('m2').on('sh -s', { code: 2, stderr: 'sh: 1: boom' });
    await expect(gatherFacts(failing)).rejects.toThrow(/^m2: gathering facts failed: probe exited 2: sh: 1: boom$/);
    const cut = new FakeTransport('m3').on('sh -s', { stdout: debian.slice(0, 200) });
    await expect(gatherFacts(cut)).rejects.toBeInstanceOf(FactsError);
  });
});

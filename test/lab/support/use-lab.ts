// Lab tests share one booted lab (inventory/lab.yaml). `up` is idempotent and keeps running
// hosts, so each test file calls useLab() in beforeAll; test/lab/global-teardown.ts takes the
// lab down once at the end and checks nothing is left behind.
import { labUp, labSsh, type RunResult } from '../../../lab/index.ts';
import { labGate } from './lab-env.ts';

export const LAB_INVENTORY = 'inventory/lab.yaml';

export interface Lab {
  inventory: string;
  /** Run a shell command on a lab host over ssh (strict host keys); never rejects on non-zero. */
  sh(host: string, command: string, opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
}

let booting: Promise<void> | undefined;

/**
 * Boot the lab if needed. Returns undefined when lab tests cannot run here (the reason is
 * printed); under CI=true a missing prerequisite throws instead.
 */
export async function useLab(inventory: string = LAB_INVENTORY): Promise<Lab | undefined> {
  const gate = labGate();
  if (!gate.run) {
    if (gate.mustFail) throw new Error(`lab tests are required in CI but cannot run: ${gate.reason}`);
    return undefined;
  }
  booting ??= labUp(inventory).then(() => undefined);
  await booting;
  return { inventory, sh: (host, command, opts) => labSsh(host, command, opts) };
}

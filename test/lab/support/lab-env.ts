// Gate for lab tests: they need root, Linux and the lab's tools. Missing prerequisites
// skip the lab tests with the reason printed, except under CI=true, where they fail.
import { labPrereqs } from '../../../lab/index.ts';

export interface LabGate {
  /** Run the lab tests. */
  run: boolean;
  /** Why not, when run is false. */
  reason?: string;
  /** Prerequisites are missing and CI=true: a test must fail with `reason`. */
  mustFail: boolean;
}

export function labGate(): LabGate {
  const p = labPrereqs();
  if (p.ok) return { run: true, mustFail: false };
  const reason = p.why ?? 'lab prerequisites missing';
  const ci = process.env.CI === 'true';
  if (!ci) console.warn(`[lab] skipping lab tests: ${reason}`);
  return { run: false, reason, mustFail: ci };
}

/** The small inventory lab tests boot (3 hosts: python, no python, database). */
export const SMALL_INVENTORY = 'test/lab-small.yaml';

// The manifest K3s's auto-deploy folder applies: a HelmChart with the values as valuesContent
// (YAML text, as helm-controller passes it to helm). Golden-tested in
// test/unit/roles/cilium.test.ts against test/fixtures/cilium/.
import { stringify } from 'yaml';
import type { Values } from './model.ts';

export const CILIUM_HEADER = '# Managed by drover (role cilium): local changes are overwritten.';

/** YAML for helm: no line folding (a long value stays one line), keys in the model's order. */
export function toYaml(v: unknown): string {
  return stringify(v, { lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });
}

/** The chart values as a values file. */
export function renderValues(values: Values): string {
  return toYaml(values).replace(/\n$/, '');
}

/** The manifest file: a header comment, then the HelmChart. */
export function renderManifest(helmChart: Values): string {
  return `${CILIUM_HEADER}\n${toYaml(helmChart)}`;
}

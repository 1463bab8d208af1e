// Validators for the manifests the cilium and cloudflared roles write, built from the real
// schemas (test/fixtures/schemas/README.md says where each comes from):
// - HelmChart: helm-controller's CRD openAPIV3Schema, compiled with ajv, with unknown fields
//   refused as `kubectl apply --validate=strict` does (the API server would drop them silently);
// - Cilium values: the chart's own values.schema.json (draft-07), plus the top-level keys
//   against its properties (the schema itself lets unknown keys through);
// - Namespace/Secret/ConfigMap/Deployment/PodDisruptionBudget: kubernetes-models' validate()
//   (the Kubernetes OpenAPI definitions), plus the RFC 1123 rule for names.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret } from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';

const SCHEMAS = fileURLToPath(new URL('../../fixtures/schemas/', import.meta.url));
export const CILIUM_SCHEMA_FILE = `${SCHEMAS}cilium-1.19.6.values.schema.json`;
export const HELMCHART_CRD_FILE = `${SCHEMAS}helm.cattle.io_helmcharts.yaml`;

type Schema = Record<string, unknown>;

/** Strict field validation: an object schema with properties refuses other fields (unless it preserves unknown fields). */
export function strictFields(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(strictFields);
  if (typeof s !== 'object' || s === null) return s;
  const o: Schema = {};
  for (const [k, v] of Object.entries(s)) o[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Schema).map(([pk, pv]) => [pk, strictFields(pv)])) : strictFields(v);
  if (o.properties && o['x-kubernetes-preserve-unknown-fields'] !== true && o.additionalProperties === undefined) o.additionalProperties = false;
  return o;
}

const fmt = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.keyword === 'additionalProperties' ? `: ${String(e.params.additionalProperty)}` : ''}`).join('; ');

function newAjv(): Ajv {
  // Kubernetes' int32/int64 formats are ranges, not string formats.
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  return ajv;
}

let helmChartValidate: ((x: unknown) => string[]) | undefined;

/** The CRD's openAPIV3Schema (v1), as stored. */
export function helmChartSchema(): Schema {
  const crd = parse(readFileSync(HELMCHART_CRD_FILE, 'utf8')) as { spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: Schema } }> } };
  return crd.spec.versions.find((v) => v.name === 'v1')!.schema.openAPIV3Schema;
}

/** Problems of a HelmChart object ([] when valid). */
export function validateHelmChart(obj: unknown): string[] {
  if (!helmChartValidate) {
    const v = newAjv().compile(strictFields(helmChartSchema()) as Schema);
    helmChartValidate = (x) => (v(x) ? [] : [fmt(v.errors)]);
  }
  const errs = helmChartValidate(obj);
  const o = obj as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  if (o.apiVersion !== 'helm.cattle.io/v1') errs.push(`apiVersion ${String(o.apiVersion)}`);
  if (o.kind !== 'HelmChart') errs.push(`kind ${String(o.kind)}`);
  errs.push(...nameProblems(o.metadata?.name), ...nameProblems(o.metadata?.namespace));
  return errs;
}

let ciliumValidate: ((x: unknown) => string[]) | undefined;
export const ciliumSchema = (): Schema & { properties: Schema } => JSON.parse(readFileSync(CILIUM_SCHEMA_FILE, 'utf8'));

/** Problems of a Cilium values object against the chart's schema, unknown top-level keys included. */
export function validateCiliumValues(values: unknown): string[] {
  const schema = ciliumSchema();
  if (!ciliumValidate) {
    const v = newAjv().compile(schema);
    ciliumValidate = (x) => (v(x) ? [] : [fmt(v.errors)]);
  }
  const errs = ciliumValidate(values);
  for (const k of Object.keys(values as Schema)) if (!(k in schema.properties)) errs.push(`unknown top-level key ${k}`);
  return errs;
}

const RFC1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
function nameProblems(name: unknown): string[] {
  return typeof name === 'string' && RFC1123.test(name) && name.length <= 63 ? [] : [`name ${JSON.stringify(name)} is not an RFC 1123 label`];
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/ConfigMap': ConfigMap,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

/** Problems of a core Kubernetes object (kubernetes-models' validate(), names). */
export function validateK8sObject(obj: Record<string, unknown>): string[] {
  const key = `${String(obj.apiVersion)}/${String(obj.kind)}`;
  const M = MODELS[key];
  if (!M) return [`no schema here for ${key}`];
  const errs: string[] = [];
  try {
    new M(obj as never).validate();
  } catch (e) {
    errs.push(`${key}: ${(e as Error).message}`);
  }
  const md = (obj.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  errs.push(...nameProblems(md.name));
  if (obj.kind !== 'Namespace') errs.push(...nameProblems(md.namespace));
  return errs;
}

/** The documents of a manifest file (YAML errors thrown). */
export function manifestDocs(text: string): Record<string, unknown>[] {
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length) throw d.errors[0];
    return d.toJS() as Record<string, unknown>;
  });
}

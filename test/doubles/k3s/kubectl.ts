// `k3s kubectl` (and kubectl through a symlink): the verbs roles use against the double's API:
// get --raw, get nodes/node [NAME] [-l] [-o json|yaml|wide|name|jsonpath=...], get helmcharts,
// delete node. Kubeconfig from --kubeconfig, $KUBECONFIG, else /etc/rancher/k3s/k3s.yaml;
// errors read like kubectl's and exit 1.
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml, stringify } from 'yaml';
import { request, type HttpRes } from './http.ts';
import { jsonpath } from './jsonpath.ts';
import type { Node } from './nodes.ts';
import { VERSION } from './common.ts';

class KubectlError extends Error {}

interface Conn {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  insecure: boolean;
  timeoutMs: number;
}

interface Opts {
  kubeconfig?: string;
  output?: string;
  selector?: string;
  raw?: string;
  noHeaders: boolean;
  namespace?: string;
  allNamespaces: boolean;
  server?: string;
  insecure: boolean;
  timeoutMs: number;
  positional: string[];
}

const VALUE_FLAGS: Record<string, keyof Opts> = {
  kubeconfig: 'kubeconfig',
  o: 'output',
  output: 'output',
  l: 'selector',
  selector: 'selector',
  raw: 'raw',
  n: 'namespace',
  namespace: 'namespace',
  s: 'server',
  server: 'server',
  'request-timeout': 'timeoutMs',
};

function parseOpts(args: string[]): Opts {
  const o: Opts = { noHeaders: false, allNamespaces: false, insecure: false, timeoutMs: 30_000, positional: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-') || a === '-') {
      o.positional.push(a);
      continue;
    }
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(a)!;
    const name = m[1]!;
    if (name === 'no-headers') o.noHeaders = m[2] !== 'false';
    else if (name === 'A' || name === 'all-namespaces') o.allNamespaces = true;
    else if (name === 'insecure-skip-tls-verify') o.insecure = m[2] !== 'false';
    else if (VALUE_FLAGS[name]) {
      const v = m[2] ?? args[++i];
      if (v === undefined) throw new KubectlError(`error: flag needs an argument: --${name}`);
      const key = VALUE_FLAGS[name]!;
      if (key === 'timeoutMs') o.timeoutMs = parseDuration(v);
      else (o as unknown as Record<string, string>)[key] = v;
    } else throw new KubectlError(`error: unknown flag: --${name}\nSee 'kubectl --help' for usage.`);
  }
  return o;
}

function parseDuration(v: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(v);
  if (!m) return 30_000;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000 || 30_000;
}

interface KubeconfigDoc {
  'current-context'?: string;
  clusters?: { name: string; cluster: { server: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string; 'insecure-skip-tls-verify'?: boolean } }[];
  users?: { name: string; user: { 'client-certificate-data'?: string; 'client-key-data'?: string; 'client-certificate'?: string; 'client-key'?: string } }[];
  contexts?: { name: string; context: { cluster: string; user: string } }[];
}

const LOCALHOST_REFUSED = 'The connection to the server localhost:8080 was refused - did you specify the right host or port?';

function connection(o: Opts): Conn {
  const path = o.kubeconfig ?? process.env.KUBECONFIG?.split(':')[0] ?? (existsSync('/etc/rancher/k3s/k3s.yaml') ? '/etc/rancher/k3s/k3s.yaml' : undefined);
  if (!path || !existsSync(path)) {
    if (o.kubeconfig) throw new KubectlError(`error: stat ${o.kubeconfig}: no such file or directory`);
    if (o.server) return { server: o.server, insecure: o.insecure, timeoutMs: o.timeoutMs };
    throw new KubectlError(LOCALHOST_REFUSED);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KubectlError(`error: error loading config file "${path}": ${(e as Error).message.replace(/^[A-Z]+: /, '')}`);
  }
  const doc = (parseYaml(text) ?? {}) as KubeconfigDoc;
  const ctxName = doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  const cluster = doc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster ?? doc.clusters?.[0]?.cluster;
  const user = doc.users?.find((u) => u.name === ctx?.user)?.user ?? doc.users?.[0]?.user;
  if (!cluster) throw new KubectlError(LOCALHOST_REFUSED);
  const dec = (d?: string, f?: string) => (d ? Buffer.from(d, 'base64').toString('utf8') : f ? readFileSync(f, 'utf8') : undefined);
  return {
    server: o.server ?? cluster.server,
    ca: dec(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: dec(user?.['client-certificate-data'], user?.['client-certificate']),
    key: dec(user?.['client-key-data'], user?.['client-key']),
    insecure: o.insecure || cluster['insecure-skip-tls-verify'] === true,
    timeoutMs: o.timeoutMs,
  };
}

async function call(c: Conn, method: string, path: string): Promise<HttpRes> {
  const base = c.server.replace(/\/+$/, '');
  const url = `${base}${path}`;
  try {
    return await request(url, { method, timeoutMs: c.timeoutMs, tls: { ca: c.ca, cert: c.cert, key: c.key, verify: !c.insecure } });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const msg = (e as Error).message.replace(/^Get "[^"]*": /, '');
    if (code === 'ECONNREFUSED') throw new KubectlError(`The connection to the server ${new URL(base).host} was refused - did you specify the right host or port?`);
    throw new KubectlError(`Unable to connect to the server: ${msg}`);
  }
}

function statusError(res: HttpRes): KubectlError {
  if (res.status === 401) return new KubectlError('error: You must be logged in to the server (Unauthorized)');
  try {
    const s = JSON.parse(res.body) as { kind?: string; reason?: string; message?: string };
    if (s.kind === 'Status') return new KubectlError(s.reason ? `Error from server (${s.reason}): ${s.message}` : `Error from server: ${s.message}`);
  } catch {
    /* not JSON */
  }
  const reason = res.status === 503 ? 'ServiceUnavailable' : res.status === 404 ? 'NotFound' : res.status === 403 ? 'Forbidden' : 'InternalError';
  if (res.status === 503 && !res.body.trim()) return new KubectlError('Error from server (ServiceUnavailable): the server is currently unable to handle the request');
  return new KubectlError(`Error from server (${reason}): an error on the server (${JSON.stringify(res.body)}) has prevented the request from succeeding`);
}

function age(ts: string): string {
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 3) return `${m}m`;
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 48) return `${h}h`;
  return d < 8 && h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

function table(rows: string[][], noHeaders: boolean): string {
  const body = noHeaders ? rows.slice(1) : rows;
  if (!body.length) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...body.map((r) => r[i]!.length)));
  return `${body.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n')}\n`;
}

function nodeStatus(n: Node): string {
  const r = n.status.conditions.find((c) => c.type === 'Ready');
  const s = r?.status === 'True' ? 'Ready' : r?.status === 'False' ? 'NotReady' : 'Unknown';
  return n.spec.unschedulable ? `${s},SchedulingDisabled` : s;
}

function nodeRoles(n: Node): string {
  const roles = Object.keys(n.metadata.labels)
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .sort();
  return roles.length ? roles.join(',') : '<none>';
}

function nodeRows(nodes: Node[], wide: boolean): string[][] {
  const head = ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', ...(wide ? ['INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME'] : [])];
  return [
    head,
    ...nodes.map((n) => {
      const base = [n.metadata.name, nodeStatus(n), nodeRoles(n), age(n.metadata.creationTimestamp), n.status.nodeInfo.kubeletVersion ?? ''];
      if (!wide) return base;
      const addr = (t: string) => n.status.addresses.find((a) => a.type === t)?.address ?? '<none>';
      return [...base, addr('InternalIP'), addr('ExternalIP'), n.status.nodeInfo.osImage ?? '', n.status.nodeInfo.kernelVersion ?? '', n.status.nodeInfo.containerRuntimeVersion ?? ''];
    }),
  ];
}

function print(kind: 'node' | 'helmchart', objs: unknown[], single: boolean, o: Opts): string {
  const out = o.output ?? '';
  const data = single ? objs[0] : { apiVersion: 'v1', items: objs, kind: 'List', metadata: { resourceVersion: '' } };
  if (out === 'json') return `${JSON.stringify(data, null, 4)}\n`;
  if (out === 'yaml') return stringify(data);
  if (out === 'name') return objs.map((x) => `${kind === 'node' ? 'node' : 'helmchart.helm.cattle.io'}/${(x as { metadata: { name: string } }).metadata.name}\n`).join('');
  const jp = /^jsonpath=(.*)$/s.exec(out) ?? /^jsonpath='(.*)'$/s.exec(out);
  if (jp) return jsonpath(jp[1]!, data);
  if (out && out !== 'wide') throw new KubectlError(`error: unable to match a printer suitable for the output format "${out}", allowed formats are: custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml`);
  if (kind === 'node') return table(nodeRows(objs as Node[], out === 'wide'), o.noHeaders);
  const rows = [['NAME', 'CHART', 'BOOTSTRAP'], ...(objs as { metadata: { name: string }; spec: Record<string, unknown> }[]).map((c) => [c.metadata.name, String(c.spec.chart ?? ''), String(c.spec.bootstrap ?? false)])];
  return table(rows, o.noHeaders);
}

function resourceOf(word: string): 'node' | 'helmchart' {
  const w = word.toLowerCase();
  if (['node', 'nodes', 'no'].includes(w)) return 'node';
  if (['helmchart', 'helmcharts', 'helmchart.helm.cattle.io', 'helmcharts.helm.cattle.io'].includes(w)) return 'helmchart';
  throw new KubectlError(`error: the server doesn't have a resource type "${word}"`);
}

async function get(o: Opts, rest: string[]): Promise<string> {
  const c = connection(o);
  if (o.raw) {
    const res = await call(c, 'GET', o.raw);
    if (res.status < 200 || res.status > 299) throw statusError(res);
    return res.body.endsWith('\n') || !res.body ? res.body : res.body;
  }
  if (!rest.length) throw new KubectlError("You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.\n\nerror: Required resource not specified.\nUse \"kubectl explain <resource>\" for a detailed description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples");
  const [typeWord, ...names] = rest[0]!.includes('/') ? [rest[0]!.split('/')[0]!, rest[0]!.split('/')[1]!, ...rest.slice(1)] : rest;
  const kind = resourceOf(typeWord!);
  const ns = o.allNamespaces ? undefined : (o.namespace ?? 'default');
  const listPath = kind === 'node' ? '/api/v1/nodes' : `/apis/helm.cattle.io/v1/${ns ? `namespaces/${ns}/` : ''}helmcharts`;
  if (!names.length) {
    const q = o.selector ? `?labelSelector=${encodeURIComponent(o.selector)}` : '';
    const res = await call(c, 'GET', `${listPath}${q}`);
    if (res.status !== 200) throw statusError(res);
    const items = (JSON.parse(res.body) as { items: unknown[] }).items;
    if (!items.length && !o.output) {
      process.stderr.write(kind === 'node' || o.allNamespaces ? 'No resources found\n' : `No resources found in ${ns} namespace.\n`);
      return '';
    }
    return print(kind, items, false, o);
  }
  const objs: unknown[] = [];
  const errs: string[] = [];
  for (const n of names) {
    const res = await call(c, 'GET', `${listPath}/${encodeURIComponent(n)}`);
    if (res.status === 200) objs.push(JSON.parse(res.body));
    else errs.push(statusError(res).message);
  }
  const out = objs.length ? print(kind, objs, names.length === 1, o) : '';
  if (errs.length) {
    process.stdout.write(out);
    throw new KubectlError(errs.join('\n'));
  }
  return out;
}

async function del(o: Opts, rest: string[]): Promise<string> {
  const c = connection(o);
  const [typeWord, ...names] = rest[0]?.includes('/') ? [rest[0].split('/')[0]!, rest[0].split('/')[1]!, ...rest.slice(1)] : rest;
  if (!typeWord) throw new KubectlError('error: You must provide one or more resources by argument or filename.');
  if (resourceOf(typeWord) !== 'node') throw new KubectlError(`error: the k3s double cannot delete ${typeWord}`);
  if (!names.length) throw new KubectlError('error: resource(s) were provided, but no name was specified');
  let out = '';
  const errs: string[] = [];
  for (const n of names) {
    const res = await call(c, 'DELETE', `/api/v1/nodes/${encodeURIComponent(n)}`);
    if (res.status === 200) out += `node "${n}" deleted\n`;
    else errs.push(statusError(res).message);
  }
  if (errs.length) {
    process.stdout.write(out);
    throw new KubectlError(errs.join('\n'));
  }
  return out;
}

async function version(o: Opts): Promise<string> {
  const client = `Client Version: ${VERSION}\nKustomize Version: v5.4.2\n`;
  const c = connection(o);
  const res = await call(c, 'GET', '/version');
  if (res.status !== 200) throw statusError(res);
  return `${client}Server Version: ${(JSON.parse(res.body) as { gitVersion: string }).gitVersion}\n`;
}

export async function kubectl(args: string[]): Promise<number> {
  try {
    const o = parseOpts(args);
    const [verb, ...rest] = o.positional;
    let out: string;
    switch (verb) {
      case 'get':
        out = await get(o, rest);
        break;
      case 'delete':
        out = await del(o, rest);
        break;
      case 'version':
        out = await version(o);
        break;
      case undefined:
        out = 'kubectl controls the Kubernetes cluster manager (k3s test double: get, delete, version).\n';
        break;
      default:
        throw new KubectlError(`error: unknown command "${verb}" for "kubectl"`);
    }
    process.stdout.write(out);
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}

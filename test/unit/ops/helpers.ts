// Shared by the ops unit tests: a context over FakeTransport, scripted probe outputs,
// and the "nothing mutated" assertion for check mode.
import { createHash } from 'node:crypto';
import { hostShell } from '../../../lib/ops/shell.ts';
import { expect } from 'vitest';
import type { Facts } from '../../../lib/facts/types.ts';
import type { OpContext } from '../../../lib/ops/types.ts';
import { CONTENT_MARK } from '../../../lib/ops/probe.ts';
import type { Transport } from '../../../lib/transport/types.ts';
import { FakeTransport } from '../../support/fake-transport.ts';
import * as testingFacts from '../../../lib/testing/facts.ts';

/** lib/testing's Debian host (what drover/testing gives users), without interfaces: the ops never read them. */
export const debianFacts: Facts = { ...testingFacts.debianFacts, interfaces: [] };

export const containerFacts: Facts = { ...debianFacts, container: 'systemd-nspawn', vm: null };
export const flatcarFacts: Facts = {
  ...debianFacts,
  os: { id: 'flatcar', family: 'flatcar', version: '3815.2.0', versionMajor: 3815, prettyName: 'Flatcar Container Linux 3815.2.0' },
  pkgManager: 'none',
};
export const almaFacts: Facts = { ...debianFacts, os: testingFacts.almaFacts.os, pkgManager: 'dnf' };

export interface CtxOptions {
  facts?: Partial<Facts>;
  check?: boolean;
  diff?: boolean;
  become?: OpContext['become'];
  transport?: Transport;
}

export function makeCtx(o: CtxOptions = {}): { ctx: OpContext; t: FakeTransport; logs: string[] } {
  const t = new FakeTransport('node1');
  const logs: string[] = [];
  const transport = o.transport ?? t;
  const become = o.become ?? false;
  const log = (m: string) => logs.push(m);
  const ctx: OpContext = {
    host: 'node1',
    transport,
    facts: { ...debianFacts, ...o.facts },
    check: o.check ?? false,
    diff: o.diff ?? false,
    become,
    log,
    $: hostShell({ transport, become, log }),
  };
  return { ctx, t, logs };
}

export const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

export interface FakeFile {
  type?: 'absent' | 'file' | 'directory' | 'link' | 'other';
  mode?: string;
  uid?: number;
  gid?: number;
  owner?: string;
  group?: string;
  content?: string;
  /** Print the content after the marker (as the probe does when asked to). */
  withContent?: boolean;
  target?: string;
  real?: string;
  prefix?: string;
}

/** What fileProbeScript prints for such a file. */
export function fileOut(f: FakeFile): string {
  const k = f.prefix ?? '';
  const type = f.type ?? 'file';
  const lines: string[] = [];
  if (f.real) lines.push(`${k}real=${f.real}`);
  lines.push(`${k}type=${type}`);
  if (type !== 'absent') {
    const size = Buffer.byteLength(f.content ?? '');
    lines.push(`${k}stat=${f.mode ?? '644'} ${f.uid ?? 0} ${f.gid ?? 0} ${size} ${f.owner ?? 'root'} ${f.group ?? 'root'}`);
  }
  if (type === 'link') lines.push(`${k}target=${f.target ?? ''}`);
  if (type === 'file') lines.push(`${k}sha256=${sha(f.content ?? '')}`);
  let out = lines.join('\n') + '\n';
  if (type === 'file' && f.withContent) out += `${CONTENT_MARK}\n${f.content ?? ''}`;
  return out;
}

/** Check mode: only the probe(s) ran, nothing was written. */
export function expectOnlyProbes(t: FakeTransport, probes = 1): void {
  expect(t.execs.length).toBe(probes);
  expect(t.files.size).toBe(0);
}

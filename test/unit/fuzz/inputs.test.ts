// Bad input never escapes as an internal error: a seeded mutation fuzzer (fast-check) over
// the repo's inventories, vars files and test fixtures, and over -e values. Every mutated
// input either loads (and every host's connection builds) or fails with an InputError (exit
// 65) that names file:line:col. Seeded, so a failure reproduces; bounded: each input has a
// time budget and the whole file runs in well under a minute. The counts are printed for
// the record (issue 13).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseExtraVarArg } from '../../../lib/cli/extra-vars.ts';
import { InputError, UsageError } from '../../../lib/errors.ts';
import { connectionFor, parseInventoryText, parseVarsText } from '../../../lib/inventory/index.ts';

const ROOT = join(import.meta.dirname, '../../..');
const SEED = Number(process.env.DROVER_FUZZ_SEED ?? 13);
const RUNS = Number(process.env.DROVER_FUZZ_RUNS ?? 4000);
/** One input may take this long at most (an alias bomb or a huge host range must be refused, not computed). */
const PER_INPUT_MS = 2_000;

function filesUnder(dir: string, keep: (f: string) => boolean): string[] {
  const out: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...filesUnder(p, keep));
    else if (keep(p) && statSync(p).size < 64 * 1024) out.push(p);
  }
  return out.sort();
}

const inventoryDirs = ['inventory', 'test/fixtures/inventory', 'test/fixtures/inventories-compat'].map((d) => join(ROOT, d));
const all = inventoryDirs.flatMap((d) => filesUnder(d, (f) => /\.(ya?ml|ini|json)$/.test(f) && !f.includes('/expected/')));
const isVars = (f: string) => /\/(group|host)_vars\//.test(f);
const seedsOf = (files: string[]) => files.map((f) => ({ name: relative(ROOT, f), text: readFileSync(f, 'utf8') }));
const inventories = seedsOf(all.filter((f) => !isVars(f)));
const varsFiles = seedsOf(all.filter(isVars));

/** Tokens that reach the corners of YAML, INI, host ranges, Jinja and our validators. */
const TOKENS = [
  '&a ', '*a', '<<: *a', '<<: [*a, *a]', '!!binary ', '!!python/object:os.system ', '!!str ', '!!map ', '!!set ', '? ', '--- ', '...', '%YAML 1.2\n', '%TAG ! tag:x,2000:\n',
  '{', '}', '[', ']', ':', ': ', ',', '-', '- ', '#', '|', '>', '|-', '"', "'", '`', '\\', '\t', '\n', '\r\n', '  ', '\u00a0', '\u2028', '\ufeff', 'é', '💥', '\u0000',
  '=', ' = ', '[all:vars]', '[web:children]', '[g:vars]\n', '[ungrouped]', 'host:99999', 'host:0', 'web[01:03]', 'web[1:', 'web[a:z]', 'web[1:99999999]', 'web[0:10:0]', 'web[10:1]', 'h[1:3][1:3]',
  'ansible_host=', 'ansible_host: ', 'ansible_port: ', 'ansible_port=abc ', 'ansible_user=', 'ansible_become: maybe', 'ansible_ssh_common_args: "-o ProxyCommand=nc %h %p"',
  'drover_peer_address: ', 'peer_address: ', '10.0.0.1 -oProxyCommand=touch /tmp/pwned', '"10.0.0.1;id"', '[::1]', 'fe80::1%eth0', '256.1.1.1', 'a..b', '-host',
  '{{ ', ' }}', '{{ x }}', '{{ hostvars[inventory_hostname] }}', '{% for %}', '{{ lookup("pipe", "id") }}', '{{ 1/0 }}', '{{ "a" * 99999999 }}',
  'hosts:', 'children:', 'vars:', 'all:', 'null', '~', 'yes', 'no', 'True', 'None', '1e999', '-0', '0x1F', '0o17', '.inf', '.nan', '2001-01-01', '123456789012345678901234567890',
  'ansbile_user: x', 'drover_nonsense: 1', 'x'.repeat(300),
];

const BOMB = 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\nbomb: *f\n';

type Mutation =
  | { kind: 'insert'; at: number; token: number }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'dup'; at: number; len: number; to: number }
  | { kind: 'swapLines'; a: number; b: number }
  | { kind: 'indent'; line: number; by: number }
  | { kind: 'byte'; at: number; code: number }
  | { kind: 'splice'; at: number; from: number; len: number }
  | { kind: 'bomb'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), token: fc.nat(TOKENS.length - 1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 80 }), to: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('indent' as const), line: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), code: fc.integer({ min: 0, max: 0x2fff }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), from: fc.nat(), len: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bomb' as const), at: fc.nat() }) },
);

/** Apply mutations to a text; `donor` feeds splices (another seed's text). */
export function mutate(text: string, muts: readonly Mutation[], donor: string): string {
  let s = text;
  for (const m of muts) {
    const n = s.length + 1;
    switch (m.kind) {
      case 'insert': {
        const at = m.at % n;
        s = s.slice(0, at) + TOKENS[m.token] + s.slice(at);
        break;
      }
      case 'delete': {
        const at = m.at % n;
        s = s.slice(0, at) + s.slice(at + m.len);
        break;
      }
      case 'dup': {
        const at = m.at % n;
        const piece = s.slice(at, at + m.len);
        const to = m.to % (s.length + 1);
        s = s.slice(0, to) + piece + s.slice(to);
        break;
      }
      case 'swapLines': {
        const lines = s.split('\n');
        const a = m.a % lines.length;
        const b = m.b % lines.length;
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        s = lines.join('\n');
        break;
      }
      case 'indent': {
        const lines = s.split('\n');
        const i = m.line % lines.length;
        lines[i] = m.by >= 0 ? ' '.repeat(m.by) + lines[i] : lines[i]!.slice(Math.min(-m.by, lines[i]!.search(/\S|$/)));
        s = lines.join('\n');
        break;
      }
      case 'byte': {
        const at = m.at % n;
        s = s.slice(0, at) + String.fromCharCode(m.code) + s.slice(at + 1);
        break;
      }
      case 'splice': {
        const at = m.at % n;
        const from = m.from % (donor.length + 1);
        s = s.slice(0, at) + donor.slice(from, from + m.len) + s.slice(at);
        break;
      }
      case 'bomb': {
        // At a line start, so it lands as mapping entries of whatever encloses it.
        const lines = s.split('\n');
        const i = m.at % (lines.length + 1);
        lines.splice(i, 0, BOMB.trimEnd());
        s = lines.join('\n');
        break;
      }
    }
  }
  return s;
}

const LOCATED = /^[^\n]+:\d+:\d+: /;

interface Tally {
  inputs: number;
  loaded: number;
  rejected: number;
  slowestMs: number;
}
const tallies = new Map<string, Tally>();
function tally(kind: string): Tally {
  let t = tallies.get(kind);
  if (!t) tallies.set(kind, (t = { inputs: 0, loaded: 0, rejected: 0, slowestMs: 0 }));
  return t;
}

/**
 * Run one input through `load`; it must return or throw an InputError (exit 65) whose
 * message starts with file:line:col. Anything else fails the property with the input.
 */
function check(kind: string, input: string, load: () => void, located: (e: InputError) => boolean = (e) => LOCATED.test(e.message)): void {
  const t = tally(kind);
  t.inputs++;
  const t0 = performance.now();
  try {
    load();
    t.loaded++;
  } catch (e) {
    if (!(e instanceof InputError) || e.exitCode !== 65 || !located(e)) {
      const what = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e);
      throw new Error(`${kind}: not an located InputError for input ${JSON.stringify(input.slice(0, 2000))}:\n${what}`);
    }
    t.rejected++;
  } finally {
    const ms = performance.now() - t0;
    t.slowestMs = Math.max(t.slowestMs, ms);
    if (ms > PER_INPUT_MS) throw new Error(`${kind}: one input took ${Math.round(ms)} ms: ${JSON.stringify(input.slice(0, 500))}`);
  }
}

function loadInventoryText(text: string, name: string): void {
  const inv = parseInventoryText(text, name);
  for (const h of inv.hosts.values()) connectionFor(h);
}

const tmp = mkdtempSync(join(tmpdir(), 'drover-fuzz-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  const lines = [...tallies].map(([k, t]) => `  ${k.padEnd(12)} ${String(t.inputs).padStart(6)} inputs: ${t.loaded} loaded, ${t.rejected} rejected with file:line:col (exit 65); slowest ${t.slowestMs.toFixed(1)} ms`);
  const total = [...tallies.values()].reduce((a, t) => a + t.inputs, 0);
  console.log(`input fuzzer (seed ${SEED}): ${total} mutated inputs, no internal error\n${lines.join('\n')}`);
});

const muts = fc.array(mutation, { minLength: 1, maxLength: 6 });

describe('mutated inputs load or fail with exit 65 at file:line:col', () => {
  it('finds the seeds', () => {
    expect(inventories.length).toBeGreaterThanOrEqual(8);
    expect(varsFiles.length).toBeGreaterThanOrEqual(8);
  });

  it('inventories (YAML, INI, JSON): parse, compile, and build every host connection', { timeout: 120_000 }, () => {
    fc.assert(
      fc.property(fc.nat(inventories.length - 1), fc.nat(inventories.length - 1), muts, (i, j, m) => {
        const seed = inventories[i]!;
        const text = mutate(seed.text, m, inventories[j]!.text);
        check('inventory', text, () => loadInventoryText(text, seed.name));
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  });

  it('vars files (group_vars/, host_vars/)', { timeout: 120_000 }, () => {
    fc.assert(
      fc.property(fc.nat(varsFiles.length - 1), fc.nat(inventories.length - 1), muts, (i, j, m) => {
        const seed = varsFiles[i]!;
        const text = mutate(seed.text, m, inventories[j]!.text);
        check('vars file', text, () => parseVarsText(text, seed.name));
      }),
      { seed: SEED + 1, numRuns: RUNS, endOnFailure: true },
    );
  });

  it('-e values: @file (YAML/JSON), inline JSON/YAML objects, KEY=VALUE', { timeout: 120_000 }, () => {
    const objects = [...varsFiles.map((v) => v.text), '{"a": 1, "b": [1, 2], "c": {"d": "e"}}', '{a: 1, b: [x, y]}'];
    let n = 0;
    fc.assert(
      fc.property(fc.nat(objects.length - 1), fc.nat(inventories.length - 1), muts, fc.constantFrom('@file', 'inline', 'kv'), (i, j, m, form) => {
        const text = mutate(objects[i]!, m, inventories[j]!.text);
        if (form === '@file') {
          const file = join(tmp, `e${n++ % 50}.yaml`);
          writeFileSync(file, text);
          check('-e @file', text, () => parseExtraVarArg(`@${file}`, 1));
        } else if (form === 'inline') {
          const arg = text.trimStart().startsWith('{') ? text : `{${text}}`;
          // The argument itself is the "file": its errors are named -e #1:line:col.
          check('-e inline', arg, () => parseExtraVarArg(arg, 1));
        } else {
          // KEY=VALUE: a value is whatever the user typed (any text is a valid string); a
          // malformed pair is a usage error (exit 64) by design, saying which -e it was.
          const arg = `k=${text.slice(0, 200)}`;
          const t = tally('-e k=v');
          t.inputs++;
          try {
            parseExtraVarArg(arg, 1);
            t.loaded++;
          } catch (e) {
            if (!(e instanceof UsageError) || !/^-e #1: /.test(e.message)) throw e;
            t.rejected++;
          }
        }
      }),
      { seed: SEED + 2, numRuns: RUNS, endOnFailure: true },
    );
  });

  it('the alias bomb of issue 13 is refused at the alias, in an inventory, a vars file and -e @file', () => {
    const inv = `all:\n  hosts:\n    h1:\n  vars:\n${BOMB.split('\n').map((l) => (l ? `    ${l}` : l)).join('\n')}`;
    expect(() => loadInventoryText(inv, 'bomb.yaml')).toThrow(/^bomb\.yaml:\d+:\d+: YAML: aliases expand to more than 200000 values \(at \*e\): an alias bomb\?/);
    expect(() => parseVarsText(BOMB, 'group_vars/all.yaml')).toThrow(/^group_vars\/all\.yaml:6:11: YAML: aliases expand to more than 200000 values \(at \*e\)/);
    const file = join(tmp, 'bomb.yaml');
    writeFileSync(file, BOMB);
    expect(() => parseExtraVarArg(`@${file}`, 1)).toThrow(InputError);
    expect(() => parseExtraVarArg(`@${file}`, 1)).toThrow(/bomb\.yaml:6:11: YAML: aliases expand to more than 200000 values/);
    // A circular alias and an alias naming no anchor are input errors too, not a cycle or a crash later.
    expect(() => parseVarsText('a: &a [1, *a]\n', 'v.yaml')).toThrow(/^v\.yaml:1:11: YAML: alias \*a refers to the node that contains it/);
    expect(() => parseVarsText('a: *nope\n', 'v.yaml')).toThrow(/^v\.yaml:1:4: YAML: alias \*nope names no anchor/);
    // An ordinary inventory merging one defaults map into hundreds of hosts still loads (yaml's own guard refused it).
    const many = `all:\n  vars:\n    defaults: &d {x: 1}\n  hosts:\n${Array.from({ length: 400 }, (_, i) => `    h${i}: {<<: *d, n: ${i}}`).join('\n')}\n`;
    expect(parseInventoryText(many, 'many.yaml').hosts.size).toBe(400);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../../lib/errors.ts';
import { parsePlaybookArgs } from '../../../lib/cli/args.ts';
import { scalarValue } from '../../../lib/cli/extra-vars.ts';
import { clearSecrets, redact, REDACTED } from '../../../lib/secrets/redact.ts';

afterEach(() => clearSecrets());

const dir = mkdtempSync(join(tmpdir(), 'drover-cli-'));
writeFileSync(join(dir, 'vars.yaml'), '# comment\nk3s_version: v1.30.4+k3s1\nhaproxy_port: 8443\nnested:\n  a: [1, 2]\n');
writeFileSync(join(dir, 'vars.json'), '{\n  "haproxy_port": 9443,\n  "flag": true\n}\n');
writeFileSync(join(dir, 'bad.yaml'), 'ok: 1\nbroken: [1, 2\nnext: 3\n');
writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n');

const parse = (...argv: string[]) => parsePlaybookArgs(argv, { cwd: dir });

describe('parsePlaybookArgs', () => {
  it('defaults', () => {
    expect(parse()).toEqual({
      inventory: [], check: false, diff: false, tags: [], skipTags: [], forks: 10, extraVars: {}, extraVarOrigins: {},
      listHosts: false, listTasks: false, json: false, verbosity: 0, acceptNewHostKeys: false, knownHosts: [], privateKeys: [], help: false, version: false, flags: {},
    });
  });

  it('reads the ansible-playbook flags, long and short', () => {
    const o = parse('-i', 'a.yaml', '--inventory', '10.0.0.5,10.0.0.6', '-C', '-D', '-l', 'lb', '-t', 'config,packages', '--tags', 'always', '--skip-tags', 'slow', '-f', '3', '--json', '-vv', '--accept-new-host-keys', '--known-hosts', '/k', '-u', 'debian', '--private-key', '~/.ssh/id', '--list-hosts', '--list-tasks');
    expect(o).toMatchObject({
      inventory: ['a.yaml', '10.0.0.5,10.0.0.6'], check: true, diff: true, limit: 'lb', tags: ['config', 'packages', 'always'], skipTags: ['slow'], forks: 3,
      json: true, verbosity: 2, acceptNewHostKeys: true, knownHosts: ['/k'], user: 'debian', privateKeys: ['~/.ssh/id'], listHosts: true, listTasks: true,
    });
    expect(parse('--check', '--diff', '--limit=db', '--forks=7', '-v', '--verbose')).toMatchObject({ check: true, diff: true, limit: 'db', forks: 7, verbosity: 2 });
    expect(parse('-h').help).toBe(true);
    expect(parse('--version').version).toBe(true);
  });

  it('rejects unknown flags, stray arguments, missing values and bad numbers with a UsageError (exit 64)', () => {
    for (const argv of [['--fork', '3'], ['site.yml'], ['-i'], ['-f', 'ten'], ['-f', '0'], ['-l', ' '], ['-x']]) {
      let err: unknown;
      try {
        parse(...argv);
      } catch (e) {
        err = e;
      }
      expect(err, argv.join(' ')).toBeInstanceOf(UsageError);
      expect((err as UsageError).exitCode).toBe(64);
    }
    expect(() => parse('--fork', '3')).toThrow(/--fork/);
  });

  describe('-e / --extra-vars', () => {
    it('KEY=VALUE reads YAML scalars but keeps strings that look like numbers written differently', () => {
      const o = parse('-e', 'port=6443', '-e', 'on=true', '-e', 'mode=0644', '-e', 'ver=1.30', '-e', 'name=lb', '-e', 'msg=hello world', '-e', 'a=1 b=x', '-e', 'empty=', '-e', 'nothing=null');
      expect(o.extraVars).toEqual({ port: 6443, on: true, mode: '0644', ver: '1.30', name: 'lb', msg: 'hello world', a: 1, b: 'x', empty: '', nothing: null });
      expect(o.extraVarOrigins.port).toEqual({ file: '-e #1' });
      expect(scalarValue('[1, 2]')).toBe('[1, 2]');
      expect(scalarValue('1.5')).toBe(1.5);
    });

    it('a JSON object, with positions of its keys', () => {
      const o = parse('-e', '{"haproxy_port": 7443, "list": [1, 2]}');
      expect(o.extraVars).toEqual({ haproxy_port: 7443, list: [1, 2] });
      expect(o.extraVarOrigins.list).toEqual({ file: '-e #1', line: 1, col: 24 });
    });

    it('@file.yaml and @file.json, keys located by file:line:col; later -e wins', () => {
      const o = parse('-e', '@vars.yaml', '-e', '@vars.json');
      expect(o.extraVars).toEqual({ k3s_version: 'v1.30.4+k3s1', haproxy_port: 9443, nested: { a: [1, 2] }, flag: true });
      expect(o.extraVarOrigins.k3s_version).toEqual({ file: 'vars.yaml', line: 2, col: 1 });
      expect(o.extraVarOrigins.haproxy_port).toEqual({ file: 'vars.json', line: 2, col: 3 });
      expect(parse('-e', '@vars.json', '-e', 'haproxy_port=1').extraVars.haproxy_port).toBe(1);
    });

    it('bad files are InputErrors (exit 65) naming file:line:col', () => {
      const errOf = (arg: string) => {
        try {
          parse('-e', arg);
        } catch (e) {
          return e as InputError;
        }
        throw new Error('no error');
      };
      const bad = errOf('@bad.yaml');
      expect(bad).toBeInstanceOf(InputError);
      expect(bad.exitCode).toBe(65);
      expect(bad.message).toMatch(/^bad\.yaml:\d+:\d+: /);
      expect(errOf('@missing.yaml').message).toMatch(/^missing\.yaml: cannot read extra vars file: ENOENT/);
      expect(errOf('@list.yaml').message).toMatch(/^list\.yaml:1:1: extra vars must be a mapping/);
      expect(errOf('{"a": 1').message).toMatch(/^-e #1:1:\d+: /);
      expect(() => parse('-e', 'no-equals-sign')).toThrow(UsageError);
      expect(() => parse('-e', '=1')).toThrow(UsageError);
    });

    it('registers connection secrets given with -e so they never print', () => {
      parse('-e', 'ansible_become_password=Sup3rS3cret');
      expect(redact('pw Sup3rS3cret')).toBe(`pw ${REDACTED}`);
    });
  });
});

describe('-e KEY=VALUE with newlines', () => {
  it('keeps a multi-line value verbatim', async () => {
    const { parseExtraVars } = await import('../../../lib/cli/extra-vars.ts');
    expect(parseExtraVars(['cfg=line one\n  line two\n']).vars.cfg).toBe('line one\n  line two\n');
  });
});

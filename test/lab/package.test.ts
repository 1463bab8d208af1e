// Drover as a user gets it: `npm pack`, the tarball installed into a fresh project outside the
// repo (its dependencies from the registry), a role and a playbook there that import only
// `drover` (and `drover/testing` in the role's unit test), type-checked by tsc, the unit test
// run, and the playbook run against one lab host three ways: `npx tsx` (converge), plain
// `node` on what tsc compiled, and the package's `drover run` bin (zero changes both times);
// then once more in a terminal, where the package's prebuilt UI process draws it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROLLER_KEY, KNOWN_HOSTS, labExec, readTopology } from '../../lab/index.ts';
import { EventSchema, type DroverEvent, type RecapEvent } from '../../lib/report/events.ts';
import { quote } from '../../lib/shell/quote.ts';
import { useLab, type Lab } from './support/use-lab.ts';

const REPO = process.cwd();
const HOST = 'storage1';
/** What the consumer's role manages on the host (removed before and after). */
const DIR = '/etc/drover-package-test';

const repoPkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
/** The consumer's own tools, at the repo's versions (so CI's npm cache has them). */
const TOOLS = Object.fromEntries(['typescript', 'tsx', '@types/node'].map((p) => [p, repoPkg.devDependencies[p]]));

function sh(argv: readonly string[], cwd: string, timeoutMs = 180_000): { code: number | null; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, npm_config_update_notifier: 'false' } });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function must(argv: readonly string[], cwd: string, timeoutMs?: number): string {
  const r = sh(argv, cwd, timeoutMs);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} (in ${cwd}) exited ${r.code}:\n${r.out.slice(-4000)}`);
  return r.out;
}

function write(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** The consumer's project: written as a user would, importing only the package. */
const CONSUMER: Record<string, string> = {
  'tsconfig.json': JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        // As most projects have it (zx's own .d.ts name @types/fs-extra without depending on
        // it). That the package's types are real, not `any`, is checked by types-check.ts.
        skipLibCheck: true,
        outDir: 'out',
        types: ['node'],
      },
      include: ['*.ts', 'roles', 'test'],
    },
    null,
    2,
  ),
  'roles/motd.ts': `import { defineRole, ops, z, type HostCtx } from 'drover';

export const motdVars = z.object({
  motd_dir: z.string().default('${DIR}'),
  motd_message: z.string().min(1),
});
type Ctx = HostCtx<z.infer<typeof motdVars>>;

/** The file's text: the message and what the host says about itself. */
export function motdText(c: Pick<Ctx, 'vars' | 'host' | 'facts'>, kernel: string): string {
  return \`\${c.vars.motd_message} on \${c.host} (\${c.facts.os.id} \${c.facts.os.version}, kernel \${kernel})\\n\`;
}

export const motdRole = defineRole({
  name: 'motd',
  vars: motdVars,
  readAhead: true,
  tasks: [
    { name: 'directory', run: (c) => c.run(ops.directory(c.vars.motd_dir, { mode: '0755' })) },
    {
      name: 'message',
      run: async (c) => {
        const kernel = (await c.$.read\`uname -r\`).stdout.trim();
        return c.run(ops.file(\`\${c.vars.motd_dir}/motd\`, motdText(c, kernel), { mode: '0644' }));
      },
    },
  ],
});
`,
  'site.ts': `import { main } from 'drover';
import { motdRole } from './roles/motd.js';

await main({
  name: 'consumer-site',
  flags: {
    message: { type: 'string', description: 'the line to write', default: 'managed by drover' },
  },
  plays: (ctx) => [{ name: 'motd', hosts: 'all', roles: [motdRole], vars: { motd_message: ctx.flags.message } }],
});
`,
  // Each marked line errors only if the package's types are real: with an `any` the
  // expect-error directive would be unused, which tsc reports.
  'types-check.ts': `import { makeHostCtx } from 'drover/testing';
import { defineRole, z, type PlaybookContext, type ProcessOutput } from 'drover';
import { motdRole } from './roles/motd.js';

const { ctx } = makeHostCtx(motdRole, { vars: { motd_message: 'x' } });
// @ts-expect-error motd_message is a string
export const n: number = ctx.vars.motd_message;
// @ts-expect-error the result of $ is zx's ProcessOutput
export const out = async (): Promise<number> => (await ctx.$\`true\`).stdout;
export const typed = async (): Promise<ProcessOutput> => ctx.$.read\`true\`;
// @ts-expect-error a role's vars must be a zod schema
defineRole({ name: 'bad', vars: { a: 1 }, tasks: [] });
export const flag = (c: PlaybookContext<{ force: { type: 'boolean'; description: string } }>): boolean => c.flags.force;
// @ts-expect-error a boolean flag is not a string
export const notString = (c: PlaybookContext<{ force: { type: 'boolean'; description: string } }>): string => c.flags.force;
export const schema = z.object({ a: z.string() });
`,
  'test/motd.test.ts': `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from 'drover';
import { baseRole } from 'drover/roles/base';
import { makeHostCtx, taskOf } from 'drover/testing';
import { motdRole } from '../roles/motd.js';

test('writes the message with the host facts and the probed kernel', async () => {
  const { ctx, transport } = makeHostCtx(motdRole, { host: 'web1', vars: { motd_message: 'hello' } });
  transport.on('uname -r', { stdout: '6.1.0-99-amd64\\n' });
  const r = await taskOf(motdRole, 'message').run(ctx);
  assert.equal(r.status, 'changed');
  const written = [...transport.files.values()].map((f) => f.content.toString());
  assert.deepEqual(written, ['hello on web1 (debian 12, kernel 6.1.0-99-amd64)\\n']);
});

test('a bad variable is the runner error naming the key', () => {
  assert.throws(() => makeHostCtx(motdRole, { vars: { motd_message: '' } }), (e) => e instanceof InputError && e.key === 'motd_message');
});

test('the shipped roles are importable', () => {
  assert.equal(baseRole.name, 'base');
});
`,
};

/** dist/ (JS and types) is newer than every source file the package is built from. */
function distIsFresh(): boolean {
  const built = (() => {
    try {
      return Math.min(statSync(join(REPO, 'dist/index.js')).mtimeMs, statSync(join(REPO, 'dist/types/index.d.ts')).mtimeMs);
    } catch {
      return 0;
    }
  })();
  const newest = (dir: string): number =>
    readdirSync(join(REPO, dir), { withFileTypes: true }).reduce((m, d) => {
      const p = join(dir, d.name);
      return Math.max(m, d.isDirectory() ? newest(p) : d.name.endsWith('.ts') || d.name.endsWith('.json') ? statSync(join(REPO, p)).mtimeMs : 0);
    }, 0);
  return built > Math.max(...['lib', 'roles', 'cli', 'ui'].map(newest), statSync(join(REPO, 'index.ts')).mtimeMs, statSync(join(REPO, 'package.json')).mtimeMs);
}

function parseRun(stdout: string): { events: DroverEvent[]; recap: RecapEvent | undefined; changed: number } {
  const events = stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => EventSchema.parse(JSON.parse(l)));
  const recap = events.find((e): e is RecapEvent => e.type === 'recap');
  const changed = recap ? Object.values(recap.hosts).reduce((n, h) => n + h.changed, 0) : NaN;
  return { events, recap, changed };
}

let lab: Lab | undefined;
let work: string | undefined;

beforeAll(async () => {
  lab = await useLab();
  if (!lab) console.warn('[package] lab not available here: skipping the package test');
});

afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (lab) await lab.sh(HOST, `rm -rf ${quote(DIR)}`);
});

describe('the npm package, installed into a project outside the repo', () => {
  it('type-checks, unit-tests and runs a consumer role and playbook (tsx, node, the drover bin): converge, then zero changes', async (ctx) => {
    if (!lab) return ctx.skip();
    work = mkdtempSync(join(tmpdir(), 'drover-package-'));
    const project = join(work, 'project');
    mkdirSync(project);

    const t0 = Date.now();
    const phases: string[] = [];
    const phase = (name: string) => phases.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // The tarball must hold a dist/ built from these sources: built unless it is newer than
    // every source file (as right after `npm ci`, whose `prepare` builds it), then packed.
    if (!distIsFresh()) must(['npm', 'run', 'build', '--silent'], REPO, 240_000);
    phase('build');
    must(['npm', 'pack', '--silent', '--ignore-scripts', '--pack-destination', work], REPO);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBe(`drover-${repoPkg.version}.tgz`);
    const listing = must(['tar', '-tzf', join(work, tarball!)], work).split('\n');
    // JS and declarations only: no TypeScript source, no compiler needed at run time.
    expect(listing.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(listing).toContain('package/dist/bin/drover.js');
    expect(listing).toContain('package/dist/ui/child.js');

    const consumerPkg = { name: 'my-infra', private: true, type: 'module', dependencies: { drover: `file:../${tarball}` }, devDependencies: TOOLS };
    write(project, { 'package.json': JSON.stringify(consumerPkg, null, 2), ...CONSUMER });
    must(['npm', 'install', '--no-audit', '--no-fund', '--prefer-offline'], project, 300_000);
    phase('npm install');
    // Nothing in the installed package imports esbuild (the UI child is prebuilt).
    const dist = join(project, 'node_modules/drover/dist');
    const grep = sh(['grep', '-rlE', `from ?["']esbuild["']|import\\(["']esbuild["']\\)`, dist, '--include=*.js'], project);
    expect(grep.out.trim()).toBe('');

    // Type-check (the package's .d.ts included) and compile to out/.
    must(['npx', '--no-install', 'tsc', '-p', '.'], project);
    phase('tsc');
    // The role's unit test, with drover/testing, under node's own test runner.
    const unit = sh(['node', '--test', 'out/test/motd.test.js'], project);
    expect(unit.out, unit.out).toMatch(/# pass 3/);
    expect(unit.code).toBe(0);

    const address = (await readTopology(lab.inventory)).hosts.find((h) => h.name === HOST)!.address;
    write(project, {
      'inventory.yaml': `all:\n  hosts:\n    ${HOST}:\n      ansible_host: ${address}\n      ansible_user: root\n      ansible_ssh_private_key_file: ${CONTROLLER_KEY}\n      drover_known_hosts: ${KNOWN_HOSTS}\n`,
    });
    await lab.sh(HOST, `rm -rf ${quote(DIR)}`);
    const inLab = async (command: string) => {
      const r = await labExec(['sh', '-c', `cd ${quote(project)} && ${command}`], { timeoutMs: 120_000 });
      const run = parseRun(r.stdout);
      expect(r.code, `${command}: exit ${r.code}\n${r.stderr.slice(-3000)}`).toBe(0);
      expect(run.recap?.hosts[HOST]?.failed).toBe(0);
      return run;
    };

    // Converge with npx tsx, as the README runs a playbook.
    const first = await inLab('npx --no-install tsx site.ts -i inventory.yaml --message "hello from a package" --json');
    expect(first.changed).toBe(2);
    const onHost = await lab.sh(HOST, `cat ${quote(`${DIR}/motd`)}`);
    expect(onHost.stdout).toMatch(/^hello from a package on storage1 \(debian 12, kernel \S+\)\n$/);

    // The same playbook compiled by tsc, under plain node: nothing left to change.
    const second = await inLab('node out/site.js -i inventory.yaml --message "hello from a package" --json');
    expect(second.changed).toBe(0);
    // And through the package's bin, loading the .ts with the project's tsx.
    const third = await inLab('npx --no-install drover run site.ts -i inventory.yaml --message "hello from a package" --json');
    expect(third.changed).toBe(0);

    // The terminal UI in a terminal (a pty from script(1), CI unset): the package's prebuilt UI
    // process draws the run, with no Ink or React installed in the project.
    expect(existsSync(join(project, 'node_modules/ink')) || existsSync(join(project, 'node_modules/react'))).toBe(false);
    const tty = await labExec(['sh', '-c', `cd ${quote(project)} && script -qec ${quote('env -u CI node out/site.js -i inventory.yaml --message "hello from a package"')} /dev/null`], { timeoutMs: 120_000 });
    expect(tty.code, tty.stdout.slice(-2000) + tty.stderr).toBe(0);
    const screen = tty.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(screen).not.toContain('terminal UI unavailable');
    // The UI's recap (the plain reporter's is `host : ok=N changed=N ...` lines instead).
    expect(screen).toMatch(/PLAY RECAP 1 host/);
    expect(screen).toMatch(/host\s+ok\s+changed\s+failed\s+unreachable\s+skipped\s+time/);

    // The bin and the playbook's --help (its own flag listed).
    expect(must(['npx', '--no-install', 'drover', '--version'], project).trim()).toBe(`drover ${repoPkg.version}`);
    const help = must(['node', 'out/site.js', '--help'], project);
    expect(help).toMatch(/--message VALUE\s+the line to write \(default managed by drover\)/);
    phase('runs');
    console.log(`[package] ${phases.join(', ')}`);
  }, 600_000);
});

// The scale benchmark's playbook: 20 real ops a non-root user may run (everything under
// the host's bench_root), so a no-change re-run is 20 checks per host. Its twins, with the
// same end state byte for byte: bench/ansible/checks20.yml and bench/scale/floor.sh.
//   node --import tsx bench/playbooks/checks20.ts -i <inventory> --forks N
import { readFileSync } from 'node:fs';
import { defineRole, main, ops, quote, z } from 'drover';

const files = (name: string) => readFileSync(new URL(`../scale/files/${name}`, import.meta.url), 'utf8');
const appConf = files('app.conf');
const motd = files('motd');
const confA = files('10-a.conf');
const confB = files('20-b.conf');
const runSh = files('run.sh');
const stateJson = files('state.json');

/** Same text as bench/ansible/templates/hosts.conf.j2 renders. */
export function hostsConf(v: { host: string; address: string; root: string }): string {
  return `# hosts.conf: rendered per host\nhost = ${v.host}\naddress = ${v.address}\nroot = ${v.root}\n`;
}

export const LIMITS_BLOCK = 'nofile = 65536\nnproc = 4096';

const checks = defineRole({
  name: 'checks20',
  readAhead: true,
  vars: z.object({
    bench_root: z.string().startsWith('/'),
    /** The live value of net.ipv4.ip_forward, read by the bench: a read-only sysctl check. */
    bench_ip_forward: z.coerce.string().default('0'),
    ansible_host: z.string().optional(),
  }),
  tasks: [
    { name: 'root directory', run: (c) => c.run(ops.directory(c.vars.bench_root, { mode: '0755' })) },
    { name: 'etc directory', run: (c) => c.run(ops.directory(`${c.vars.bench_root}/etc`, { mode: '0755' })) },
    { name: 'conf.d directory', run: (c) => c.run(ops.directory(`${c.vars.bench_root}/conf.d`, { mode: '0755' })) },
    { name: 'bin directory', run: (c) => c.run(ops.directory(`${c.vars.bench_root}/bin`, { mode: '0755' })) },
    { name: 'data directory', run: (c) => c.run(ops.directory(`${c.vars.bench_root}/data`, { mode: '0700' })) },
    { name: 'app.conf', run: (c) => c.run(ops.file(`${c.vars.bench_root}/etc/app.conf`, appConf, { mode: '0644' })) },
    { name: 'motd', run: (c) => c.run(ops.file(`${c.vars.bench_root}/etc/motd`, motd, { mode: '0644' })) },
    { name: '10-a.conf', run: (c) => c.run(ops.file(`${c.vars.bench_root}/conf.d/10-a.conf`, confA, { mode: '0644' })) },
    { name: '20-b.conf', run: (c) => c.run(ops.file(`${c.vars.bench_root}/conf.d/20-b.conf`, confB, { mode: '0644' })) },
    { name: 'run.sh', run: (c) => c.run(ops.file(`${c.vars.bench_root}/bin/run.sh`, runSh, { mode: '0755' })) },
    { name: 'state.json', run: (c) => c.run(ops.file(`${c.vars.bench_root}/data/state.json`, stateJson, { mode: '0600' })) },
    {
      name: 'hosts.conf template',
      run: (c) =>
        c.run(ops.template(`${c.vars.bench_root}/etc/hosts.conf`, hostsConf, { host: c.host, address: c.vars.ansible_host ?? c.host, root: c.vars.bench_root }, { mode: '0644' })),
    },
    {
      name: 'settings: max_connections',
      run: (c) => c.run(ops.lineInFile(`${c.vars.bench_root}/etc/settings.conf`, { regexp: '^max_connections', line: 'max_connections = 100', create: true, mode: '0644' })),
    },
    { name: 'settings: log_level', run: (c) => c.run(ops.lineInFile(`${c.vars.bench_root}/etc/settings.conf`, { regexp: '^log_level', line: 'log_level = info' })) },
    {
      name: 'settings: limits block',
      run: (c) => c.run(ops.blockInFile(`${c.vars.bench_root}/etc/settings.conf`, 'limits', LIMITS_BLOCK, { marker: '# {mark} BENCH MANAGED BLOCK limits' })),
    },
    { name: 'current link', run: (c) => c.run(ops.link(`${c.vars.bench_root}/etc`, `${c.vars.bench_root}/current`)) },
    { name: 'app link', run: (c) => c.run(ops.link(`${c.vars.bench_root}/bin/run.sh`, `${c.vars.bench_root}/bin/app`)) },
    { name: 'ip_forward (read-only check)', run: (c) => c.run(ops.sysctl('net.ipv4.ip_forward', c.vars.bench_ip_forward, { persist: false })) },
    {
      name: 'initialise once',
      run: (c) => c.run(ops.command(`date > ${quote(`${c.vars.bench_root}/data/initialized`)}`, { creates: `${c.vars.bench_root}/data/initialized` })),
    },
    {
      name: 'mark unless marked',
      run: (c) => c.run(ops.command(`echo bench >> ${quote(`${c.vars.bench_root}/data/marks`)}`, { unless: `grep -qx bench ${quote(`${c.vars.bench_root}/data/marks`)}` })),
    },
  ],
});

// No task reads a fact (the sysctl is a read-only check, file ops keep owners without one):
// facts are not gathered, as the floor gathers none (Ansible's twin: gather_facts: false).
await main({ name: 'checks20', plays: [{ name: 'checks20', hosts: 'all', gatherFacts: false, roles: [checks] }] });

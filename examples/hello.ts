// The smallest useful playbook: a managed file, a directory and a namespaced sysctl on every
// host. `npx tsx examples/hello.ts -i inventory/lab.yaml` (inside the lab namespace).
import { defineRole, main, ops, z } from 'drover';

const hello = defineRole({
  name: 'hello',
  vars: z.object({ hello_message: z.string().default('managed by drover') }),
  tasks: [
    { name: 'state directory', run: (c) => c.run(ops.directory('/etc/drover', { mode: '0755' })) },
    {
      name: 'motd line',
      run: (c) => c.run(ops.file('/etc/drover/hello', `${c.vars.hello_message} on ${c.host} (${c.facts.os.id} ${c.facts.os.version})\n`, { mode: '0644' })),
    },
    { name: 'ip forwarding', run: (c) => c.run(ops.sysctl('net.ipv4.ip_forward', '1', { file: '/etc/sysctl.d/90-drover-hello.conf' })) },
  ],
});

await main({ name: 'hello', plays: [{ name: 'hello', hosts: 'all', roles: [hello] }] });

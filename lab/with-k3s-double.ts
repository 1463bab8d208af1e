// The lab's main job with K3s: `tsx lab/with-k3s-double.ts PLAYBOOK [playbook args...]`.
// The lab has no internet and no K3s binary can be downloaded here, so the K3s test double
// (test/doubles/k3s: a stand-in for the k3s binary on a real etcd, NOT real K3s) is served from
// the controller as a K3s release laid out like GitHub's, and the playbook gets its URL as
// `-e k3s_release_url=...`. The roles download it, check it against its sha256sum file and
// install it exactly as they would install the real release on hosts with internet.
// The playbook runs inside the lab namespace; its exit code is this script's.
import { spawn } from 'node:child_process';
import { LAB_NETNS, labSsh } from './index.ts';
import { DEFAULT_K3S_VERSION, prepareK3sHosts, startK3sRelease } from '../test/lab/support/k3s-double.ts';

const [playbook, ...args] = process.argv.slice(2);
if (!playbook) {
  process.stderr.write('usage: tsx lab/with-k3s-double.ts PLAYBOOK [playbook args...]\n');
  process.exit(64);
}

const lab = { inventory: 'inventory/lab.yaml', sh: labSsh };
process.stderr.write(`lab: the K3s hosts get Debian's nodejs and etcd-server for the K3s test double (no real K3s can be downloaded here)\n`);
await prepareK3sHosts(lab);
const release = await startK3sRelease([DEFAULT_K3S_VERSION]);
process.stderr.write(`lab: serving the K3s test double ${DEFAULT_K3S_VERSION} as the K3s release at ${release.baseUrl}\n`);

const child = spawn('ip', ['netns', 'exec', LAB_NETNS, process.execPath, ...process.execArgv, playbook, ...args, '-e', `k3s_release_url=${release.baseUrl}`], {
  stdio: 'inherit',
});
// Ctrl-C reaches the playbook through the terminal's process group; a SIGTERM sent to this
// script alone is passed on, so the playbook stops gracefully (exit 143) either way.
process.on('SIGTERM', () => child.kill('SIGTERM'));
process.on('SIGINT', () => {});
const code = await new Promise<number>((resolve) => child.once('exit', (c, sig) => resolve(c ?? (sig === 'SIGINT' ? 130 : 143))));
await release.stop();
process.exit(code);

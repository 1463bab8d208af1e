// Entry point of the k3s test double: one multicall executable like the real k3s binary
// (k3s server | agent | kubectl | --version; kubectl through a symlink named kubectl).
import { basename } from 'node:path';
import { runAgent } from './agent.ts';
import { COMMIT, VERSION } from './common.ts';
import { kubectl } from './kubectl.ts';
import { certificateRotate, runServer } from './server.ts';

const GO_VERSION = 'go1.22.9';

async function main(argv: string[]): Promise<number> {
  const self = basename(process.argv[1] ?? 'k3s');
  if (self === 'kubectl') return kubectl(argv);
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case '--version':
    case '-v':
    case 'version':
      process.stdout.write(`k3s version ${VERSION} (${COMMIT})\ngo version ${GO_VERSION}\n`);
      return 0;
    case 'server':
      await runServer(rest);
      return -1;
    case 'agent':
      await runAgent(rest);
      return -1;
    case 'kubectl':
      return kubectl(rest);
    case 'certificate':
      if (rest[0] === 'rotate') {
        certificateRotate(rest.slice(1));
        return 0;
      }
      break;
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(`NAME:\n   k3s - Kubernetes, but small and simple (test double ${VERSION})\n\nCOMMANDS:\n   server   Run management server\n   agent    Run node agent\n   kubectl  Run kubectl\n   certificate rotate\n`);
      return 0;
  }
  process.stderr.write(`Incorrect Usage: command "${cmd}" is not implemented by the k3s test double\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`time="${new Date().toISOString()}" level=fatal msg=${JSON.stringify((e as Error).message)}\n`);
    process.exit(1);
  },
);

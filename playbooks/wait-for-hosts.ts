// Wait until every host of a pattern accepts SSH and has finished cloud-init (freshly created
// VMs), then exit 0; exit 4 naming each host not ready by --timeout (lib/cli/wait.ts).
//   npx tsx playbooks/wait-for-hosts.ts -i hosts.ini [PATTERN] [--timeout 600] [--accept-new-host-keys]
import { runWaitCommand } from '../lib/cli/wait.ts';

process.exitCode = await runWaitCommand(process.argv.slice(2));

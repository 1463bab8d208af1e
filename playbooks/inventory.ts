// `drover inventory` without the package's bin: the inventory as Drover resolved it, in
// ansible-inventory's shapes (lib/cli/inventory.ts).
//   npx tsx playbooks/inventory.ts -i inventory/lab.yaml --list | --host master1 | --graph
import { runInventoryCommand } from '../lib/cli/inventory.ts';

process.exitCode = await runInventoryCommand(process.argv.slice(2));

// K3s only (preflight, servers one at a time, agents), on hosts already prepared by base and
// k3s-prereqs and behind a running API VIP (playbooks/lb.ts):
//   npx tsx playbooks/k3s.ts -i inventory/lab.yaml [--check] [--limit workers]
import { main } from 'drover';
import { k3sPlays, unsafeRollFrom } from './plays/k3s.ts';

await main({ name: 'k3s', plays: ({ options }) => k3sPlays({ unsafeRoll: unsafeRollFrom(options.extraVars) }) });

// Upgrade (or roll a config change through) the K3s cluster: servers one at a time, each
// ready and an etcd voter again before the next, the roll stopping at the first server that
// does not come back (exit 2, the rest untouched); then agents one at a time
// (docs.k3s.io/upgrades/manual: "upgrade server nodes first one at a time, then any agent nodes").
//   npx tsx playbooks/k3s-upgrade.ts -i inventory/lab.yaml -e k3s_version=v1.31.13+k3s1
// Setting k3s_version in the inventory and running site.ts does the same roll, with the agents
// in site's batches (one, then the rest).
import { main } from 'drover';
import { k3sPlays, unsafeRollFrom } from './plays/k3s.ts';

await main({ name: 'k3s-upgrade', plays: ({ options }) => k3sPlays({ unsafeRoll: unsafeRollFrom(options.extraVars), agentSerial: 1 }) });

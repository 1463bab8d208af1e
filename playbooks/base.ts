// Host foundation only: base on every host, then k3s-prereqs on the K3s nodes.
//   npx tsx playbooks/base.ts -i inventory/lab.yaml
import { main } from 'drover';
import { foundationPlays } from './plays/base.ts';

await main({ name: 'base', plays: foundationPlays });

// npx tsx playbooks/lb.ts -i inventory/lab.yaml [--check --diff --limit ... -e k=v]
import { main } from 'drover';
import { lbPlays } from './plays/lb.ts';

await main({ name: 'lb', plays: lbPlays });

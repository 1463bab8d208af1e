// The lab benchmark's playbook: the seed-004 foundation and load balancers, exactly the
// project's plays (playbooks/plays): base on every host, k3s-prereqs on the K3s nodes, then
// haproxy + keepalived on the load balancers. PostgreSQL is left out (not in the list).
//   ip netns exec lab node --import tsx bench/playbooks/lab-site.ts -i inventory/lab.yaml
import { main } from 'drover';
import { foundationPlays } from '../../playbooks/plays/base.ts';
import { lbPlays } from '../../playbooks/plays/lb.ts';

await main({ name: 'lab-site', plays: [...foundationPlays, ...lbPlays] });

// The lab benchmark's playbook: the seed-004 foundation, load balancers and K3s, exactly the
// project's plays (playbooks/plays): base on every host, k3s-prereqs on the K3s nodes,
// haproxy + keepalived on the load balancers, then K3s (preflight, servers one at a time,
// agents: the K3s test double on the lab). PostgreSQL is left out (not in the list).
//   ip netns exec lab node --import tsx bench/playbooks/lab-site.ts -i inventory/lab.yaml
import { main } from 'drover';
import { foundationPlays } from '../../playbooks/plays/base.ts';
import { k3sPlays } from '../../playbooks/plays/k3s.ts';
import { lbPlays } from '../../playbooks/plays/lb.ts';

await main({ name: 'lab-site', plays: [...foundationPlays, ...lbPlays, ...k3sPlays()] });

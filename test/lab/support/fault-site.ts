// site.ts without its K3s plays, for the fault tests that converge the whole lab several times
// (test/lab/faults-secrets.test.ts, faults-forks.test.ts): base and k3s-prereqs on every
// host, the load balancer pair, PostgreSQL primary and replica, in site.ts's own order and
// from the same play definitions (playbooks/plays/). The K3s plays need the K3s test double
// served as the release (test/lab/support/k3s-double.ts); test/lab/site.test.ts runs them.
// main from 'drover' (not lib/cli): the package's main, which wires in the terminal UI.
import { main } from 'drover';
import { foundationPlays } from '../../../playbooks/plays/base.ts';
import { dbPlays } from '../../../playbooks/plays/db.ts';
import { lbPlays } from '../../../playbooks/plays/lb.ts';

await main({ name: 'site (no K3s)', plays: [...foundationPlays, ...lbPlays, ...dbPlays] });

// The main job: `npx tsx playbooks/site.ts -i inventory/lab.yaml [--check] [--diff] [--limit ...]`.
// What it installs and in which order: playbooks/plays/site.ts.
import { main } from 'drover';
import { unsafeRollFrom } from './plays/k3s.ts';
import { sitePlaysWith, wantsTunnel } from './plays/site.ts';

await main({
  name: 'site',
  plays: ({ inventory, options }) => sitePlaysWith({ unsafeRoll: unsafeRollFrom(options.extraVars), tunnel: wantsTunnel(inventory, options.extraVars) }),
});

// The main job: `npx tsx playbooks/site.ts -i inventory/lab.yaml [--check] [--diff] [--limit ...]`.
// What it installs and in which order: playbooks/plays/site.ts.
import { main } from 'drover';
import { unsafeRollFrom } from './plays/k3s.ts';
import { sitePlaysWith } from './plays/site.ts';

await main({ name: 'site', plays: ({ options }) => sitePlaysWith({ unsafeRoll: unsafeRollFrom(options.extraVars) }) });

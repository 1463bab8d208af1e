#!/bin/sh
# The main job on a fresh machine: install prerequisites, boot the lab (inventory/lab.yaml),
# and run the site playbook against it from inside the lab namespace. Run as root.
# Extra arguments go to the playbook (e.g. --check --diff, --limit loadbalancers, --json).
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "lab/site.sh: the lab needs root (namespaces, mounts, nspawn)" >&2; exit 1; }
command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || {
  echo "lab/site.sh: Node.js 20 or later is needed (Debian 12's own nodejs is 18)" >&2; exit 1; }
sh lab/install-prereqs.sh >/dev/null
[ -d node_modules ] || npm ci --no-audit --no-fund
# The playbooks import the built package (dist/): bring it up to date with the sources.
npm run --silent build -- --no-types >/dev/null
npm run --silent lab -- up
# No K3s can be downloaded here: the K3s test double is served as the release (lab/with-k3s-double.ts).
exec ./node_modules/.bin/tsx lab/with-k3s-double.ts playbooks/site.ts -i inventory/lab.yaml "$@"

#!/bin/sh
# The main job on a fresh machine: install prerequisites, boot the lab (inventory/lab.yaml),
# and run the site playbook against it from inside the lab namespace. Run as root.
# Extra arguments go to the playbook (e.g. --check --diff, --limit loadbalancers, --json).
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "lab/site.sh: the lab needs root (namespaces, mounts, nspawn)" >&2; exit 1; }
sh lab/install-prereqs.sh >/dev/null
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent lab -- up
exec ip netns exec lab ./node_modules/.bin/tsx playbooks/site.ts -i inventory/lab.yaml "$@"

// --help text. Flags mirror ansible-playbook's so muscle memory works.
import { flagsUsage, type FlagSpecs } from './flags.ts';

/** `flags`: the playbook's own (main({ flags })), listed first. */
export function usage(prog: string, flags?: FlagSpecs): string {
  return `Usage: ${prog} -i INVENTORY [options]

Run this playbook against the hosts of an inventory.

${flagsUsage(flags)}Inventory and hosts
  -i, --inventory SRC      inventory file/dir, "h1,h2," list, or terraform output JSON (repeatable)
  -l, --limit PATTERN      further limit the hosts (Ansible pattern: 'lb', 'masters:&debian', 'all:!db1')
      --list-hosts         print the hosts each play would run on, then exit
      --list-tasks         print the tasks each play would run, then exit

What runs
  -C, --check              decide and report, change nothing
  -D, --diff               show content diffs of changed files
  -t, --tags TAGS          only tasks with these tags (comma list, repeatable)
      --skip-tags TAGS     skip tasks with these tags (comma list, repeatable)
  -e, --extra-vars VARS    KEY=VALUE, a JSON object, or @file.yaml|@file.json (repeatable, later wins)
  -f, --forks N            hosts worked on at once (default 10)

Connection (inventory variables win over these)
  -u, --user USER          login user
      --private-key FILE   private key file (repeatable)
      --known-hosts FILE   known_hosts file to verify host keys against (repeatable)
      --accept-new-host-keys  record unknown host keys (a changed key is still refused)
      --lock-wait SECONDS  wait this long for a host another run holds (default 60; 0 refuses)

Output
      --json               one JSON event per line on stdout (schema: lib/report/README.md)
  -v, --verbose            more output (-vv for even more)
  -h, --help               this help
      --version            print the version

Exit codes: 0 ok, 2 failed hosts, 4 unreachable hosts, 6 both, 64 bad usage,
65 invalid inventory/vars, 130 interrupted.
`;
}

// The pure parts of the lab bench over latency (bench/lib/relay.ts): ports, known_hosts for
// the relay ports, the inventory overlays each tool reads, the delay check, turns per run.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory, parseInventoryText } from '../../../lib/inventory/load.ts';
import { inventoryLookup } from '../../../lib/run/lookup.ts';
import { connectionFor } from '../../../lib/inventory/connection.ts';
import { delayProblems, droverRoundTrips, parseRtts, relayKnownHosts, relayOverlay, relayRoutes, turnsOfRun, withKnownHosts } from '../../../bench/lib/relay.ts';

const hosts = [
  { name: 'loadbalancer1', address: '10.17.4.30' },
  { name: 'master1', address: '10.17.4.21' },
];
const routes = relayRoutes(hosts, '10.17.4.1');

describe('bench relay set-up', () => {
  it('gives each host its own port on the bridge address, to its sshd', () => {
    expect(routes).toEqual([
      { name: 'loadbalancer1', listenHost: '10.17.4.1', listenPort: 22200, targetHost: '10.17.4.30', targetPort: 22 },
      { name: 'master1', listenHost: '10.17.4.1', listenPort: 22201, targetHost: '10.17.4.21', targetPort: 22 },
    ]);
    expect(() => relayRoutes(hosts, '10.17.4.1', 65535)).toThrow(/out of range/);
  });

  it('parses --rtt', () => {
    expect(parseRtts('0,20,80')).toEqual([0, 20, 80]);
    expect(() => parseRtts('0,x')).toThrow(/whole number/);
    expect(() => parseRtts('20,20')).toThrow(/repeated/);
    expect(() => parseRtts('')).toThrow(/no value/);
  });

  it('lists each host key under [bridge]:port', () => {
    const lab = 'loadbalancer1,10.17.4.30 ssh-ed25519 AAAAlb1\nmaster1,10.17.4.21 ssh-ed25519 AAAAm1\n';
    expect(relayKnownHosts(lab, routes)).toBe('[10.17.4.1]:22200 ssh-ed25519 AAAAlb1\n[10.17.4.1]:22201 ssh-ed25519 AAAAm1\n');
    expect(() => relayKnownHosts('loadbalancer1,10.17.4.30 ssh-ed25519 AAAAlb1\n', routes)).toThrow(/no host key for master1/);
  });

  it("Drover's overlay, given after the lab inventory, moves the connection to the relay and keeps ansible_host as the peers' address", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-relay-'));
    try {
      const base = 'all:\n  vars:\n    drover_known_hosts: /var/lib/drover-lab/known_hosts\n  children:\n    lbs:\n      hosts:\n        loadbalancer1: { ansible_host: 10.17.4.30 }\n    masters:\n      hosts:\n        master1: { ansible_host: 10.17.4.21 }\n';
      writeFileSync(join(dir, 'lab.yaml'), base);
      writeFileSync(join(dir, 'overlay.yaml'), relayOverlay(routes, 'drover', '/run/kh'));
      // What `-i inventory/lab.yaml -i overlay` gives.
      const inv = await loadInventory([join(dir, 'lab.yaml'), join(dir, 'overlay.yaml')]);
      const m1 = inv.hosts.get('master1')!;
      expect(m1.groups).toContain('masters');
      expect(m1.vars).toMatchObject({ ansible_host: '10.17.4.21', drover_host: '10.17.4.1', drover_port: 22201, drover_known_hosts: '/run/kh' });
      expect(connectionFor(m1)).toMatchObject({ address: '10.17.4.1', port: 22201, knownHostsFiles: ['/run/kh'] });
      expect(inventoryLookup(inv).addressOf('master1')).toBe('10.17.4.21');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("Ansible's overlay sets ansible_host/ansible_port", () => {
    const ov = parseInventoryText(relayOverlay(routes, 'ansible', '/run/kh'), 'overlay.yaml');
    expect(ov.hosts.get('loadbalancer1')!.vars).toEqual({ ansible_host: '10.17.4.1', ansible_port: 22200 });
  });

  it("swaps the known_hosts file of the floor's ssh", () => {
    const argv = ['ssh', '-o', 'UserKnownHostsFile=/var/lib/drover-lab/known_hosts', '-o', 'StrictHostKeyChecking=yes'];
    expect(withKnownHosts(argv, '/run/kh')).toEqual(['ssh', '-o', 'UserKnownHostsFile=/run/kh', '-o', 'StrictHostKeyChecking=yes']);
    expect(() => withKnownHosts(['ssh'], '/run/kh')).toThrow(/UserKnownHostsFile/);
  });

  it('checks the delay each relay adds against the RTT asked for', () => {
    // A slow sshd (relayMs far above 20 + directMs) is not the relay's doing: addedMs decides.
    const ok = { name: 'a', relayMs: 90.9, directMs: 60.4, addedMs: 20.6 };
    const slow = { name: 'b', relayMs: 26, directMs: 0.4, addedMs: 25.6 };
    expect(delayProblems([ok], 20, 3)).toEqual([]);
    expect(delayProblems([ok, slow], 20, 3)).toEqual(['b: the relay adds 25.60 ms to a round trip, not 20 ms (+-3)']);
    expect(delayProblems([{ name: 'c', relayMs: 0.5, directMs: 0.3, addedMs: 0.2 }], 0, 3)).toEqual([]);
  });

  it('counts the turns of one run per host from two readings', () => {
    const s = (turns: number, connections: number) => ({ turns, connections, bytesUp: 0, bytesDown: 0 });
    const before = { loadbalancer1: s(10, 1), master1: s(4, 1) };
    const after = { loadbalancer1: s(40, 2), master1: s(24, 3) };
    expect(turnsOfRun(before, after, ['loadbalancer1', 'master1'])).toEqual({ meanPerHost: 25, maxPerHost: 30, connections: 3 });
    expect(turnsOfRun({}, after, ['master1'])).toEqual({ meanPerHost: 24, maxPerHost: 24, connections: 3 });
    expect(() => turnsOfRun(before, after, ['nope'])).toThrow(/no route for nope/);
  });

  it("reads Drover's own round trips from the recap only when every host has them", () => {
    expect(droverRoundTrips({ hosts: { a: { roundTrips: 10 }, b: { roundTrips: 20 } } })).toBe(15);
    expect(droverRoundTrips({ hosts: { a: { roundTrips: 10 }, b: {} } })).toBeUndefined();
    expect(droverRoundTrips({})).toBeUndefined();
  });
});

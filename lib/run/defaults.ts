// The real inventory/transport/facts modules, loaded only when a caller did not inject its
// own: unit tests pass fakes and so never load ssh2.
import type { InventoryHost } from '../inventory/types.ts';
import type { ConnectionInput } from '../transport/connection.ts';
import type { ConnectHost, GatherFacts, SelectHosts } from './options.ts';

export async function defaultSelectHosts(): Promise<SelectHosts> {
  const { selectHosts } = await import('../inventory/index.ts');
  return selectHosts;
}

export async function defaultConnect(defaults?: Partial<ConnectionInput>, onNotice?: (host: string, message: string) => void): Promise<ConnectHost> {
  const [{ connectionFor }, { createTransport }] = await Promise.all([import('../inventory/index.ts'), import('../transport/index.ts')]);
  return (host) => createTransport(connectionFor(host, defaults), onNotice ? { onNotice: (m) => onNotice(host.name, m) } : {});
}

export async function defaultGatherFacts(): Promise<GatherFacts> {
  const { gatherFacts } = await import('../facts/index.ts');
  return gatherFacts;
}

/** Resolve every touched host's connection settings up front so a bad ansible_port is an
 *  input error (exit 65) before anything runs, not an "unreachable" host halfway through. */
export async function defaultCheckConnections(defaults?: Partial<ConnectionInput>): Promise<(host: InventoryHost) => void> {
  const { connectionFor } = await import('../inventory/index.ts');
  return (host) => void connectionFor(host, defaults);
}

// What k3s-prereqs takes from role base, its declared dependency (`dependencies: [baseRole]`):
// the role itself, its base_nftables_enabled flag, and the nftables allow-list this role adds
// its ports to (table, include directory, port syntax). The one place that imports role base.
export { baseRole, baseVars, NFT_INCLUDE_DIR, NFT_TABLE, parsePorts, portText } from '../base/index.ts';

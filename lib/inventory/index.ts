export type { Inventory, InventoryGroup, InventoryHost } from './types.ts';
export { loadInventory, parseInventoryText } from './load.ts';
export type { InventoryFormat } from './detect.ts';
export { selectHosts, type Selection } from './patterns.ts';
export { connectionFor } from './connection.ts';
export { layerVars } from './compile.ts';
export { validateVar, CONNECTION_VARS } from './known-vars.ts';
export { parseVarsText } from './vars-files.ts';

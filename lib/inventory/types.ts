import type { SourcePos } from '../errors.ts';

export interface InventoryHost {
  name: string;
  /** Merged vars, lowest to highest: all group, parent groups, child groups, group_vars/,
   *  host vars in the inventory, host_vars/. See README "Variable precedence". */
  vars: Record<string, unknown>;
  /** Where each top-level var's winning value was defined (for error messages). */
  origins: Record<string, SourcePos>;
  /** Every group the host belongs to, including 'all' and ancestors; sorted. */
  groups: string[];
}

export interface InventoryGroup {
  name: string;
  /** Direct hosts. */
  hosts: string[];
  children: string[];
  vars: Record<string, unknown>;
}

export interface Inventory {
  /** The -i argument(s) it came from. */
  sources: string[];
  /** In definition order. */
  hosts: Map<string, InventoryHost>;
  groups: Map<string, InventoryGroup>;
  /** Non-fatal findings while loading (skipped terraform outputs, vars files for unknown
   *  groups/hosts, empty files). Optional: added by lib/inventory. */
  warnings?: string[];
}

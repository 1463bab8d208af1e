// The parsers' common target: groups, hosts and every variable definition with the position
// it came from. compile.ts turns this into an Inventory (membership closure, precedence).
import { InputError, type SourcePos } from '../errors.ts';
import { validateVar } from './known-vars.ts';

export interface VarDef {
  value: unknown;
  pos: SourcePos;
}
/** Insertion-ordered; a later definition of the same name replaces the earlier one. */
export type VarDefs = Map<string, VarDef>;

export interface RawGroup {
  name: string;
  pos: SourcePos;
  /** Declared in a source (not only referenced by a `:vars` section). */
  declared: boolean;
  hosts: string[];
  children: string[];
  /** Where each child was attached (for cycle errors). */
  childPos: Map<string, SourcePos>;
  vars: VarDefs;
}

export interface RawHost {
  name: string;
  pos: SourcePos;
  vars: VarDefs;
}

const BUILTIN: SourcePos = { file: '<builtin>' };

export class RawInventory {
  readonly groups = new Map<string, RawGroup>();
  readonly hosts = new Map<string, RawHost>();
  /** group_vars/ files, per group, in load order. */
  readonly groupFileVars = new Map<string, VarDefs>();
  /** host_vars/ files, per host, in load order. */
  readonly hostFileVars = new Map<string, VarDefs>();
  readonly warnings: string[] = [];

  constructor() {
    this.group('all', BUILTIN);
    this.group('ungrouped', BUILTIN);
  }

  group(name: string, pos: SourcePos, declared = true): RawGroup {
    if (!name || /\s/.test(name)) throw new InputError('a group name must be non-empty and have no spaces', pos, name);
    let g = this.groups.get(name);
    if (!g) {
      g = { name, pos, declared, hosts: [], children: [], childPos: new Map(), vars: new Map() };
      this.groups.set(name, g);
    } else if (declared && !g.declared) {
      g.declared = true;
      g.pos = pos;
    }
    return g;
  }

  host(name: string, pos: SourcePos): RawHost {
    if (!name || /\s/.test(name)) throw new InputError('a host name must be non-empty and have no spaces', pos, name);
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, pos, vars: new Map() };
      this.hosts.set(name, h);
    }
    return h;
  }

  addHost(group: string, host: string, pos: SourcePos): RawHost {
    const g = this.group(group, pos);
    const h = this.host(host, pos);
    if (!g.hosts.includes(host)) g.hosts.push(host);
    return h;
  }

  addChild(parent: string, child: string, pos: SourcePos): void {
    if (child === 'all') throw new InputError('"all" cannot be a child group', pos, child);
    if (child === parent) throw new InputError(`group "${parent}" cannot be its own child`, pos, child);
    const p = this.group(parent, pos);
    this.group(child, pos);
    if (!p.children.includes(child)) {
      p.children.push(child);
      p.childPos.set(child, pos);
    }
  }

  setGroupVar(group: string, key: string, value: unknown, pos: SourcePos): void {
    validateVar(key, value, pos);
    this.group(group, pos, false).vars.set(key, { value, pos });
  }

  setHostVar(host: string, key: string, value: unknown, pos: SourcePos): void {
    validateVar(key, value, pos);
    this.host(host, pos).vars.set(key, { value, pos });
  }

  /** Add a vars file's definitions (already validated) for a group or host. */
  addFileVars(kind: 'group' | 'host', name: string, defs: VarDefs): void {
    const target = kind === 'group' ? this.groupFileVars : this.hostFileVars;
    let m = target.get(name);
    if (!m) target.set(name, (m = new Map()));
    for (const [k, d] of defs) m.set(k, d);
  }
}

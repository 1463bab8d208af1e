// Evaluating an inventory's Jinja, per host and lazily, as Ansible does: a variable's
// template is rendered in the context of the host it belongs to (its merged variables, -e
// extra vars on top, and the magic variables inventory_hostname, inventory_hostname_short,
// group_names, groups and hostvars), and a name it uses is itself rendered only when looked
// up, in its own host's context for hostvars[other][name]. Definition order does not matter;
// a variable that refers to itself (directly or through others) is an error.
//
// What is refused at load time (exit 65, file:line:col of the variable, the expression and
// what is unsupported): syntax errors, unknown filters/tests/functions/lookup plugins, and
// failures of a filter on its input. A template that needs a variable nobody defines (often an
// Ansible fact such as ansible_default_ipv4, which Drover does not gather into variables)
// becomes an Unresolved value instead: harmless while nothing uses it, an error naming the
// variable and the missing names as soon as a role or a connection needs it.
import { InputError, formatPos, type SourcePos } from '../errors.ts';
import { CONNECTION_VARS, validateVar } from './known-vars.ts';
import {
  isTemplate,
  recordError,
  renderTemplate,
  TemplateRuntimeError,
  TemplateSyntaxError,
  TemplateUndefined,
  TemplateUnsupported,
  type Scope,
} from './jinja-env.ts';
import type { Inventory, InventoryHost } from './types.ts';

export interface EvaluateOptions {
  /** -e extra vars: they win over inventory values inside templates too. */
  extraVars?: Record<string, unknown>;
  /** Base folder for lookup('file', ...). */
  cwd?: string;
}

/** A variable whose template needs names that are not defined when the inventory loads. */
export class Unresolved {
  constructor(
    readonly template: unknown,
    readonly key: string,
    readonly pos: SourcePos | undefined,
    readonly host: string,
    readonly reason: string,
    readonly missing: readonly string[],
  ) {}
  /** `drover inventory` shows the template unevaluated, as ansible-inventory does. */
  toJSON(): unknown {
    return this.template;
  }
  error(): InputError {
    return new InputError(`cannot evaluate ${excerpt(this.template)} for host "${this.host}": ${this.reason}`, this.pos, this.key);
  }
}

/** The first Unresolved among the top-level values of `vars` (optionally only `keys`). */
export function findUnresolved(vars: unknown, keys?: Iterable<string>): Unresolved | undefined {
  if (!vars || typeof vars !== 'object') return undefined;
  const rec = vars as Record<string, unknown>;
  for (const k of keys ?? Object.keys(rec)) if (rec[k] instanceof Unresolved) return rec[k];
  return undefined;
}

export function hasTemplate(v: unknown): boolean {
  if (isTemplate(v)) return true;
  if (Array.isArray(v)) return v.some(hasTemplate);
  if (v && typeof v === 'object') return Object.values(v).some(hasTemplate);
  return false;
}

function excerpt(t: unknown): string {
  const s = typeof t === 'string' ? t : JSON.stringify(t);
  const one = s.replace(/\s*\n\s*/g, ' ');
  return JSON.stringify(one.length > 160 ? one.slice(0, 157) + '...' : one);
}

const MAGIC = new Set(['inventory_hostname', 'inventory_hostname_short', 'group_names', 'groups', 'hostvars']);

type Slot = { value: unknown } | { error: unknown };

class Resolver {
  readonly scopes = new Map<string, HostScope>();
  readonly groups: Record<string, string[]>;
  readonly hostvars: Record<string, unknown>;

  constructor(
    readonly inv: Inventory,
    readonly extra: Record<string, unknown>,
    readonly cwd: string,
  ) {
    this.groups = groupHosts(inv);
    this.hostvars = new Proxy({} as Record<string, unknown>, {
      has: (_, h) => typeof h === 'string' && inv.hosts.has(h),
      get: (_, h) => (typeof h === 'string' && inv.hosts.has(h) ? this.scope(h).view : undefined),
      ownKeys: () => [...inv.hosts.keys()],
      getOwnPropertyDescriptor: (_, h) =>
        typeof h === 'string' && inv.hosts.has(h) ? { enumerable: true, configurable: true, value: this.scope(h).view } : undefined,
    });
  }

  scope(host: string): HostScope {
    let s = this.scopes.get(host);
    if (!s) this.scopes.set(host, (s = new HostScope(this, this.inv.hosts.get(host)!)));
    return s;
  }
}

class HostScope implements Scope {
  private readonly slots = new Map<string, Slot>();
  private readonly busy = new Set<string>();
  readonly cwd: string;
  /** hostvars[this host]: its variables, each rendered when read. */
  readonly view: Record<string, unknown>;

  constructor(
    private readonly r: Resolver,
    readonly host: InventoryHost,
  ) {
    this.cwd = r.cwd;
    const keys = () => [...new Set([...Object.keys(host.vars), ...Object.keys(r.extra), 'inventory_hostname', 'inventory_hostname_short', 'group_names', 'groups'])];
    const read = (k: string) => {
      try {
        return this.get(k);
      } catch (e) {
        recordError(e);
        throw e;
      }
    };
    this.view = new Proxy({} as Record<string, unknown>, {
      has: (_, k) => typeof k === 'string' && this.has(k) && k !== 'hostvars',
      get: (_, k) => (typeof k === 'string' && this.has(k) && k !== 'hostvars' ? read(k) : undefined),
      ownKeys: keys,
      getOwnPropertyDescriptor: (_, k) =>
        typeof k === 'string' && this.has(k) && k !== 'hostvars' ? { enumerable: true, configurable: true, value: read(k) } : undefined,
    });
  }

  has(name: string): boolean {
    return Object.hasOwn(this.r.extra, name) || Object.hasOwn(this.host.vars, name) || MAGIC.has(name);
  }

  get(name: string): unknown {
    const slot = this.slots.get(name);
    if (slot) {
      if ('error' in slot) throw slot.error;
      return slot.value;
    }
    if (this.busy.has(name)) {
      throw new TemplateRuntimeError(`recursive loop: "${name}" refers to itself (through ${[...this.busy].join(' -> ')})`);
    }
    this.busy.add(name);
    let out: Slot;
    try {
      out = { value: this.compute(name) };
    } catch (e) {
      // Blame the variable whose own template is at fault, not the one that used it.
      const own = !Object.hasOwn(this.r.extra, name) && Object.hasOwn(this.host.vars, name);
      const f = own && !(e instanceof TemplateUndefined) ? failure(e, this.host, name, this.host.vars[name]) : e;
      out = { error: f };
    } finally {
      this.busy.delete(name);
    }
    this.slots.set(name, out);
    if ('error' in out) throw out.error;
    return out.value;
  }

  private compute(name: string): unknown {
    if (Object.hasOwn(this.r.extra, name)) return this.render(this.r.extra[name]);
    if (Object.hasOwn(this.host.vars, name)) return this.render(this.host.vars[name]);
    const h = this.host;
    switch (name) {
      case 'inventory_hostname':
        return h.name;
      case 'inventory_hostname_short':
        return h.name.split('.')[0];
      case 'group_names':
        return h.groups.filter((g) => g !== 'all' && g !== 'ungrouped').sort();
      case 'groups':
        return this.r.groups;
      case 'hostvars':
        return this.r.hostvars;
    }
    return undefined;
  }

  private render(v: unknown): unknown {
    if (typeof v === 'string') return isTemplate(v) ? renderTemplate(v, this) : v;
    if (Array.isArray(v)) return v.map((x) => this.render(x));
    if (v && typeof v === 'object' && !(v instanceof Unresolved)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.render(x);
      return out;
    }
    return v;
  }
}

/**
 * Each group's hosts as Ansible's `groups` variable lists them: the group's own hosts, then
 * those of its descendants (children in order, breadth first), each once; `all` lists every
 * host in inventory order.
 */
export function groupHosts(inv: Inventory): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const g of inv.groups.values()) {
    const seen = new Set<string>();
    const order: string[] = [];
    const queue = [g.name];
    const visited = new Set<string>();
    while (queue.length) {
      const name = queue.shift()!;
      if (visited.has(name)) continue;
      visited.add(name);
      const grp = inv.groups.get(name);
      if (!grp) continue;
      for (const h of grp.hosts) if (!seen.has(h)) seen.add(h), order.push(h);
      queue.push(...grp.children);
    }
    out[g.name] = g.name === 'all' ? [...inv.hosts.keys()] : order;
  }
  return out;
}

/** The error a template failure becomes at `pos`/`key`, or an Unresolved for undefined names. */
function failure(e: unknown, host: InventoryHost, key: string, raw: unknown): InputError | Unresolved {
  const pos = host.origins[key];
  if (e instanceof InputError) return e;
  if (e instanceof TemplateUndefined) return new Unresolved(raw, key, pos, host.name, e.message, e.names);
  if (e instanceof TemplateUnsupported || e instanceof TemplateSyntaxError || e instanceof TemplateRuntimeError) {
    return new InputError(`cannot evaluate ${excerpt(raw)}: ${e.message}`, pos, key);
  }
  throw e;
}

/**
 * Render every templated variable of every host. Returns a new Inventory whose hosts' vars
 * hold values (or Unresolved); connection variables are validated again once rendered.
 * Throws InputError (exit 65) for what can never evaluate.
 */
export function evaluateInventory(inv: Inventory, opts: EvaluateOptions = {}): Inventory {
  const templated = [...inv.hosts.values()].some((h) => Object.values(h.vars).some(hasTemplate)) || hasTemplate(opts.extraVars ?? {});
  if (!templated) return inv;
  const r = new Resolver(inv, opts.extraVars ?? {}, opts.cwd ?? process.cwd());
  const hosts = new Map<string, InventoryHost>();
  for (const host of inv.hosts.values()) {
    const scope = r.scope(host.name);
    const vars: Record<string, unknown> = {};
    for (const [key, raw] of Object.entries(host.vars)) {
      if (!hasTemplate(raw)) {
        vars[key] = raw;
        continue;
      }
      let value: unknown;
      try {
        value = scope.get(key);
      } catch (e) {
        const f = failure(e, host, key, raw);
        if (f instanceof InputError) throw f;
        // A connection needs its variables before any fact could exist: refuse now.
        if (CONNECTION_VARS[key]) throw f.error();
        value = f;
      }
      if (CONNECTION_VARS[key]) validateVar(key, value, host.origins[key] ?? { file: `<vars of ${host.name}>` });
      vars[key] = value;
    }
    hosts.set(host.name, { ...host, vars });
  }
  return { ...inv, hosts };
}

/** For messages: where an Unresolved came from. */
export function describeUnresolved(u: Unresolved): string {
  return `${u.pos ? formatPos(u.pos) + ': ' : ''}${u.host}: ${u.key}: ${u.reason}`;
}

// Jinja templates in inventory and vars-file values, rendered with nunjucks (a well-kept
// Jinja2 implementation for JavaScript) made to behave like Ansible's Jinja:
//   - strict about what it does not know: every filter, test, function and lookup plugin a
//     template names is checked when it is compiled, so `{{ x | ipaddr }}` fails before
//     anything renders, even in a branch that would not run (Jinja2 does the same for filters);
//   - a template that is one expression (`"{{ groups['db'] }}"`) gives the expression's value
//     (a list, a number), as Ansible's native types do; text around it gives a string;
//   - values are written as Python writes them (True, None, ['a', 'b']), also by `~`;
//   - Python's str methods ('a,b'.split(',')), dict.items() and list slices work.
// Variables come from a Scope (jinja-resolve.ts), looked up lazily by name as rendering goes.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import nunjucks from 'nunjucks';
import { ansibleFilters, ansibleTests, FilterError, FQCN_PREFIX, STRING_METHODS, type FilterFn, type TestFn } from './jinja-filters.ts';
import { pyStr } from './jinja-python.ts';

/** Where a template's names are looked up (one host's variables, see jinja-resolve.ts). */
export interface Scope {
  has(name: string): boolean;
  get(name: string): unknown;
  /** Base folder for lookup('file', relative path). */
  cwd: string;
}

/** Something the template uses that Drover does not have: a filter, test, lookup, tag. Exit 65. */
export class TemplateUnsupported extends Error {}
/** The template is not valid Jinja. Exit 65. */
export class TemplateSyntaxError extends Error {}
/** Rendering needs a variable that is not defined (yet: facts are not known at load time). */
export class TemplateUndefined extends Error {
  constructor(
    message: string,
    readonly names: string[],
  ) {
    super(message);
  }
}
/** A filter or lookup failed on its input (from_json of bad JSON, a missing file). Exit 65. */
export class TemplateRuntimeError extends Error {}

const LOOKUPS = ['env', 'file'] as const;
const FUNCTIONS = new Set(['lookup', 'query', 'q', 'range', 'dict', 'cycler', 'joiner']);

export function isTemplate(v: unknown): v is string {
  return typeof v === 'string' && (v.includes('{{') || v.includes('{%') || v.includes('{#'));
}

// ---- nunjucks internals we build on (public exports of the package, untyped) ----------------
interface NjNode {
  typename: string;
  lineno: number;
  colno: number;
  fields: string[];
  [field: string]: unknown;
}
interface NjNodes {
  Literal: new (lineno: number, colno: number, value: unknown) => NjNode;
  FunCall: new (lineno: number, colno: number, name: NjNode, args: NjNode) => NjNode;
  Symbol: new (lineno: number, colno: number, value: string) => NjNode;
  NodeList: new (lineno: number, colno: number, children: NjNode[]) => NjNode;
}
interface NjCompiler {
  compile(node: NjNode): void;
  getCode(): string;
}
const nj = nunjucks as unknown as {
  nodes: NjNodes;
  parser: { parse(src: string, extensions: unknown[], opts: object): NjNode };
  compiler: { Compiler: new (name: string, throwOnUndefined: boolean) => NjCompiler };
  installJinjaCompat(): void;
  runtime: { memberLookup: (obj: unknown, val: unknown, ...rest: unknown[]) => unknown };
  lexer: { lex(src: string, opts: object): object };
};

interface Tokenizer {
  forward(): void;
  current(): string;
  isFinished(): boolean;
  _parseString(delimiter: string): string;
}

const PY_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0' };

/**
 * String literals as Python reads them: an unknown escape keeps its backslash, so
 * regex_replace('(v\d+)', '\1') sees the pattern and the group reference that Ansible's does
 * (nunjucks would drop the backslashes).
 */
function pythonStringLiterals(): void {
  const proto = Object.getPrototypeOf(nj.lexer.lex('', {})) as Tokenizer;
  proto._parseString = function parseString(this: Tokenizer, delimiter: string): string {
    this.forward();
    let str = '';
    while (!this.isFinished() && this.current() !== delimiter) {
      const cur = this.current();
      if (cur === '\\') {
        this.forward();
        const c = this.current();
        str += Object.hasOwn(PY_ESCAPES, c) ? PY_ESCAPES[c] : '\\' + c;
      } else str += cur;
      this.forward();
    }
    this.forward();
    return str;
  };
}
const transformer = createRequire(import.meta.url)('nunjucks/src/transformer.js') as {
  transform(ast: NjNode, asyncFilters: string[], name: string): NjNode;
};

let compatInstalled = false;
function installCompat(): void {
  if (compatInstalled) return;
  compatInstalled = true;
  // True/False/None, list slices, dict.items()/keys()/values()/get() (nunjucks' own Jinja mode).
  nj.installJinjaCompat();
  pythonStringLiterals();
  const inner = nj.runtime.memberLookup;
  nj.runtime.memberLookup = function memberLookup(this: unknown, obj: unknown, val: unknown, ...rest: unknown[]) {
    if (typeof obj === 'string' && typeof val === 'string' && Object.hasOwn(STRING_METHODS, val)) {
      const m = STRING_METHODS[val]!;
      return (...a: unknown[]) => m(obj, ...a);
    }
    const out = inner.call(this, obj, val, ...rest);
    // A slice of a string (version[1:]) is a string in Python; nunjucks' slice gives a list.
    return typeof obj === 'string' && rest.length && Array.isArray(out) ? out.join('') : out;
  };
}

// ---- the rendering state: which scope, what was captured, which names were missing -----------
interface RenderState {
  scope: Scope;
  captured: unknown;
  missing: Set<string>;
  error?: unknown;
}
let state: RenderState | undefined;

/** Remember an error raised while rendering (a nested variable's), to report it, not nunjucks' text. */
export function recordError(err: unknown): void {
  if (state) state.error ??= err;
}

/** Run a filter/test/function and remember its error: nunjucks re-wraps errors as plain text. */
function guarded<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => R {
  return (...a: A) => {
    try {
      return fn(...a);
    } catch (e) {
      recordError(e);
      throw e;
    }
  };
}

function pyType(v: unknown): string {
  return v === null ? 'NoneType' : typeof v === 'string' ? 'str' : typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'dict' : typeof v;
}

function hasUndefined(v: unknown): boolean {
  if (v === undefined) return true;
  if (Array.isArray(v)) return v.some(hasUndefined);
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v).some(hasUndefined);
  return false;
}

function undefinedError(): TemplateUndefined {
  const names = [...(state?.missing ?? [])];
  return names.length
    ? new TemplateUndefined(`undefined variable${names.length > 1 ? 's' : ''}: ${names.join(', ')}`, names)
    : new TemplateUndefined('the expression is undefined (a missing key or attribute)', []);
}

function lookup(kind: unknown, ...terms: unknown[]): unknown[] {
  const name = String(kind).replace(/^ansible\.builtin\./, '');
  const plain = terms.filter((t) => !(t && typeof t === 'object' && (t as { __keywords?: boolean }).__keywords));
  if (name === 'env') return plain.map((t) => process.env[pyStr(t)] ?? '');
  if (name === 'file') {
    return plain.map((t) => {
      const path = resolve(state?.scope.cwd ?? process.cwd(), pyStr(t));
      try {
        return readFileSync(path, 'utf8').replace(/\s+$/, '');
      } catch (e) {
        throw new TemplateRuntimeError(`lookup('file'): cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    });
  }
  throw new TemplateUnsupported(`lookup plugin "${name}" is not supported (Drover has: ${LOOKUPS.join(', ')})`);
}

const HELPERS: Record<string, unknown> = {
  // Output of {{ expr }} inside text: Python's str(), None as '' (Ansible's finalize);
  // undefined is an error, as in Ansible.
  __drover_out: guarded((v: unknown) => {
    if (hasUndefined(v)) throw undefinedError();
    return v === null ? '' : pyStr(v);
  }),
  // `+`: lists concatenate and strings join as in Python; JavaScript would make "a,b" + "c".
  __drover_add: guarded((a: unknown, b: unknown) => {
    if (a === undefined || b === undefined) throw undefinedError();
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    if (typeof a === 'boolean' || typeof b === 'boolean') return Number(a) + Number(b);
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    throw new TemplateRuntimeError(`unsupported operand types for +: ${pyType(a)} and ${pyType(b)}`);
  }),
  __drover_capture: guarded((v: unknown) => {
    if (hasUndefined(v)) throw undefinedError();
    state!.captured = v;
    return '';
  }),
  __drover_concat: guarded((a: unknown, b: unknown) => {
    if (a === undefined || b === undefined) throw undefinedError();
    return pyStr(a) + pyStr(b);
  }),
  __drover_test: guarded((name: unknown, value: unknown, ...args: unknown[]) => {
    const fn = (environment() as unknown as { tests: Record<string, TestFn> }).tests[String(name)]!;
    return Boolean(fn(value, ...args));
  }),
  lookup: guarded((kind: unknown, ...terms: unknown[]) => {
    const out = lookup(kind, ...terms);
    const kw = terms.at(-1) as { __keywords?: boolean; wantlist?: boolean } | undefined;
    return kw?.__keywords && kw.wantlist ? out : out.length === 1 ? out[0] : out.map(pyStr).join(',');
  }),
  query: guarded((kind: unknown, ...terms: unknown[]) => lookup(kind, ...terms)),
  dict: (...a: unknown[]) => {
    const kw = a.at(-1) as Record<string, unknown> | undefined;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(kw ?? {})) if (k !== '__keywords') out[k] = v;
    return out;
  },
};
HELPERS.q = HELPERS.query;

// ---- the environment ------------------------------------------------------------------------
let env: nunjucks.Environment | undefined;
let filterNames: Set<string>;
let testNames: Set<string>;

function environment(): nunjucks.Environment {
  if (env) return env;
  installCompat();
  const e = new nunjucks.Environment([], { autoescape: false, throwOnUndefined: false });
  const base = (e as unknown as { globals: Record<string, unknown> }).globals;
  const globals = new Proxy(base, {
    has(target, key) {
      if (typeof key !== 'string') return false;
      if (key in HELPERS || key in target) return true;
      if (state?.scope.has(key)) return true;
      if (state && key !== 'True' && key !== 'False' && key !== 'None') state.missing.add(key);
      return false;
    },
    get(target, key) {
      if (typeof key !== 'string') return undefined;
      if (key in HELPERS) return HELPERS[key];
      if (state?.scope.has(key)) {
        const s = state;
        try {
          return s.scope.get(key);
        } catch (err) {
          s.error ??= err;
          throw err;
        }
      }
      return target[key];
    },
  });
  (e as unknown as { globals: Record<string, unknown> }).globals = globals;

  const apply = (name: string, value: unknown, args: unknown[]) => {
    const fn = (e as unknown as { filters: Record<string, FilterFn> }).filters[name];
    if (!fn) throw new TemplateUnsupported(`unknown filter "${name}"`);
    return fn(value, ...args);
  };
  const test = (name: string, value: unknown, args: unknown[]) => {
    const fn = (e as unknown as { tests: Record<string, TestFn> }).tests[name];
    if (!fn) throw new TemplateUnsupported(`unknown test "${name}"`);
    return fn(value, ...args);
  };
  const filters = ansibleFilters(apply, test);
  for (const [name, fn] of Object.entries(filters)) {
    e.addFilter(name, guarded(fn));
    e.addFilter(FQCN_PREFIX + name, guarded(fn));
  }
  // addTest exists on nunjucks' Environment but not in its type definitions.
  const addTest = (e as unknown as { addTest(name: string, fn: TestFn): void }).addTest.bind(e);
  for (const [name, fn] of Object.entries(ansibleTests())) {
    addTest(name, guarded(fn));
    addTest(FQCN_PREFIX + name, guarded(fn));
  }
  // nunjucks built-ins that are not Jinja/Ansible filters, or behave differently and have no
  // override above: removed, so using them is "unknown" rather than silently different.
  const builtinFilters = (e as unknown as { filters: Record<string, unknown> }).filters;
  for (const n of ['dump', 'nl2br', 'random', 'striptags', 'urlize', 'safe', 'escape', 'e', 'forceescape']) delete builtinFilters[n];
  const builtinTests = (e as unknown as { tests: Record<string, unknown> }).tests;
  for (const n of ['escaped', 'null', 'falsy', 'truthy', 'callable']) delete builtinTests[n];
  filterNames = new Set(Object.keys(builtinFilters));
  testNames = new Set(Object.keys(builtinTests));
  env = e;
  return e;
}

/** Filter and test names a template may use (for messages and docs). */
export function supportedNames(): { filters: string[]; tests: string[]; lookups: string[] } {
  environment();
  const plain = (s: Set<string>) => [...s].filter((n) => !n.startsWith(FQCN_PREFIX)).sort();
  return { filters: plain(filterNames), tests: plain(testNames), lookups: [...LOOKUPS] };
}

// ---- compiling: parse, refuse what is unknown, rewrite outputs, compile --------------------
interface Compiled {
  /** One expression: the value is the expression's (native types). */
  native: boolean;
  tpl: nunjucks.Template;
}
const cache = new Map<string, Compiled | Error>();

function childNodes(node: NjNode): NjNode[] {
  const out: NjNode[] = [];
  for (const f of node.fields) {
    const v = node[f];
    if (Array.isArray(v)) out.push(...(v as NjNode[]).filter((x) => x && typeof x === 'object' && 'typename' in x));
    else if (v && typeof v === 'object' && 'typename' in v) out.push(v as NjNode);
  }
  return out;
}

function symbolName(n: unknown): string | undefined {
  const node = n as NjNode | undefined;
  return node?.typename === 'Symbol' ? String(node.value) : undefined;
}

/** `ansible.builtin.version` after `is` parses as attribute lookups: the dotted name, if it is one. */
function dottedName(n: unknown): string | undefined {
  const node = n as NjNode | undefined;
  if (node?.typename === 'Symbol') return String(node.value);
  if (node?.typename === 'LookupVal') {
    const val = node.val as NjNode;
    const head = dottedName(node.target);
    if (head !== undefined && val.typename === 'Literal' && typeof val.value === 'string') return `${head}.${val.value}`;
  }
  return undefined;
}

function check(root: NjNode): void {
  const macros = new Set<string>();
  const walk = (n: NjNode, visit: (n: NjNode) => void) => {
    visit(n);
    for (const c of childNodes(n)) walk(c, visit);
  };
  walk(root, (n) => {
    if (n.typename === 'Macro') macros.add(symbolName(n.name) ?? '');
  });
  walk(root, (n) => {
    switch (n.typename) {
      case 'Filter': {
        const name = symbolName(n.name) ?? '';
        if (!filterNames.has(name)) throw new TemplateUnsupported(`unknown filter "${name}"`);
        break;
      }
      case 'Is': {
        const right = n.right as NjNode;
        const call = right.typename === 'FunCall';
        // `is none` / `is true` parse as literals in nunjucks; Jinja reads them as test names.
        const literal = right.typename === 'Literal' && (right.value === null || typeof right.value === 'boolean') ? String(right.value ?? 'none') : undefined;
        const name = literal ?? (call ? dottedName(right.name) : dottedName(right)) ?? '';
        if (!testNames.has(name)) throw new TemplateUnsupported(`unknown test "${name}"`);
        // Rendered through __drover_test (see rewrite): nunjucks' own `is` takes one argument at most.
        n.testName = name;
        if (call) right.isTest = true; // its arguments are the test's, not a function call
        break;
      }
      case 'FunCall': {
        const name = symbolName(n.name);
        if (name === undefined || n.isTest) break; // a method call (x.split(',')): checked when it runs
        if (!FUNCTIONS.has(name) && !macros.has(name)) throw new TemplateUnsupported(`unknown function "${name}()"`);
        if (name === 'lookup' || name === 'query' || name === 'q') {
          const first = (n.args as NjNode).children as NjNode[] | undefined;
          const kind = first?.[0];
          if (kind?.typename === 'Literal' && typeof kind.value === 'string') {
            const plugin = kind.value.replace(/^ansible\.builtin\./, '');
            if (!(LOOKUPS as readonly string[]).includes(plugin)) {
              throw new TemplateUnsupported(`lookup plugin "${kind.value}" is not supported (Drover has: ${LOOKUPS.join(', ')})`);
            }
          }
        }
        break;
      }
      case 'Include':
      case 'Extends':
      case 'Import':
      case 'FromImport':
      case 'Block':
      case 'CallExtension':
      case 'CallExtensionAsync':
        throw new TemplateUnsupported(`{% ${n.typename.toLowerCase()} %} is not supported in a variable's value`);
    }
  });
}

function call(at: NjNode, name: string, args: NjNode[]): NjNode {
  return new nj.nodes.FunCall(at.lineno, at.colno, new nj.nodes.Symbol(at.lineno, at.colno, name), new nj.nodes.NodeList(at.lineno, at.colno, args));
}

/** Rewrite outputs and `~` to go through Python's str(); mark a lone expression for capture. */
function rewrite(root: NjNode): boolean {
  const top = root.children as NjNode[];
  const lone = top.length === 1 && top[0]!.typename === 'Output' && (top[0]!.children as NjNode[]).length === 1 && (top[0]!.children as NjNode[])[0]!.typename !== 'TemplateData';
  const visit = (n: NjNode) => {
    for (const f of n.fields) {
      const v = n[f];
      if (Array.isArray(v)) {
        v.forEach((c: NjNode, i) => {
          if (c && typeof c === 'object' && 'typename' in c) v[i] = fix(c, n);
        });
      } else if (v && typeof v === 'object' && 'typename' in v) n[f] = fix(v as NjNode, n);
    }
  };
  const fix = (c: NjNode, parent: NjNode): NjNode => {
    visit(c);
    let node = c;
    if (c.typename === 'Concat') node = call(c, '__drover_concat', [c.left as NjNode, c.right as NjNode]);
    if (c.typename === 'Add') node = call(c, '__drover_add', [c.left as NjNode, c.right as NjNode]);
    if (c.typename === 'Is') {
      const right = c.right as NjNode;
      const args = right.typename === 'FunCall' ? ((right.args as NjNode).children as NjNode[]) : [];
      node = call(c, '__drover_test', [new nj.nodes.Literal(c.lineno, c.colno, String(c.testName)), c.left as NjNode, ...args]);
    }
    if (parent.typename === 'Output' && c.typename !== 'TemplateData') return call(c, lone ? '__drover_capture' : '__drover_out', [node]);
    return node;
  };
  visit(root);
  return lone;
}

function compile(src: string): Compiled {
  const e = environment();
  const hit = cache.get(src);
  if (hit instanceof Error) throw hit;
  if (hit) return hit;
  try {
    let ast: NjNode;
    try {
      ast = nj.parser.parse(src, [], { autoescape: false });
    } catch (err) {
      throw new TemplateSyntaxError(`template syntax error: ${cleanMessage(err)}`);
    }
    check(ast);
    ast = transformer.transform(ast, [], 'value');
    const native = rewrite(ast);
    const c = new nj.compiler.Compiler('value', false);
    c.compile(ast);
    const props = new Function(c.getCode())() as object;
    const tpl = new nunjucks.Template({ type: 'code', obj: props } as unknown as string, e, 'value');
    const out = { native, tpl };
    cache.set(src, out);
    return out;
  } catch (err) {
    if (err instanceof TemplateUnsupported || err instanceof TemplateSyntaxError) cache.set(src, err);
    throw err;
  }
}

/** nunjucks' "(unknown path) [Line 1, Column 5]\n  Error: x" as "x (line 1, column 5)". */
function cleanMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  const pos = /\[Line (\d+), Column (\d+)\]/.exec(m);
  const text = m.replace(/^\(unknown path\)\s*(\[Line \d+, Column \d+\])?\s*/, '').replace(/^\s*(Template render error: )?(\w*Error: )?/, '').trim();
  return pos ? `${text} (line ${pos[1]}, column ${pos[2]} of the template)` : text;
}

/** Check a template without rendering it: syntax, filters, tests, functions, lookups. */
export function checkTemplate(src: string): void {
  compile(src);
}

/** Render one template string in a scope. Throws the Template* errors above. */
export function renderTemplate(src: string, scope: Scope): unknown {
  const c = compile(src);
  const prev = state;
  const mine: RenderState = { scope, captured: undefined, missing: new Set() };
  state = mine;
  try {
    const out = c.tpl.render({});
    return c.native ? mine.captured : out;
  } catch (err) {
    const cause = mine.error;
    if (cause instanceof TemplateUndefined || cause instanceof TemplateUnsupported || cause instanceof TemplateRuntimeError) throw cause;
    if (cause && !(cause instanceof FilterError)) throw cause; // a nested variable's own error (cycle, unsupported)
    if (cause instanceof FilterError) throw new TemplateRuntimeError(cause.message);
    const msg = cleanMessage(err);
    // A call of something undefined (a missing variable used as a function, a method that
    // does not exist on the value) is reported as nunjucks words it, with missing names.
    if (mine.missing.size && /undefined|falsey/.test(msg)) throw new TemplateUndefined(`${undefinedError().message} (${msg})`, [...mine.missing]);
    throw new TemplateRuntimeError(msg);
  } finally {
    state = prev;
  }
}

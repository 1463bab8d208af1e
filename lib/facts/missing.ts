// Facts of a host that were not gathered (a play with gatherFacts: false, before any play
// gathered them). They are not guessed: a stand-in that said "no package manager" or "not
// root" would quietly turn an install into a skip. Reading any fact but the host name throws
// FactsNotGathered, so the op (or `when`) that needs it fails with a message saying which
// fact and why; code that needs no facts runs as usual.
import type { Facts } from './types.ts';

export class FactsNotGathered extends Error {
  constructor(
    readonly host: string,
    readonly fact: string,
  ) {
    super(
      `${host}: needs the fact "${fact}", which was not gathered (the play has gatherFacts: false and no earlier play gathered facts for this host): set gatherFacts: true on the play`,
    );
    this.name = 'FactsNotGathered';
  }
}

const MISSING = Symbol('drover.factsNotGathered');

/** Keys that inspection and promise machinery read from any object: they must not throw. */
const INERT = new Set(['then', 'toJSON', 'constructor', 'asymmetricMatch', '$$typeof', 'nodeType', 'tagName', '@@__IMMUTABLE_ITERABLE__@@', '@@__IMMUTABLE_RECORD__@@', 'toString', 'valueOf']);

/** Stand-in facts: the host name is known, every other fact throws FactsNotGathered when read. */
export function missingFacts(host: string): Facts {
  const target = { hostname: host } as Record<PropertyKey, unknown>;
  return new Proxy(target, {
    get(t, key) {
      if (key === MISSING) return true;
      if (typeof key === 'symbol' || key === 'hostname' || INERT.has(key)) return t[key];
      throw new FactsNotGathered(host, key);
    },
  }) as unknown as Facts;
}

/** False for the stand-in of missingFacts(). */
export function factsGathered(f: Facts): boolean {
  return (f as unknown as Record<PropertyKey, unknown>)[MISSING] !== true;
}

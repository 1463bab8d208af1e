export * from './types.ts';
export { gatherFacts, FactsError } from './gather.ts';
export { parseFactsOutput, parseOsRelease, osFamily, splitSections, formatIpv6 } from './parse.ts';
export { PROBE_SCRIPT, SECTION_PREFIX } from './probe.ts';
export { missingFacts, factsGathered, FactsNotGathered } from './missing.ts';

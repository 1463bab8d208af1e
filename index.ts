// The package entry, `import { ... } from 'drover'`: the library (lib/index.ts) plus main() and
// runPlaybook() with the terminal UI wired in (cli/main.ts).
export * from './lib/index.ts';
export { main, runPlaybook } from './cli/main.ts';

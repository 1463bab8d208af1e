// logrus-style lines on stderr, as K3s writes them (the journal keeps them):
// time="2026-12-06T22:30:00Z" level=info msg="Starting k3s v1.31.4+k3s1 (1b2c3d4e)"
export type Level = 'debug' | 'info' | 'warning' | 'error' | 'fatal';

let debugOn = false;
export function setDebug(on: boolean): void {
  debugOn = on;
}

export function log(level: Level, msg: string): void {
  if (level === 'debug' && !debugOn) return;
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  process.stderr.write(`time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`);
}

export const info = (m: string) => log('info', m);
export const warn = (m: string) => log('warning', m);
export const error = (m: string) => log('error', m);
export const debug = (m: string) => log('debug', m);

export class FatalError extends Error {}

/** Log at fatal level and exit 1, the way logrus.Fatalf ends a K3s process. */
export function fatal(msg: string): never {
  log('fatal', msg);
  process.exit(1);
}

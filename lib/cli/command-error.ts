// How a Drover subcommand (inventory, wait-for-hosts) ends on an error: usage errors with a
// pointer to its --help (exit 64), bad input (exit 65), anything else as an internal error
// with its stack (exit 1); every line redacted.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EXIT, InputError, UsageError } from '../errors.ts';
import { redact } from '../secrets/redact.ts';

export function reportCommandError(e: unknown, stderr: { write(s: string): unknown }, command: string): number {
  if (e instanceof UsageError) {
    stderr.write(redact(`error: ${e.message}`) + `\n(drover ${command} --help shows the options)\n`);
    return EXIT.usage;
  }
  if (e instanceof InputError) {
    stderr.write(redact(`error: ${e.message}`) + '\n');
    return EXIT.invalidInput;
  }
  stderr.write(redact(`internal error: ${e instanceof Error && e.stack ? e.stack : String(e)}`) + '\n');
  return EXIT.internal;
}

/** A subcommand's flags, strict, with node's parse errors as UsageError (exit 64). */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

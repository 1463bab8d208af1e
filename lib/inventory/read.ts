// Reading inventory files: a file or folder that exists but cannot be read (permissions, a
// special file) is bad input (exit 65, naming it), not an internal error.
import { InputError } from '../errors.ts';

export async function readable<T>(p: Promise<T>, file: string): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { file });
  }
}

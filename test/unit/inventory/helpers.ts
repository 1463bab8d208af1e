import { fileURLToPath } from 'node:url';
import { InputError } from '../../../lib/errors.ts';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/inventory/', import.meta.url));

/** Run fn, expect an InputError, return it (fails the test otherwise). */
export function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError, none was thrown');
}

export async function inputErrorAsync(fn: () => Promise<unknown>): Promise<InputError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError, none was thrown');
}

// Errors of put()/get() other than validation (PutValidateError lives in the contract).

/** put() failed for a reason other than validation (no permission, no such directory...). */
export class PutError extends Error {
  constructor(
    readonly host: string,
    readonly path: string,
    detail: string,
  ) {
    super(`${host}: put ${path} failed: ${detail}`);
    this.name = 'PutError';
  }
}

/** get() could not read the file (missing, no permission...). */
export class GetError extends Error {
  constructor(
    readonly host: string,
    readonly path: string,
    detail: string,
  ) {
    super(`${host}: get ${path} failed: ${detail}`);
    this.name = 'GetError';
  }
}

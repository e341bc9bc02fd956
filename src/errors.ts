/** An error that is the user's to fix (a missing file, a bad rule): printed as one line, no stack. */
export class PicketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PicketError';
  }
}

/** Exit status: a usage, input, configuration, rules or output error (a PicketError). */
export const EXIT_USAGE = 2;
/**
 * Exit status: the run finished, but an output did not deliver every document (spilled for the next run, dropped,
 * or refused by the target); stderr says how many went where, per sink.
 */
export const EXIT_UNDELIVERED = 3;
/** Exit status: an internal error (a bug). */
export const EXIT_INTERNAL = 70;

/** An error that is the user's to fix (a missing file, a bad rule): printed as one line, no stack. */
export class PicketError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PicketError';
  }
}

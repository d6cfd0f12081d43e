// A state directory that cannot be used: the message names the file and what to do.
export class StateError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'StateError';
  }
}

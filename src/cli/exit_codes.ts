// Exit codes, documented in the README and in `microarp --help`.
export const EXIT_OK = 0;
/** Something failed at run time: the dataplane did not start, a port failed, ... */
export const EXIT_RUNTIME = 1;
/** Bad usage or an invalid config: nothing was started. */
export const EXIT_USAGE = 2;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/**
 * A problem that stops the start of the bot and that an operator can fix.
 * main.ts prints `message` as it is (no stack trace) and exits with `exitCode`.
 */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StartupError';
  }
}

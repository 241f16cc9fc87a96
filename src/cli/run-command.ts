/**
 * Runs a command-line tool's main function: its result is the exit code; an unexpected error is
 * printed as its message alone (the person at the terminal needs no stack trace) and exits 1.
 */
export function runCommand(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}

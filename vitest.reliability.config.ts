import { defineConfig } from 'vitest/config';

/** `npm run test:reliability`: faults, bad input, load and security against the real bot. */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One file at a time: the load case needs the machine to itself.
    fileParallelism: false,
    reporters: ['default', './test/reliability/reporter.ts'],
  },
});

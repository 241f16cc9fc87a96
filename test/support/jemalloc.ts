import { existsSync } from 'node:fs';

/** Where Debian's libjemalloc2 puts the library, by CPU; the Docker image links it to the first path. */
const candidates = [
  '/usr/local/lib/libjemalloc.so.2',
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
];

/**
 * The environment that makes a bot process allocate with jemalloc, as the Docker image runs it
 * (its LD_PRELOAD). Memory is measured that way; `.ci/run` installs the library.
 */
export function jemallocPreload(): { LD_PRELOAD: string } {
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error(
      'libjemalloc.so.2 is not installed (apt-get install libjemalloc2): the Docker image runs the bot with it, ' +
        'and the load test measures memory the way the image runs the bot',
    );
  }
  return { LD_PRELOAD: found };
}

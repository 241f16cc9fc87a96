/**
 * Fetches the newer glibc the embedded Chroma server needs, ahead of time: the bot does the same by
 * itself on first start. The Docker build runs it so that a container started without CHROMA_URL
 * never downloads anything. Usage: `node dist/cli/fetch-chroma-glibc.js [folder]` (default `.cache/glibc`).
 * Imports nothing but newer-glibc.ts, which imports only Node's own modules.
 */
import path from 'node:path';
import { fetchNewerGlibc, glibcOlderThan, NewerGlibcUnavailableError, systemGlibcVersion } from '../services/newer-glibc.js';

const target = path.resolve(process.argv[2] ?? '.cache/glibc');
const system = systemGlibcVersion();
if (system && !glibcOlderThan(system)) console.log(`system glibc ${system} runs Chroma as it is; fetching anyway into ${target}`);
try {
  const glibc = await fetchNewerGlibc(target, { progress: (line) => console.log(line) });
  console.log(`loader: ${glibc.loader}`);
} catch (error) {
  if (!(error instanceof NewerGlibcUnavailableError)) throw error;
  console.error(`Не удалось подготовить glibc для Chroma: ${error.message}`);
  process.exit(1);
}

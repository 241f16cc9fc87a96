/**
 * `npm run bench`: every benchmark, each printing its figures next to a baseline measured in the same run.
 * First the headline, the bot on the real path (its own process over HTTP; bench/real-path.bench.ts);
 * then the in-process benches. `npm run bench -- --quick` shortens the real path's phases;
 * `npm run bench -- --real-path` runs the real path alone.
 */
import { runBotTurnBench } from './bot-turns.bench.js';
import { runRagBench } from './rag.bench.js';
import { runRealPathBench } from './real-path.bench.js';
import { runVoiceTurnBench } from './voice-turns.bench.js';

await runRealPathBench();
if (!process.argv.includes('--real-path')) {
  await runBotTurnBench();
  await runVoiceTurnBench();
  await runRagBench();
}

/** `npm run bench`: every benchmark, each printing its figures next to a baseline measured in the same run. */
import { runBotTurnBench } from './bot-turns.bench.js';
import { runRagBench } from './rag.bench.js';
import { runVoiceTurnBench } from './voice-turns.bench.js';

await runBotTurnBench();
await runVoiceTurnBench();
await runRagBench();

// Runs the TypeScript worker entry when the bot runs from source (tsx): worker threads need the
// tsx loader registered in themselves. The built bot starts dist/services/embedding-worker.js directly.
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData.entry);

// Runs the TypeScript worker entry when the bot runs from source (tsx): worker threads need the
// tsx loader registered in themselves. The built bot starts dist/services/embedding-worker.js directly.
import { workerData } from 'node:worker_threads';

// Imported before tsx is registered, so that tsx does not transform transformers.js' 1.3 MB bundle:
// through tsx the same import costs the thread ~170 MB more memory, kept for its lifetime.
await import('@huggingface/transformers');
const { register } = await import('tsx/esm/api');
register();
await import(workerData.entry);

// Runs a TypeScript worker entry when the bot runs from source (tsx): worker threads need the tsx
// loader registered in themselves. The built bot starts the compiled worker files directly.
import { workerData } from 'node:worker_threads';

// Modules imported before tsx is registered, so that tsx does not transform them: through tsx,
// transformers.js' 1.3 MB bundle costs the embedding thread ~170 MB more memory for its lifetime.
for (const module of workerData.preload ?? []) await import(module);
const { register } = await import('tsx/esm/api');
register();
await import(workerData.entry);

/**
 * Starts and stops the embedding thread again and again in one process, with a model that loads and
 * one that does not, then exits 0. A native runtime that corrupts the heap when its thread ends
 * (onnxruntime-node 1.21 did) makes this process abort instead. Usage: <model folder> <cycles>.
 */
import { createEmbedderInWorker } from '../../src/services/knowledge-base/embedding-thread.js';
import { silentLogger } from './database.js';

const [modelPath, cycles = '10'] = process.argv.slice(2);
for (let cycle = 0; cycle < Number(cycles); cycle++) {
  const embedder = await createEmbedderInWorker({ model: modelPath!, modelsDir: '/nonexistent', logger: silentLogger });
  await embedder.embedQuery('сколько стоит тариф');
  await embedder.dispose();
  await createEmbedderInWorker({ model: '/nonexistent/model', modelsDir: '/nonexistent', logger: silentLogger }).catch(
    () => undefined,
  );
}
process.stdout.write(`${cycles} cycles\n`);

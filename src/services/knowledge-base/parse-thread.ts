import { Worker } from 'node:worker_threads';
import { DocumentParseError, type DocumentLimits, type ParsedDocument } from './parsers.js';

/** What the parse thread is given and answers. */
export interface ParseRequest {
  readonly file: string;
  readonly content: Uint8Array;
  readonly limits: DocumentLimits;
}
export type ParseReply =
  { readonly ok: true; readonly document: ParsedDocument } | { readonly ok: false; readonly reason: string };

/**
 * A thread's heap for one PDF or DOCX. A hostile file (a few hundred kilobytes that inflate to
 * 100 MB of XML) runs the thread out of it instead of the bot.
 */
const threadHeapMb = 512;
const parseTimeoutMs = 60_000;

function workerEntry(): { file: URL; workerData: Record<string, unknown> } {
  // From source (tsx) the thread needs the bootstrap that registers tsx in it.
  if (import.meta.url.endsWith('.ts')) {
    return {
      file: new URL('../../worker-bootstrap.mjs', import.meta.url),
      workerData: { entry: new URL('./parse-worker.ts', import.meta.url).href },
    };
  }
  return { file: new URL('./parse-worker.js', import.meta.url), workerData: {} };
}

/**
 * Extracts a document's text in a thread of its own, with a bounded heap and time: the main thread
 * keeps serving chats, and a file that would exhaust memory or never finish is skipped by name.
 */
export async function parseInThread(file: string, content: Uint8Array, limits: DocumentLimits): Promise<ParsedDocument> {
  const entry = workerEntry();
  const request: ParseRequest = { file, content, limits };
  const worker = new Worker(entry.file, {
    workerData: { ...entry.workerData, request },
    resourceLimits: { maxOldGenerationSizeMb: threadHeapMb, maxYoungGenerationSizeMb: 32 },
    stdout: true,
    stderr: true,
  });
  try {
    const reply = await new Promise<ParseReply>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new DocumentParseError(file, `разбор не закончился за ${parseTimeoutMs / 1000} с`)),
        parseTimeoutMs,
      );
      worker.once('message', (message: ParseReply) => {
        clearTimeout(timer);
        resolve(message);
      });
      worker.once('error', (error: Error & { code?: string }) => {
        clearTimeout(timer);
        reject(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new DocumentParseError(
                file,
                `распакованный документ не помещается в ${threadHeapMb} МБ памяти (похоже на «zip-бомбу»)`,
                { cause: error },
              )
            : new DocumentParseError(file, `разбор прервался: ${error.message}`, { cause: error }),
        );
      });
      worker.once('exit', (code) => {
        clearTimeout(timer);
        reject(new DocumentParseError(file, `поток разбора завершился (код ${code}) без ответа`));
      });
    });
    if (!reply.ok) throw new DocumentParseError(file, reply.reason);
    return reply.document;
  } finally {
    await worker.terminate();
  }
}

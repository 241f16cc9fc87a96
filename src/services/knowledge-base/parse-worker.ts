/** One document's text extraction, in a thread of its own: see parse-thread.ts. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ParseReply, ParseRequest } from './parse-thread.js';
import { DocumentParseError, parseDocument } from './parsers.js';

const { request } = workerData as { request: ParseRequest };

async function parse(): Promise<ParseReply> {
  try {
    return { ok: true, document: await parseDocument(request.file, request.content, request.limits) };
  } catch (error) {
    if (error instanceof DocumentParseError) return { ok: false, reason: error.reason };
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

parentPort!.postMessage(await parse());

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** The sample knowledge base shipped in the repository. */
export const SAMPLE_KNOWLEDGE_BASE_DIR = path.resolve(import.meta.dirname, '../../knowledge_base');

/** The texts of the sample knowledge base's Markdown and text files, in name order. */
export async function readSampleKnowledgeBase(dir = SAMPLE_KNOWLEDGE_BASE_DIR): Promise<string[]> {
  const names = (await readdir(dir)).filter((name) => /\.(md|markdown|txt)$/i.test(name)).sort();
  return Promise.all(names.map((name) => readFile(path.join(dir, name), 'utf8')));
}

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Passage } from './retriever.js';

/** The passage that answers an item: a file and the heading right above the text. */
const expectedPassage = z.object({ file: z.string().min(1), heading: z.string().min(1) });

/**
 * A labelled set: questions a client asks and claims a trainee makes, each with the passages that
 * answer or check it (any one of them counts).
 */
export const labelledSetSchema = z
  .array(
    z.object({
      kind: z.enum(['question', 'claim']),
      text: z.string().min(1),
      expected: z.array(expectedPassage).min(1),
    }),
  )
  .min(1);

export type LabelledItem = z.infer<typeof labelledSetSchema>[number];

/** Reads and checks a labelled set (JSON). */
export async function readLabelledSet(file: string): Promise<LabelledItem[]> {
  return labelledSetSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

export type Search = (text: string, k: number) => Promise<ReadonlyArray<Pick<Passage, 'file' | 'headingPath'>>>;

export interface Recall {
  readonly items: number;
  /** Share of items whose answering passage is first. */
  readonly at1: number;
  /** Share of items whose answering passage is among the first three: what the client's prompt holds. */
  readonly at3: number;
  readonly byKind: Readonly<Record<LabelledItem['kind'], { readonly items: number; readonly at3: number }>>;
  /** The items missed at 3, for whoever tunes the knowledge base. */
  readonly missed: readonly string[];
}

/** Recall@1 and @3 of a search over a labelled set; the searches run together, as the bot's do. */
export async function measureRecall(search: Search, set: readonly LabelledItem[]): Promise<Recall> {
  const results = await Promise.all(set.map((item) => search(item.text, 3)));
  const ranks = set.map((item, index) =>
    results[index]!.findIndex((passage) =>
      item.expected.some((expected) => expected.file === passage.file && expected.heading === passage.headingPath.at(-1)),
    ),
  );
  const share = (hits: number, of: number) => (of === 0 ? 0 : hits / of);
  const kindFigures = (kind: LabelledItem['kind']) => {
    const indexes = set.flatMap((item, index) => (item.kind === kind ? [index] : []));
    return { items: indexes.length, at3: share(indexes.filter((index) => ranks[index]! >= 0).length, indexes.length) };
  };
  return {
    items: set.length,
    at1: share(ranks.filter((rank) => rank === 0).length, set.length),
    at3: share(ranks.filter((rank) => rank >= 0).length, set.length),
    byKind: { question: kindFigures('question'), claim: kindFigures('claim') },
    missed: set.filter((_, index) => ranks[index]! < 0).map((item) => item.text),
  };
}

/** The figures as an aligned plain-text table, one row per search. */
export function formatRecallTable(rows: ReadonlyArray<{ readonly search: string; readonly recall: Recall }>): string {
  const first = rows[0]?.recall;
  const header = [
    'search',
    'recall@1',
    'recall@3',
    `questions@3 (${first?.byKind.question.items ?? 0})`,
    `claims@3 (${first?.byKind.claim.items ?? 0})`,
  ];
  const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
  const cells = rows.map(({ search, recall }) => [
    search,
    percent(recall.at1),
    percent(recall.at3),
    percent(recall.byKind.question.at3),
    percent(recall.byKind.claim.at3),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((row) => row[column]!.length)));
  const line = (row: readonly string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...cells.map(line)].join('\n');
}

import { parse as parseYaml } from 'yaml';

/**
 * Who may see a document. `public`: the client too (catalogue, prices, FAQ); `internal`: only the
 * trainee's hints and the judge (scripts, the objection guide, service standards).
 */
export type DocumentAudience = 'public' | 'internal';

export const DOCUMENT_AUDIENCES: readonly DocumentAudience[] = ['public', 'internal'];

/** A document's audience and, when its mark was not one we know, that mark as written. */
export interface ResolvedAudience {
  readonly audience: DocumentAudience;
  readonly unknownMark?: string;
}

/**
 * The document's own mark (`audience:` in its front matter) wins; otherwise the nearest folder named
 * `internal` or `public` on its path; otherwise it is public, so a company's own files work as they
 * are. A mark that is neither value is a typo of someone who meant to mark the file, and keeping a
 * playbook from the client is the safer mistake: it counts as internal.
 */
export function resolveAudience(file: string, mark: string | undefined): ResolvedAudience {
  if (mark !== undefined) {
    const normalized = mark.trim().toLowerCase();
    return isAudience(normalized) ? { audience: normalized } : { audience: 'internal', unknownMark: mark };
  }
  const folders = file.split('/').slice(0, -1).reverse();
  const folder = folders.map((name) => name.toLowerCase()).find(isAudience);
  return { audience: folder ?? 'public' };
}

function isAudience(value: string): value is DocumentAudience {
  return (DOCUMENT_AUDIENCES as readonly string[]).includes(value);
}

/** A text's front matter, split off. */
export interface FrontMatter {
  /** The text after the front matter (the whole text when there is none). */
  readonly body: string;
  /** `audience:` as written, when the front matter has one. */
  readonly audienceMark?: string;
}

const OPENING = /^\uFEFF?---[ \t]*\r?\n/;
const CLOSING = /^(---|\.\.\.)[ \t]*$/;
/** Front matter is a few lines at the top; a `---` far below is a horizontal rule, not its end. */
const MAX_FRONT_MATTER_LINES = 100;

/**
 * Splits off a YAML front matter block (`---` on the first line, `---` or `...` closing it) when it
 * parses as a mapping. Anything else that starts with `---` is a horizontal rule and stays text.
 */
export function splitFrontMatter(text: string): FrontMatter {
  const opening = OPENING.exec(text);
  if (!opening) return { body: text };
  const lines = text.slice(opening[0].length).split('\n');
  const closing = lines.slice(0, MAX_FRONT_MATTER_LINES).findIndex((line) => CLOSING.test(line.replace(/\r$/, '')));
  if (closing < 0) return { body: text };
  const fields = parseMapping(
    lines
      .slice(0, closing)
      .map((line) => line.replace(/\r$/, ''))
      .join('\n'),
  );
  if (!fields) return { body: text };
  const body = lines.slice(closing + 1).join('\n');
  const audience = fields.audience;
  if (audience === undefined || audience === null) return { body };
  return { body, audienceMark: typeof audience === 'string' ? audience : JSON.stringify(audience) };
}

function parseMapping(yaml: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = parseYaml(yaml);
  } catch {
    return undefined; // not YAML: the `---` was a horizontal rule
  }
  if (value === null) return {}; // `---` twice: an empty front matter
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

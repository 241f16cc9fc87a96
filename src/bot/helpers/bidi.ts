/** Unicode's first-strong isolate and its closing mark. */
const FSI = '\u2068';
const PDI = '\u2069';
/** Embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): what can turn the text after a name around. */
const directionControls = /[\u202a-\u202e\u2066-\u2069]/g;

/**
 * A name someone chose, isolated from the text around it: a right-to-left override in it (or a whole
 * Arabic or Hebrew name) no longer reverses the rest of the line.
 */
export function isolated(name: string): string {
  return `${FSI}${name.replace(directionControls, '')}${PDI}`;
}

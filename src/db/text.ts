/**
 * Text as PostgreSQL can hold it: a NUL character (U+0000) is refused by text and jsonb columns,
 * and would cost the whole message. It carries no meaning for a reader, so it is dropped.
 */
export function storable(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}

/** The same for an optional value. */
export function storableOrNull(text: string | undefined | null): string | null {
  return text == null ? null : storable(text);
}

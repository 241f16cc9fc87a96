/**
 * multipart/form-data as the Bot API and OpenAI's audio endpoints read it. Tolerant the way their
 * servers are: grammY writes `content-disposition:form-data;name="x";filename=y` (no spaces, an
 * unquoted file name), which undici's own FormData parser refuses.
 */
export interface MultipartFile {
  readonly filename: string;
  readonly contentType: string | undefined;
  readonly bytes: Buffer;
}

export type MultipartValue = string | MultipartFile;

export function parseMultipart(body: Buffer, contentType: string): Map<string, MultipartValue> {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  const parts = new Map<string, MultipartValue>();
  if (!boundary) return parts;
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const contentStart = start + delimiter.length;
    if (body.subarray(contentStart, contentStart + 2).toString('latin1') === '--') break;
    const next = body.indexOf(delimiter, contentStart);
    if (next < 0) break;
    // Each part: CRLF, headers, CRLF CRLF, content, CRLF, then the next delimiter.
    const part = body.subarray(contentStart + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    if (split >= 0) {
      const headers = part.subarray(0, split).toString('utf8');
      const content = part.subarray(split + 4);
      const name = /name="?([^";\r\n]+)"?/i.exec(headers.replace(/filename="?[^";\r\n]*"?/i, ''))?.[1];
      const filename = /filename="?([^";\r\n]*)"?/i.exec(headers)?.[1];
      const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim();
      if (name !== undefined) {
        parts.set(
          name,
          filename !== undefined ? { filename, contentType: type, bytes: Buffer.from(content) } : content.toString('utf8'),
        );
      }
    }
    start = next;
  }
  return parts;
}

/** A grammY upload names its file by `attach://<part>`: the field then holds that part's file. */
export function resolveAttachments(parts: ReadonlyMap<string, MultipartValue>): Record<string, MultipartValue> {
  const fields: Record<string, MultipartValue> = Object.fromEntries(parts);
  for (const [name, value] of Object.entries(fields)) {
    const ref = typeof value === 'string' ? /^attach:\/\/(.+)$/.exec(value)?.[1] : undefined;
    const file = ref === undefined ? undefined : parts.get(ref);
    if (file !== undefined) {
      fields[name] = file;
      delete fields[ref!];
    }
  }
  return fields;
}

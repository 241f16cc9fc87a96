import { crc32, deflateRawSync, deflateSync } from 'node:zlib';

/**
 * Documents an attacker (or a careless colleague) puts into the knowledge base: small files that
 * inflate to 100 MB, and a page with a pasted screenshot.
 */

/** A zip archive, written by hand: local headers, deflated data, the central directory. */
export function zip(entries: ReadonlyArray<{ readonly name: string; readonly data: Buffer }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = deflateRawSync(entry.data, { level: 9 });
    const crc = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const contentTypes =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' +
  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';
const rootRels =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
  '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>';

/** A DOCX whose document.xml holds `paragraphs` paragraphs: about 40 bytes of XML each. */
export function docxWithParagraphs(paragraphs: number, text = 'Тариф «Бизнес» стоит 1 990 ₽'): Buffer {
  const paragraph = Buffer.from(`<w:p><w:r><w:t>${text}</w:t></w:r></w:p>`, 'utf8');
  const body = Buffer.alloc(paragraph.length * paragraphs);
  for (let i = 0; i < paragraphs; i++) paragraph.copy(body, i * paragraph.length);
  const document = Buffer.concat([
    Buffer.from(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>',
    ),
    body,
    Buffer.from('</w:body></w:document>'),
  ]);
  return zip([
    { name: '[Content_Types].xml', data: Buffer.from(contentTypes) },
    { name: '_rels/.rels', data: Buffer.from(rootRels) },
    { name: 'word/document.xml', data: document },
  ]);
}

/** A DOCX of a few hundred kilobytes whose XML inflates to about `inflatedMb` megabytes. */
export function docxBomb(inflatedMb = 100): Buffer {
  const paragraph = `<w:p><w:r><w:t>Тариф «Бизнес» стоит 1 990 ₽</w:t></w:r></w:p>`;
  return docxWithParagraphs(Math.ceil((inflatedMb * 1024 * 1024) / Buffer.byteLength(paragraph)));
}

/** A one-page PDF whose content stream inflates to about `inflatedMb` megabytes of text operators. */
export function pdfBomb(inflatedMb = 100): Buffer {
  const line = Buffer.from('BT /F1 12 Tf 50 700 Td (Tarif Biznes 1990 rub) Tj ET\n');
  const content = Buffer.alloc(Math.ceil((inflatedMb * 1024 * 1024) / line.length) * line.length);
  for (let i = 0; i < content.length; i += line.length) line.copy(content, i);
  const stream = deflateSync(content, { level: 9 });
  const objects = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    Buffer.from('<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>'),
    Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'),
    Buffer.concat([
      Buffer.from(`<< /Length ${stream.length} /Filter /FlateDecode >>\nstream\n`),
      stream,
      Buffer.from('\nendstream'),
    ]),
  ];
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n')];
  const offsets: number[] = [];
  let length = parts[0]!.length;
  objects.forEach((body, index) => {
    offsets.push(length);
    const object = Buffer.concat([Buffer.from(`${index + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    parts.push(object);
    length += object.length;
  });
  const xref = [
    'xref',
    `0 ${objects.length + 1}`,
    '0000000000 65535 f ',
    ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n `),
  ].join('\n');
  parts.push(Buffer.from(`${xref}\ntrailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`));
  return Buffer.concat(parts);
}

/** A Markdown page with a screenshot pasted in as a 1.5 MB base64 data URI, between real text. */
export function pageWithPastedScreenshot(): string {
  const base64 = Buffer.alloc(1_125_000, 7).toString('base64');
  return `# Как выставить счёт\n\nОткройте раздел «Счета».\n\n![скриншот](data:image/png;base64,${base64})\n\nНажмите «Создать счёт» и выберите тариф.\n`;
}

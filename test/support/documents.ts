import { Document, HeadingLevel, Packer, Paragraph, TextRun } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';

/** A DOCX with real Word heading styles, made with the `docx` package. */
export async function makeDocx(blocks: ReadonlyArray<{ heading?: 1 | 2 | 3; text: string }>): Promise<Buffer> {
  const levels = { 1: HeadingLevel.HEADING_1, 2: HeadingLevel.HEADING_2, 3: HeadingLevel.HEADING_3 } as const;
  const document = new Document({
    sections: [
      {
        children: blocks.map((block) =>
          block.heading
            ? new Paragraph({ heading: levels[block.heading], children: [new TextRun(block.text)] })
            : new Paragraph({ children: [new TextRun(block.text)] }),
        ),
      },
    ],
  });
  return Packer.toBuffer(document);
}

/** A PDF with one page per entry, each page's lines in Helvetica (so ASCII text only). */
export async function makePdf(pages: ReadonlyArray<readonly string[]>): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = pdf.addPage([595, 842]);
    lines.forEach((line, index) => page.drawText(line, { x: 50, y: 780 - index * 20, size: 12, font }));
  }
  return pdf.save();
}

/** Bytes that start like a PDF and are not one. */
export const BROKEN_PDF = new TextEncoder().encode('%PDF-1.7\n1 0 obj << /Type /Catalog >> this is not a PDF\n%%EOF');

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fontkit from '@pdf-lib/fontkit';
import { PDFDocument, PDFFont, PDFPage, rgb } from 'pdf-lib';
import QRCode from 'qrcode';
import { PROJECT_ROOT } from '../common/paths';

export interface CertificateContent {
  kind: 'completion' | 'attendance';
  holderName: string;
  subjectTitle: string;
  /** Already formatted for Europe/London, e.g. "24 November 2026". */
  achievedOn: string;
  /** The document's creation date: with it fixed, the same certificate always renders to the same bytes. */
  issuedAt: Date;
  cpdHours: number;
  academyName: string;
  code: string;
  verifyUrl: string;
}

const FONT_DIR = join(PROJECT_ROOT, 'node_modules', 'dejavu-fonts-ttf', 'ttf');
// One typeface, one weight: each embedded font costs a subset and a compression pass, most of a certificate's
// render time. Emphasis comes from size and colour. It is embedded as a subset, so no viewer needs it installed.
const REGULAR = readFileSync(join(FONT_DIR, 'DejaVuSans.ttf'));
/**
 * pdf-lib parses a font's bytes on every embed; parsing DejaVu Sans costs more than the rest of a certificate.
 * The parsed fonts are read-only for our use (each document makes its own subset), so they are parsed once.
 */
const PARSED = new Map<Buffer, ReturnType<typeof fontkit.create>>([[REGULAR, fontkit.create(REGULAR)]]);
const parsedFontkit = { create: (bytes: Uint8Array) => PARSED.get(bytes as Buffer) ?? fontkit.create(bytes) } as typeof fontkit;

const A4_LANDSCAPE: [number, number] = [841.89, 595.28];
const NHS_BLUE = rgb(0, 0.369, 0.722);
const TEXT = rgb(0.129, 0.169, 0.196);
const SECONDARY = rgb(0.298, 0.384, 0.447);

/** A one-page A4 landscape certificate with the holder, subject, date, CPD hours, code and a QR code to verify it. */
export async function renderCertificatePdf(content: CertificateContent): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.registerFontkit(parsedFontkit);
  const font = await doc.embedFont(REGULAR, { subset: true });
  const title = content.kind === 'completion' ? 'Certificate of completion' : 'Certificate of attendance';
  doc.setTitle(`${title}: ${content.subjectTitle}`);
  doc.setAuthor(content.academyName);
  doc.setSubject(`${content.holderName}, ${content.subjectTitle}, ${content.achievedOn}`);
  doc.setCreator(content.academyName);
  doc.setProducer(content.academyName);
  doc.setCreationDate(content.issuedAt);
  doc.setModificationDate(content.issuedAt);

  const page = doc.addPage(A4_LANDSCAPE);
  const [width, height] = A4_LANDSCAPE;
  page.drawRectangle({ x: 24, y: 24, width: width - 48, height: height - 48, borderColor: NHS_BLUE, borderWidth: 3 });
  page.drawRectangle({ x: 24, y: height - 96, width: width - 48, height: 72, color: NHS_BLUE });
  page.drawText(content.academyName, { x: 60, y: height - 70, size: 24, font, color: rgb(1, 1, 1) });

  let y = height - 160;
  page.drawText(title, { x: 60, y, size: 30, font, color: NHS_BLUE });
  y -= 50;
  page.drawText('This certifies that', { x: 60, y, size: 14, font, color: SECONDARY });
  y -= 40;
  y = drawWrapped(page, content.holderName, { x: 60, y, size: 28, font, maxWidth: 560, lineGap: 34 });
  y -= 12;
  page.drawText(content.kind === 'completion' ? 'completed the course' : 'attended the webinar', { x: 60, y, size: 14, font, color: SECONDARY });
  y -= 32;
  y = drawWrapped(page, content.subjectTitle, { x: 60, y, size: 20, font, maxWidth: 560, lineGap: 26 });
  y -= 18;
  page.drawText(`on ${content.achievedOn}`, { x: 60, y, size: 14, font, color: TEXT });
  y -= 24;
  page.drawText(`CPD: ${content.cpdHours} ${content.cpdHours === 1 ? 'hour' : 'hours'}`, { x: 60, y, size: 14, font, color: TEXT });

  // One pixel per module: a tiny PNG, drawn large. Viewers scale it without smoothing, so it stays sharp.
  const qr = await QRCode.toBuffer(content.verifyUrl, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 1 });
  const image = await doc.embedPng(qr);
  const side = 150;
  page.drawImage(image, { x: width - 60 - side, y: 110, width: side, height: side });
  page.drawText('Verify this certificate', { x: width - 60 - side, y: 90, size: 10, font, color: TEXT });
  page.drawText(`Code: ${content.code}`, { x: 60, y: 90, size: 12, font, color: TEXT });
  page.drawText(`Check it at ${content.verifyUrl}`, { x: 60, y: 70, size: 10, font, color: SECONDARY });
  return doc.save({ objectsPerTick: Infinity });
}

function drawWrapped(page: PDFPage, text: string, o: { x: number; y: number; size: number; font: PDFFont; maxWidth: number; lineGap: number }): number {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && o.font.widthOfTextAtSize(candidate, o.size) > o.maxWidth) {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  if (line) lines.push(line);
  let y = o.y;
  for (const l of lines.slice(0, 3)) {
    page.drawText(l, { x: o.x, y, size: o.size, font: o.font, color: TEXT });
    y -= o.lineGap;
  }
  return y + o.lineGap - o.size;
}

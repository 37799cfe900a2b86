import QRCode from 'qrcode';
import { num, pdfDate, PdfFile, textString } from './pdf/pdf-file';
import { EmbeddedFont } from './pdf/pdf-font';

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

type Colour = [number, number, number];
const A4_LANDSCAPE: [number, number] = [841.89, 595.28];
const NHS_BLUE: Colour = [0, 0.369, 0.722];
const WHITE: Colour = [1, 1, 1];
const TEXT: Colour = [0.129, 0.169, 0.196];
const SECONDARY: Colour = [0.298, 0.384, 0.447];
const QR_SIDE = 150;
const QR_MARGIN_MODULES = 2;

/**
 * A one-page A4 landscape certificate with the holder, subject, date, CPD hours, code and a QR code to verify it.
 * One typeface, one weight (DejaVu Sans, embedded as a subset so no viewer needs it installed); emphasis comes
 * from size and colour.
 */
export async function renderCertificatePdf(content: CertificateContent): Promise<Buffer> {
  const [width, height] = A4_LANDSCAPE;
  const title = content.kind === 'completion' ? 'Certificate of completion' : 'Certificate of attendance';
  const lines: Array<{ text: string; x: number; size: number; colour: Colour; gapBefore: number } | { wrap: string; size: number; lineGap: number; gapBefore: number }> = [
    { text: title, x: 60, size: 30, colour: NHS_BLUE, gapBefore: 0 },
    { text: 'This certifies that', x: 60, size: 14, colour: SECONDARY, gapBefore: 50 },
    { wrap: content.holderName, size: 28, lineGap: 34, gapBefore: 40 },
    { text: content.kind === 'completion' ? 'completed the course' : 'attended the webinar', x: 60, size: 14, colour: SECONDARY, gapBefore: 12 },
    { wrap: content.subjectTitle, size: 20, lineGap: 26, gapBefore: 32 },
    { text: `on ${content.achievedOn}`, x: 60, size: 14, colour: TEXT, gapBefore: 18 },
    { text: `CPD: ${content.cpdHours} ${content.cpdHours === 1 ? 'hour' : 'hours'}`, x: 60, size: 14, colour: TEXT, gapBefore: 24 },
  ];
  const footer = { verify: 'Verify this certificate', code: `Code: ${content.code}`, check: `Check it at ${content.verifyUrl}` };
  const font = await EmbeddedFont.for([content.academyName, ...lines.map((l) => ('text' in l ? l.text : l.wrap)), ...Object.values(footer)]);

  const page = new ContentStream(font);
  page.strokeRectangle(24, 24, width - 48, height - 48, NHS_BLUE, 3);
  page.fillRectangle(24, height - 96, width - 48, 72, NHS_BLUE);
  page.text(content.academyName, 60, height - 70, 24, WHITE);
  let y = height - 160;
  for (const line of lines) {
    if ('text' in line) {
      y -= line.gapBefore;
      page.text(line.text, line.x, y, line.size, line.colour);
    } else {
      // At most three lines; the next gap is measured from the bottom of the last line's capitals.
      y -= line.gapBefore;
      const drawn = wrap(font, line.wrap, line.size, 560).slice(0, 3);
      drawn.forEach((text, i) => page.text(text, 60, y - i * line.lineGap, line.size, TEXT));
      y -= (drawn.length - 1) * line.lineGap + line.size;
    }
  }
  page.image('Im1', width - 60 - QR_SIDE, 110, QR_SIDE, QR_SIDE);
  page.text(footer.verify, width - 60 - QR_SIDE, 90, 10, TEXT);
  page.text(footer.code, 60, 90, 12, TEXT);
  page.text(footer.check, 60, 70, 10, SECONDARY);

  const pdf = new PdfFile();
  const catalog = pdf.reserve();
  const pages = pdf.reserve();
  const fontRef = font.writeInto(pdf);
  const qr = qrImage(pdf, content.verifyUrl);
  const contents = pdf.stream(page.bytes());
  const pageRef = pdf.add(
    `<< /Type /Page /Parent ${pages} 0 R /MediaBox [0 0 ${num(width)} ${num(height)}] /Resources << /Font << /F1 ${fontRef} 0 R >> /XObject << /Im1 ${qr} 0 R >> /ProcSet [/PDF /Text /ImageB] >> /Contents ${contents} 0 R >>`,
  );
  pdf.set(pages, `<< /Type /Pages /Kids [${pageRef} 0 R] /Count 1 >>`);
  pdf.set(catalog, `<< /Type /Catalog /Pages ${pages} 0 R >>`);
  const info = pdf.add(
    `<< /Title ${textString(`${title}: ${content.subjectTitle}`)} /Author ${textString(content.academyName)} /Subject ${textString(`${content.holderName}, ${content.subjectTitle}, ${content.achievedOn}`)}` +
      ` /Creator ${textString(content.academyName)} /Producer ${textString(content.academyName)} /CreationDate ${pdfDate(content.issuedAt)} /ModDate ${pdfDate(content.issuedAt)} >>`,
  );
  return pdf.toBuffer(catalog, info);
}

/** The page's drawing operators (§8, §9.4), in the one font. */
class ContentStream {
  private readonly operators: string[] = [];

  constructor(private readonly font: EmbeddedFont) {}

  text(text: string, x: number, y: number, size: number, colour: Colour): void {
    this.operators.push(`BT ${rgb(colour)} rg /F1 ${size} Tf ${num(x)} ${num(y)} Td ${this.font.encode(text)} Tj ET`);
  }

  strokeRectangle(x: number, y: number, width: number, height: number, colour: Colour, lineWidth: number): void {
    this.operators.push(`q ${rgb(colour)} RG ${lineWidth} w ${num(x)} ${num(y)} ${num(width)} ${num(height)} re S Q`);
  }

  fillRectangle(x: number, y: number, width: number, height: number, colour: Colour): void {
    this.operators.push(`q ${rgb(colour)} rg ${num(x)} ${num(y)} ${num(width)} ${num(height)} re f Q`);
  }

  image(name: string, x: number, y: number, width: number, height: number): void {
    this.operators.push(`q ${num(width)} 0 0 ${num(height)} ${num(x)} ${num(y)} cm /${name} Do Q`);
  }

  bytes(): Buffer {
    return Buffer.from(this.operators.join('\n'), 'latin1');
  }
}

const rgb = (colour: Colour) => colour.map(num).join(' ');

/** Words into lines no wider than `maxWidth`; a word longer than a line gets a line of its own. */
function wrap(font: EmbeddedFont, text: string, size: number, maxWidth: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && font.widthOf(candidate, size) > maxWidth) {
      lines.push(line);
      line = word;
    } else line = candidate;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The verification URL's QR code as a greyscale image, one pixel per module with a quiet zone. Drawn large;
 * viewers scale images without smoothing by default, so it stays sharp.
 */
function qrImage(pdf: PdfFile, url: string): number {
  // One byte-mode segment, as a URL is: the library need not search for the cheapest mix of modes.
  const { modules } = QRCode.create([{ data: Buffer.from(url), mode: 'byte' }], { errorCorrectionLevel: 'M' });
  const side = modules.size + 2 * QR_MARGIN_MODULES;
  const pixels = Buffer.alloc(side * side, 0xff);
  for (let row = 0; row < modules.size; row++) {
    for (let column = 0; column < modules.size; column++) {
      if (modules.get(row, column)) pixels[(row + QR_MARGIN_MODULES) * side + column + QR_MARGIN_MODULES] = 0;
    }
  }
  return pdf.stream(pixels, `/Type /XObject /Subtype /Image /Width ${side} /Height ${side} /ColorSpace /DeviceGray /BitsPerComponent 8`);
}

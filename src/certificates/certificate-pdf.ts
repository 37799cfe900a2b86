import QRCode from 'qrcode';
import { type Colour, type StructureElement, TaggedPage } from './pdf/content';
import { num, pdfDate, PdfFile, textString } from './pdf/pdf-file';
import { Paragraph, type TextLine } from './pdf/text';

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

const A4_LANDSCAPE: [number, number] = [841.89, 595.28];
const NHS_BLUE: Colour = [0, 0.369, 0.722];
const WHITE: Colour = [1, 1, 1];
const TEXT: Colour = [0.129, 0.169, 0.196];
const SECONDARY: Colour = [0.298, 0.384, 0.447];
const QR_SIDE = 150;
const QR_MARGIN_MODULES = 2;
const DOCUMENT_LANGUAGE = 'en-GB';

/** The text column: left edge and width (it ends short of the QR code, which starts at 631.89). */
const LEFT = 60;
const COLUMN = 560;
/** The lowest the CPD line's ink may reach: the code line (12 pt at 90) and the QR code (from 110) are below it. */
const FLOOR_OF_FLOW = 108;
/** The least clear space between the ink of one line and the next. */
const CLEARANCE = 4;

/**
 * How the name and the title fit their column: at their size on one line if they can; else smaller, down to
 * `floor`; else on up to `lines` lines, each as large as that many lines allow. Only text longer than `lines`
 * lines at `floor` (or a page too full) goes smaller still, so nothing is ever cut.
 */
const NAME = { size: 28, floor: 18, lines: 3, leading: 34 / 28 };
const TITLE = { size: 20, floor: 14, lines: 3, leading: 1.3 };

/**
 * Paragraphs of the texts every certificate has (the headings, the labels, the academy's name), prepared once:
 * a Paragraph is only read once made. Bounded, in case a caller varies one of them.
 */
const prepared = new Map<string, Paragraph>();
function fixedParagraph(text: string): Paragraph {
  let paragraph = prepared.get(text);
  if (!paragraph) {
    paragraph = new Paragraph(text);
    if (prepared.size < 64) prepared.set(text, paragraph);
  }
  return paragraph;
}

/** A laid-out line: where it goes, at what size, in which structure element. */
export interface PlacedLine {
  element: string;
  line: TextLine;
  x: number;
  y: number;
  size: number;
  colour: Colour;
}

/** Where everything on the certificate goes, and the words it says. Exported for the tests that check the layout. */
export interface CertificateLayout {
  title: string;
  lines: PlacedLine[];
  qr: { x: number; y: number; side: number };
  nameLanguage?: string;
  titleLanguage?: string;
}

/**
 * The page: the academy's name in the blue band, the kind of certificate (the heading), who, what, when and
 * the CPD hours, then the code, the address to check it at and a QR code of that address. Texts are in DejaVu
 * Sans, or, for characters of other scripts, the Noto Sans of their script (`pdf/fonts.ts`), each embedded as
 * a subset; emphasis comes from size and colour.
 */
export function layoutCertificate(content: CertificateContent): CertificateLayout {
  const [width, height] = A4_LANDSCAPE;
  const title = content.kind === 'completion' ? 'Certificate of completion' : 'Certificate of attendance';
  const lines: PlacedLine[] = [];
  const single = (element: string, paragraph: Paragraph, x: number, y: number, size: number, colour: Colour, maxWidth: number) => {
    const fitted = Math.min(size, paragraph.width > 0 ? maxWidth / paragraph.width : size);
    lines.push({ element, line: paragraph.line(0, paragraph.text.length), x, y, size: fitted, colour });
  };
  single('academy', fixedParagraph(content.academyName), LEFT, height - 70, 24, WHITE, width - 2 * LEFT);

  const name = new Paragraph(content.holderName);
  const subject = new Paragraph(content.subjectTitle);
  const flow = fitFlow(name, subject, [
    { element: 'heading', paragraph: fixedParagraph(title), size: 30, colour: NHS_BLUE, gap: 0 },
    { element: 'certifies', paragraph: fixedParagraph('This certifies that'), size: 14, colour: SECONDARY, gap: 50 },
    { element: 'name', paragraph: name, block: NAME, colour: TEXT, gap: (own) => 12 + own },
    { element: 'completed', paragraph: fixedParagraph(content.kind === 'completion' ? 'completed the course' : 'attended the webinar'), size: 14, colour: SECONDARY, gap: (_, previous) => previous + 12 },
    { element: 'subject', paragraph: subject, block: TITLE, colour: TEXT, gap: (own) => 12 + own },
    { element: 'date', paragraph: new Paragraph(`on ${content.achievedOn}`), size: 14, colour: TEXT, gap: (_, previous) => previous + 18 },
    { element: 'cpd', paragraph: new Paragraph(`CPD: ${content.cpdHours} ${content.cpdHours === 1 ? 'hour' : 'hours'}`), size: 14, colour: TEXT, gap: 24 },
  ], height - 160);
  lines.push(...flow);

  single('code', new Paragraph(`Code: ${content.code}`), LEFT, 90, 12, TEXT, COLUMN);
  single('check', new Paragraph(`Check it at ${content.verifyUrl}`), LEFT, 70, 10, SECONDARY, COLUMN);
  const qr = { x: width - 60 - QR_SIDE, y: 110, side: QR_SIDE };
  single('verify', fixedParagraph('Verify this certificate'), qr.x, 90, 10, TEXT, QR_SIDE);
  return { title, lines, qr, nameLanguage: name.language, titleLanguage: subject.language };
}

interface FlowItem {
  element: string;
  paragraph: Paragraph;
  colour: Colour;
  /** Baseline to baseline from the line before, at least; or a function of this item's size and the one before. */
  gap: number | ((size: number, previousSize: number) => number);
  size?: number;
  block?: typeof NAME;
}

/**
 * Lays the items out from `top` down, each baseline at its gap from the one before or lower (so no two lines'
 * ink come closer than CLEARANCE); if the last line would reach below FLOOR_OF_FLOW, the name and the title
 * are made smaller (the larger of them first) and the whole laid out again.
 */
function fitFlow(name: Paragraph, subject: Paragraph, items: FlowItem[], top: number): PlacedLine[] {
  let nameMax = NAME.size;
  let titleMax = TITLE.size;
  for (;;) {
    const blocks = new Map<string, { size: number; ranges: Array<[number, number]> }>([
      ['name', fitBlock(name, { ...NAME, size: nameMax, floor: Math.min(NAME.floor, nameMax) })],
      ['subject', fitBlock(subject, { ...TITLE, size: titleMax, floor: Math.min(TITLE.floor, titleMax) })],
    ]);
    const placed: PlacedLine[] = [];
    let y = top;
    let previous: { bottom: number; size: number } | null = null;
    for (const item of items) {
      const block = blocks.get(item.element);
      const size = block?.size ?? item.size!;
      const ranges = block?.ranges ?? [[0, item.paragraph.text.length] as [number, number]];
      ranges.forEach(([start, end], index) => {
        const line = item.paragraph.line(start, end);
        const nominal = index > 0 ? size * item.block!.leading : typeof item.gap === 'number' ? item.gap : item.gap(size, previous?.size ?? size);
        if (previous) y -= Math.max(nominal, previous.bottom + CLEARANCE + line.top * size);
        placed.push({ element: item.element, line, x: LEFT, y, size, colour: item.colour });
        previous = { bottom: -line.bottom * size, size };
      });
    }
    const last = placed.at(-1)!;
    const nameSize = blocks.get('name')!.size;
    const titleSize = blocks.get('subject')!.size;
    if (last.y + last.line.bottom * last.size >= FLOOR_OF_FLOW || nameSize < 4 || titleSize < 4) return placed;
    // Shrink whichever is further above its floor (relative to its size), below the size it has now.
    if ((nameSize - NAME.floor) / NAME.size >= (titleSize - TITLE.floor) / TITLE.size) nameMax = Math.min(nameMax, nameSize) - 1;
    else titleMax = Math.min(titleMax, titleSize) - 1;
  }
}

/** The largest size and fewest lines (up to the block's) that fit the column; see NAME. */
function fitBlock(paragraph: Paragraph, block: typeof NAME): { size: number; ranges: Array<[number, number]> } {
  const fits = (size: number, lines: number) => {
    const ranges = paragraph.breakLines(size, COLUMN);
    return ranges.length <= lines ? ranges : null;
  };
  const widest = (size: number, ranges: Array<[number, number]>) => {
    // The lines as shaped may measure a little wider than their pieces did: then the size gives way.
    const width = Math.max(0, ...ranges.map(([start, end]) => paragraph.line(start, end).width));
    return { size: width * size > COLUMN ? COLUMN / width : size, ranges };
  };
  const oneLine = paragraph.width > 0 ? Math.min(block.size, Math.floor((COLUMN / paragraph.width) * 4) / 4) : block.size;
  if (oneLine >= block.floor) return widest(oneLine, [[0, paragraph.text.length]]);
  for (let lines = 2; lines <= block.lines; lines++) {
    for (let size = block.size; size >= block.floor; size -= 0.5) {
      const ranges = fits(size, lines);
      if (ranges) return widest(size, ranges);
    }
  }
  for (let size = block.floor - 0.5; size > 1; size -= 0.5) {
    const ranges = fits(size, block.lines);
    if (ranges) return widest(size, ranges);
  }
  return widest(1, paragraph.breakLines(1, COLUMN));
}

/** The certificate as a tagged PDF (PDF/UA's basics: structure tree, language, title shown, text extractable in reading order). */
export async function renderCertificatePdf(content: CertificateContent): Promise<Buffer> {
  const [width, height] = A4_LANDSCAPE;
  const layout = layoutCertificate(content);
  const page = new TaggedPage();
  page.artifact(() => {
    page.strokeRectangle(24, 24, width - 48, height - 48, NHS_BLUE, 3);
    page.fillRectangle(24, height - 96, width - 48, 72, NHS_BLUE);
  });
  const elements = new Map<string, StructureElement>();
  const elementFor = (key: string) => {
    let element = elements.get(key);
    if (!element) {
      const lang = key === 'name' ? layout.nameLanguage : key === 'subject' ? layout.titleLanguage : undefined;
      element = page.element(key === 'heading' ? 'H1' : 'P', lang ? { lang } : {});
      elements.set(key, element);
    }
    return element;
  };
  const draw = (line: PlacedLine) => page.mark(elementFor(line.element), () => page.text(line.line, line.x, line.y, line.size, line.colour));
  const byElement = (key: string) => layout.lines.filter((line) => line.element === key);
  for (const key of ['academy', 'heading', 'certifies', 'name', 'completed', 'subject', 'date', 'cpd', 'code', 'check']) byElement(key).forEach(draw);
  const { qr } = layout;
  const figure = page.element('Figure', { alt: `QR code of the address to verify this certificate: ${content.verifyUrl}`, bbox: [qr.x, qr.y, qr.x + qr.side, qr.y + qr.side] });
  page.mark(figure, () => page.image('Im1', qr.x, qr.y, qr.side, qr.side));
  byElement('verify').forEach(draw);

  const pdf = new PdfFile();
  const catalog = pdf.reserve();
  const pages = pdf.reserve();
  const pageRef = pdf.reserve();
  const image = qrImage(pdf, content.verifyUrl);
  const contents = pdf.stream(page.bytes());
  const fonts = page.writeFonts(pdf);
  pdf.set(
    pageRef,
    `<< /Type /Page /Parent ${pages} 0 R /MediaBox [0 0 ${num(width)} ${num(height)}] /Resources << /Font << ${fonts} >> /XObject << /Im1 ${image} 0 R >> /ProcSet [/PDF /Text /ImageB] >>` +
      ` /Contents ${contents} 0 R /StructParents 0 /Tabs /S >>`,
  );
  const structure = page.writeStructure(pdf, pageRef);
  pdf.set(pages, `<< /Type /Pages /Kids [${pageRef} 0 R] /Count 1 >>`);
  const documentTitle = `${layout.title}: ${content.subjectTitle}`;
  const subject = `${content.holderName}, ${content.subjectTitle}, ${content.achievedOn}`;
  const metadata = pdf.plainStream(xmp({ title: documentTitle, author: content.academyName, subject, date: content.issuedAt }), '/Type /Metadata /Subtype /XML');
  pdf.set(
    catalog,
    `<< /Type /Catalog /Pages ${pages} 0 R /StructTreeRoot ${structure} 0 R /MarkInfo << /Marked true >> /Lang ${textString(DOCUMENT_LANGUAGE)}` +
      ` /ViewerPreferences << /DisplayDocTitle true >> /Metadata ${metadata} 0 R >>`,
  );
  const info = pdf.add(
    `<< /Title ${textString(documentTitle)} /Author ${textString(content.academyName)} /Subject ${textString(subject)}` +
      ` /Creator ${textString(content.academyName)} /Producer ${textString(content.academyName)} /CreationDate ${pdfDate(content.issuedAt)} /ModDate ${pdfDate(content.issuedAt)} >>`,
  );
  return pdf.toBuffer(catalog, info);
}

/** The document's XMP metadata (§14.3.2): the same title, author, subject and dates as the Info dictionary. */
function xmp({ title, author, subject, date }: { title: string; author: string; subject: string; date: Date }): Buffer {
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const when = date.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const alt = (text: string) => `<rdf:Alt><rdf:li xml:lang="x-default">${escape(text)}</rdf:li></rdf:Alt>`;
  return Buffer.from(
    [
      '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
      '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
      '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
      '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">',
      '<dc:format>application/pdf</dc:format>',
      `<dc:title>${alt(title)}</dc:title>`,
      `<dc:creator><rdf:Seq><rdf:li>${escape(author)}</rdf:li></rdf:Seq></dc:creator>`,
      `<dc:description>${alt(subject)}</dc:description>`,
      `<dc:language><rdf:Bag><rdf:li>${DOCUMENT_LANGUAGE}</rdf:li></rdf:Bag></dc:language>`,
      `<xmp:CreateDate>${when}</xmp:CreateDate>`,
      `<xmp:ModifyDate>${when}</xmp:ModifyDate>`,
      `<xmp:CreatorTool>${escape(author)}</xmp:CreatorTool>`,
      `<pdf:Producer>${escape(author)}</pdf:Producer>`,
      '</rdf:Description>',
      '</rdf:RDF>',
      '</x:xmpmeta>',
      '<?xpacket end="w"?>',
    ].join('\n'),
    'utf8',
  );
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

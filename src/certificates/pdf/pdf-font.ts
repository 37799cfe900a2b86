import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import fontkit, { type Font, type Glyph, type Subset } from '@pdf-lib/fontkit';
import { PROJECT_ROOT } from '../../common/paths';
import { num, PdfFile } from './pdf-file';

const FONT_FILE = join(PROJECT_ROOT, 'node_modules', 'dejavu-fonts-ttf', 'ttf', 'DejaVuSans.ttf');

/**
 * The characters almost every certificate is written in: Latin-1, Latin Extended-A (Polish, Czech, Turkish,
 * Hungarian… names) and typographic punctuation. Their subset of DejaVu Sans is built once per process and
 * embedded as it is, already compressed, which is most of what makes a certificate cheap to render.
 */
const COMMON_CODE_POINTS = [range(0x20, 0x7e), range(0xa0, 0x17f), range(0x2010, 0x2027), [0x20ac, 0x2122]].flat();

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** One glyph as drawn: its id in the embedded subset and its advance in font units. */
interface PlacedGlyph {
  cid: number;
  advance: number;
}

/**
 * A subset of DejaVu Sans as a Type 0 font with Identity-H encoding (§9.7): glyph ids in the subset are the
 * character codes, the W array gives their widths and a ToUnicode map lets readers extract the text.
 */
export class EmbeddedFont {
  private readonly scale: number;

  private constructor(
    private readonly font: Font,
    private readonly glyphsOf: (text: string) => PlacedGlyph[],
    /** The compressed font program and ToUnicode map, and the dictionaries' fixed parts. */
    private readonly parts: { program: Buffer; programLength: number; toUnicode: Buffer; baseFont: string; widths: string },
  ) {
    this.scale = 1000 / font.unitsPerEm;
  }

  /** Text in this font as a PDF hex string for `Tj`. */
  encode(text: string): string {
    let hex = '<';
    for (const glyph of this.glyphsOf(text)) hex += glyph.cid.toString(16).padStart(4, '0');
    return `${hex}>`;
  }

  widthOf(text: string, size: number): number {
    let units = 0;
    for (const glyph of this.glyphsOf(text)) units += glyph.advance;
    return (units * this.scale * size) / 1000;
  }

  /** Writes the font's five objects into `pdf`; returns the font dictionary's number. */
  writeInto(pdf: PdfFile): number {
    const { font, scale, parts } = this;
    const program = pdf.stream(parts.program, '', { length1: parts.programLength });
    const { minX, minY, maxX, maxY } = font.bbox;
    const descriptor = pdf.add(
      `<< /Type /FontDescriptor /FontName /${parts.baseFont} /Flags 4 /FontBBox [${[minX, minY, maxX, maxY].map((v) => num(v * scale)).join(' ')}]` +
        ` /ItalicAngle 0 /Ascent ${num(font.ascent * scale)} /Descent ${num(font.descent * scale)} /CapHeight ${num(font.ascent * scale)} /XHeight 0 /StemV 0 /FontFile2 ${program} 0 R >>`,
    );
    const cidFont = pdf.add(
      `<< /Type /Font /Subtype /CIDFontType2 /BaseFont /${parts.baseFont} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>` +
        ` /FontDescriptor ${descriptor} 0 R /W ${parts.widths} /CIDToGIDMap /Identity >>`,
    );
    const toUnicode = pdf.stream(parts.toUnicode, '', {});
    return pdf.add(`<< /Type /Font /Subtype /Type0 /BaseFont /${parts.baseFont} /Encoding /Identity-H /DescendantFonts [${cidFont} 0 R] /ToUnicode ${toUnicode} 0 R >>`);
  }

  /**
   * The font for a document that draws `texts`: the shared common subset when it has every character, else
   * a subset made for this document, laid out by fontkit so scripts that need shaping (Arabic, say) are shaped.
   */
  static async for(texts: string[]): Promise<EmbeddedFont> {
    const common = await (commonFont ??= EmbeddedFont.common());
    if (texts.every((text) => common.covers(text))) return common;
    return EmbeddedFont.shaped(texts);
  }

  private covers(text: string): boolean {
    for (const char of text) if (!commonGlyphs.has(char.codePointAt(0)!)) return false;
    return true;
  }

  private static async common(): Promise<EmbeddedFont> {
    const font = dejaVuSans();
    const subset = font.createSubset();
    const glyphs: Glyph[] = [];
    for (const codePoint of COMMON_CODE_POINTS) {
      if (!font.hasGlyphForCodePoint(codePoint)) continue;
      const glyph = font.glyphForCodePoint(codePoint);
      // Some characters share a glyph (a space and a no-break space): it is embedded, measured and mapped once.
      if (!glyphs.some((g) => g.id === glyph.id)) glyphs.push(glyph);
      commonGlyphs.set(codePoint, { cid: subset.includeGlyph(glyph), advance: glyph.advanceWidth });
    }
    const glyphsOf = (text: string) => Array.from(text, (char) => commonGlyphs.get(char.codePointAt(0)!)!);
    return new EmbeddedFont(font, glyphsOf, await EmbeddedFont.partsOf(font, subset, glyphs));
  }

  private static async shaped(texts: string[]): Promise<EmbeddedFont> {
    const font = dejaVuSans();
    const subset = font.createSubset();
    const cids = new Map<number, number>();
    const glyphs: Glyph[] = [];
    const include = (glyph: Glyph) => {
      if (cids.has(glyph.id)) return;
      cids.set(glyph.id, subset.includeGlyph(glyph));
      glyphs.push(glyph);
    };
    for (const text of texts) font.layout(text).glyphs.forEach(include);
    // Text drawn later in pieces (a wrapped name, line by line) is laid out again; a glyph it did not need
    // whole is drawn as the font's missing-glyph box rather than failing the certificate.
    const glyphsOf = (text: string) => font.layout(text).glyphs.map((g) => ({ cid: cids.get(g.id) ?? 0, advance: g.advanceWidth }));
    return new EmbeddedFont(font, glyphsOf, await EmbeddedFont.partsOf(font, subset, glyphs));
  }

  private static async partsOf(font: Font, subset: Subset, glyphs: Glyph[]) {
    const program = await encoded(subset);
    const cidOf = (glyph: Glyph) => subset.includeGlyph(glyph);
    const byCid = glyphs.map((glyph) => ({ cid: cidOf(glyph), glyph })).sort((a, b) => a.cid - b.cid);
    // A subset's name carries a tag of six capitals (§9.6.4), here drawn from its glyphs so it is stable.
    const tag = createHash('sha256')
      .update(byCid.map((g) => g.glyph.id).join(','))
      .digest()
      .subarray(0, 6)
      .reduce((name, byte) => name + String.fromCharCode(65 + (byte % 26)), '');
    return {
      program: deflateSync(program),
      programLength: program.length,
      toUnicode: deflateSync(Buffer.from(toUnicodeMap(byCid), 'latin1')),
      baseFont: `${tag}+${font.postscriptName ?? 'DejaVuSans'}`,
      widths: `[${byCid.map(({ cid, glyph }) => `${cid} [${num((glyph.advanceWidth * 1000) / font.unitsPerEm)}]`).join(' ')}]`,
    };
  }
}

const commonGlyphs = new Map<number, PlacedGlyph>();
let commonFont: Promise<EmbeddedFont> | undefined;
let parsed: Font | undefined;

/** Parsing DejaVu Sans costs more than a certificate; the parsed font is only read, so once per process does. */
function dejaVuSans(): Font {
  return (parsed ??= fontkit.create(readFileSync(FONT_FILE)));
}

function encoded(subset: Subset): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // fontkit's types leave out 'error', but the stream is a Node stream and can emit one.
    (subset.encodeStream() as unknown as NodeJS.ReadableStream)
      .on('data', (chunk: Uint8Array) => chunks.push(Buffer.from(chunk)))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', reject);
  });
}

/** The ToUnicode CMap (§9.10.3): each glyph's code to the characters it shows. */
function toUnicodeMap(glyphs: Array<{ cid: number; glyph: Glyph }>): string {
  const hex4 = (n: number) => n.toString(16).padStart(4, '0');
  const utf16 = (codePoints: number[]) => Array.from(String.fromCodePoint(...codePoints), (c) => Array.from({ length: c.length }, (_, i) => hex4(c.charCodeAt(i))).join('')).join('');
  const mapped = glyphs.filter(({ glyph }) => glyph.codePoints.length > 0);
  const lines: string[] = [];
  // bfchar sections hold at most 100 entries each.
  for (let i = 0; i < mapped.length; i += 100) {
    const chunk = mapped.slice(i, i + 100);
    lines.push(`${chunk.length} beginbfchar`, ...chunk.map(({ cid, glyph }) => `<${hex4(cid)}> <${utf16(glyph.codePoints)}>`), 'endbfchar');
  }
  return [
    '/CIDInit /ProcSet findresource begin',
    '12 dict begin',
    'begincmap',
    '/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def',
    '/CMapName /Adobe-Identity-UCS def',
    '/CMapType 2 def',
    '1 begincodespacerange',
    '<0000> <ffff>',
    'endcodespacerange',
    ...lines,
    'endcmap',
    'CMapName currentdict /CMap defineresource pop',
    'end',
    'end',
  ].join('\n');
}

import { createHash } from 'node:crypto';
import type { Font, Glyph, Subset } from 'fontkit';
import { face, type FaceKey } from './fonts';
import { deflate, num, PdfFile } from './pdf-file';

/**
 * The characters almost every certificate is written in: Latin-1, Latin Extended-A (Polish, Czech, Turkish,
 * Hungarian… names) and typographic punctuation. Their subset of DejaVu Sans is built once per process and
 * embedded as it is, already compressed, which is most of what makes a certificate cheap to render.
 */
const COMMON_CODE_POINTS = [range(0x20, 0x7e), range(0xa0, 0x17f), range(0x2010, 0x2027), [0x20ac, 0x2122]].flat();

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** A glyph of the common subset: its id there (the character code in the PDF), advance and ink in DejaVu's units. */
export interface CommonGlyph {
  cid: number;
  advance: number;
  top: number;
  bottom: number;
}

/** A font as one document embeds it. */
export interface DocumentFont {
  /** Writes the font's objects into `pdf`; returns the font dictionary's number. */
  writeInto(pdf: PdfFile): number;
}

/** The compressed program, ToUnicode map and fixed dictionary parts of a font subset, ready to write. */
interface FontParts {
  program: Buffer;
  programLength: number;
  toUnicode: Buffer;
  /** For fonts shared by every document: a digest of the program, which the file's ID takes in its stead. */
  digest?: string;
  baseFont: string;
  widths: string;
  font: Font;
  /** Compressed CIDToGIDMap, when codes are not the subset's glyph ids. */
  cidToGid?: Buffer;
}

/**
 * A subset as a Type 0 font with Identity-H encoding (§9.7): glyph ids in the subset are the character codes,
 * the W array gives their widths and a ToUnicode map lets readers extract the text.
 */
function writeFont(pdf: PdfFile, parts: FontParts): number {
  const { font } = parts;
  const scale = 1000 / font.unitsPerEm;
  const program = pdf.stream(parts.program, '', { length1: parts.programLength, digest: parts.digest });
  const { minX, minY, maxX, maxY } = font.bbox;
  const capHeight = font.capHeight || font.ascent;
  const descriptor = pdf.add(
    `<< /Type /FontDescriptor /FontName /${parts.baseFont} /Flags 4 /FontBBox [${[minX, minY, maxX, maxY].map((v) => num(v * scale)).join(' ')}]` +
      ` /ItalicAngle 0 /Ascent ${num(font.ascent * scale)} /Descent ${num(font.descent * scale)} /CapHeight ${num(capHeight * scale)} /StemV 80 /FontFile2 ${program} 0 R >>`,
  );
  const cidToGid = parts.cidToGid ? `${pdf.stream(parts.cidToGid, '', {})} 0 R` : '/Identity';
  const cidFont = pdf.add(
    `<< /Type /Font /Subtype /CIDFontType2 /BaseFont /${parts.baseFont} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>` +
      ` /FontDescriptor ${descriptor} 0 R /W ${parts.widths} /CIDToGIDMap ${cidToGid} >>`,
  );
  const toUnicode = pdf.stream(parts.toUnicode, '', {});
  return pdf.add(`<< /Type /Font /Subtype /Type0 /BaseFont /${parts.baseFont} /Encoding /Identity-H /DescendantFonts [${cidFont} 0 R] /ToUnicode ${toUnicode} 0 R >>`);
}

/** What a subset holds, as written: each glyph's new id, its advance and the characters it shows. */
function partsOf(font: Font, subset: Subset, glyphs: Array<{ cid: number; advance: number; codePoints: number[] }>, keys: Array<number | string>): FontParts {
  const program = Buffer.from(subset.encode());
  const byCid = [...glyphs].sort((a, b) => a.cid - b.cid);
  // A subset's name carries a tag of six capitals (§9.6.4), here drawn from its glyphs so it is stable.
  const tag = createHash('sha256')
    .update(`${font.postscriptName}:${keys.join(';')}`)
    .digest()
    .subarray(0, 6)
    .reduce((name, byte) => name + String.fromCharCode(65 + (byte % 26)), '');
  return {
    program: deflate(program),
    programLength: program.length,
    toUnicode: deflate(Buffer.from(toUnicodeMap(byCid), 'latin1')),
    baseFont: `${tag}+${(font.postscriptName ?? 'Font').replace(/[^!-~]|[()<>[\]{}/%#]/g, '')}`,
    widths: `[${byCid.map(({ cid, advance }) => `${cid} [${num((advance * 1000) / font.unitsPerEm)}]`).join(' ')}]`,
    font,
  };
}

/** The common subset, built on first use and shared by every document of the process. */
class CommonFont implements DocumentFont {
  readonly glyphs: Array<CommonGlyph | undefined> = [];
  private readonly parts: FontParts;

  constructor() {
    const font = face('dejavu');
    const subset = font.createSubset();
    const included = new Map<number, { cid: number; advance: number; codePoints: number[] }>();
    for (const codePoint of COMMON_CODE_POINTS) {
      if (!font.hasGlyphForCodePoint(codePoint)) continue;
      const glyph: Glyph = font.glyphForCodePoint(codePoint);
      // Some characters share a glyph (a space and a no-break space): it is embedded, measured and mapped once.
      let entry = included.get(glyph.id);
      if (!entry) {
        entry = { cid: subset.includeGlyph(glyph) as unknown as number, advance: glyph.advanceWidth, codePoints: [codePoint] };
        included.set(glyph.id, entry);
      }
      const { minY, maxY } = glyph.bbox;
      this.glyphs[codePoint] = { cid: entry.cid, advance: glyph.advanceWidth, top: Number.isFinite(maxY) ? maxY : 0, bottom: Number.isFinite(minY) ? minY : 0 };
    }
    const parts = partsOf(font, subset, [...included.values()], [...included.keys()]);
    this.parts = { ...parts, digest: createHash('sha256').update(parts.program).digest('hex') };
  }

  writeInto(pdf: PdfFile): number {
    return writeFont(pdf, this.parts);
  }
}

let common: CommonFont | undefined;

/** The common font (built on first use). */
export function commonFont(): CommonFont {
  return (common ??= new CommonFont());
}

/** The common subset's glyph for a UTF-16 code unit, or undefined when the character is not in it. */
export function commonGlyph(code: number): CommonGlyph | undefined {
  return (common ??= new CommonFont()).glyphs[code];
}

/**
 * A subset of one face made for one document: the glyphs its texts were shaped into. Each glyph gets a code
 * (CID) per text it shows: the same glyph can stand for different characters (a letter's shape without its
 * dots, say), and each code's ToUnicode entry says which. A CIDToGIDMap maps the codes to the subset's glyphs.
 */
export class SubsetFont implements DocumentFont {
  private readonly font: Font;
  private readonly subset: Subset;
  private readonly codes = new Map<string, { cid: number; gid: number; advance: number; codePoints: number[] }>();

  constructor(readonly key: FaceKey) {
    this.font = face(key);
    this.subset = this.font.createSubset();
  }

  /** The code for glyph `id` showing `codePoints` (made the first time). */
  include(id: number, advance: number, codePoints: number[]): number {
    const key = `${id}:${codePoints.join(',')}`;
    let entry = this.codes.get(key);
    if (!entry) {
      entry = { cid: this.codes.size + 1, gid: this.subset.includeGlyph(id as unknown as Glyph) as unknown as number, advance, codePoints };
      this.codes.set(key, entry);
    }
    return entry.cid;
  }

  writeInto(pdf: PdfFile): number {
    const entries = [...this.codes.values()];
    const map = Buffer.alloc(2 * (entries.length + 1));
    for (const { cid, gid } of entries) map.writeUInt16BE(gid, 2 * cid);
    return writeFont(pdf, { ...partsOf(this.font, this.subset, entries, [...this.codes.keys()]), cidToGid: deflate(map) });
  }
}

/** The ToUnicode CMap (§9.10.3): each glyph's code to the characters it shows. */
function toUnicodeMap(glyphs: Array<{ cid: number; codePoints: number[] }>): string {
  const hex4 = (n: number) => n.toString(16).padStart(4, '0');
  const utf16 = (codePoints: number[]) => Array.from(String.fromCodePoint(...codePoints), (c) => Array.from({ length: c.length }, (_, i) => hex4(c.charCodeAt(i))).join('')).join('');
  const mapped = glyphs.filter((glyph) => glyph.codePoints.length > 0);
  const lines: string[] = [];
  // bfchar sections hold at most 100 entries each.
  for (let i = 0; i < mapped.length; i += 100) {
    const chunk = mapped.slice(i, i + 100);
    lines.push(`${chunk.length} beginbfchar`, ...chunk.map(({ cid, codePoints }) => `<${hex4(cid)}> <${utf16(codePoints)}>`), 'endbfchar');
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

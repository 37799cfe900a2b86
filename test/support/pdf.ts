import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface PdfInspection {
  text: string;
  qrCodes: string[];
  pages: number;
  size: { width: number; height: number };
}

const BIN = join(__dirname, 'bin');
const ROOT = join(__dirname, '..', '..');

/** The text of a PDF and the QR codes drawn in it, read by independent libraries (pdf-parse, jsQR). */
export function inspectPdf(pdf: Buffer): PdfInspection {
  const output = execFileSync(process.execPath, [join(BIN, 'inspect-pdf.cjs')], { input: pdf, cwd: ROOT });
  return JSON.parse(output.toString('utf8'));
}

// ---- Poppler (Debian's poppler-utils): pdftotext, pdftoppm, pdffonts ----

/** Whether poppler's tools are on the PATH. */
export function hasPoppler(): boolean {
  return ['pdftotext', 'pdftoppm', 'pdffonts'].every((tool) => (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, tool))));
}

/**
 * `describe` for the specs that read PDFs with Poppler (`npm run test:pdf`). Without its tools they fail, saying
 * what to install: a missing tool must never pass as a green run, nor be skipped in silence.
 */
export function describeWithPoppler(name: string, body: () => void): void {
  if (hasPoppler()) return describe(name, body);
  describe(name, () => {
    it('needs poppler-utils (pdftotext, pdftoppm, pdffonts)', () => {
      throw new Error('pdftotext/pdftoppm/pdffonts are missing: install poppler-utils (apt-get install -y poppler-utils; .ci/run does)');
    });
  });
}

function withFile<T>(pdf: Buffer, use: (file: string, dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'pdf-'));
  try {
    const file = join(dir, 'in.pdf');
    writeFileSync(file, pdf);
    return use(file, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bidirectional controls pdftotext wraps right-to-left text in (U+202A–U+202E, U+2066–U+2069, marks). */
const BIDI_CONTROLS = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * What pdftotext reads from the PDF, in its reading order, with the direction marks it adds around
 * right-to-left text removed and every run of white space made one space.
 */
export function pdfToText(pdf: Buffer): string {
  const raw = withFile(pdf, (file) => execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-']).toString('utf8'));
  return raw.replace(BIDI_CONTROLS, '').replace(/\s+/g, ' ').trim();
}

/** The fonts pdffonts lists: name, type, embedded, subset, has a ToUnicode map. */
export function pdfFonts(pdf: Buffer): Array<{ name: string; type: string; embedded: boolean; subset: boolean; unicode: boolean }> {
  const out = withFile(pdf, (file) => execFileSync('pdffonts', [file]).toString('utf8'));
  return out
    .split('\n')
    .slice(2)
    .filter((line) => line.trim())
    .map((line) => {
      const m = /^(\S+)\s+(.+?)\s+(Identity-H|WinAnsi|Custom|Builtin|Standard|MacRoman)\s+(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$/.exec(line);
      if (!m) throw new Error(`unexpected pdffonts line: ${line}`);
      return { name: m[1], type: m[2], embedded: m[4] === 'yes', subset: m[5] === 'yes', unicode: m[6] === 'yes' };
    });
}

/** A page rendered by pdftoppm in shades of grey: one byte a pixel, 255 white. */
export interface GreyImage {
  width: number;
  height: number;
  pixels: Uint8Array;
  /** Pixels per PDF point. */
  scale: number;
}

/** Page 1 rendered at `dpi`. */
export function renderPage(pdf: Buffer, dpi = 100): GreyImage {
  return withFile(pdf, (file, dir) => {
    execFileSync('pdftoppm', ['-gray', '-r', String(dpi), '-singlefile', file, join(dir, 'page')]);
    const pgm = readFileSync(join(dir, 'page.pgm'));
    const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(pgm.toString('latin1', 0, 64))!;
    return { width: Number(header[1]), height: Number(header[2]), pixels: new Uint8Array(pgm.subarray(header[0].length)), scale: dpi / 72 };
  });
}

/**
 * How unlike two renderings of the same page are: of the pixels inked (darker than mid-grey) in either, the
 * share whose grey is more than a quarter of the range from every pixel of the other rendering at most one
 * pixel away (the rasteriser puts glyph origins on quarter pixels, so the same glyph a hair to the side differs
 * at its edges). 0 for the same picture; a word drawn with other glyphs, marks elsewhere, or boxes for missing
 * glyphs gives a large share.
 */
export function inkDifference(a: GreyImage, b: GreyImage): { inked: number; share: number } {
  if (a.width !== b.width || a.height !== b.height) throw new Error('images of different sizes');
  const { width, height } = a;
  const near = (image: GreyImage, x: number, y: number, grey: number) => {
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx >= 0 && ny >= 0 && nx < width && ny < height && Math.abs(image.pixels[ny * width + nx] - grey) <= 64) return true;
      }
    }
    return false;
  };
  let inked = 0;
  let differing = 0;
  for (let i = 0; i < a.pixels.length; i++) {
    if (a.pixels[i] >= 128 && b.pixels[i] >= 128) continue;
    inked++;
    const x = i % width;
    const y = (i - x) / width;
    if (!near(b, x, y, a.pixels[i]) || !near(a, x, y, b.pixels[i])) differing++;
  }
  return { inked, share: inked ? differing / inked : 0 };
}

/** The share of a rendering's pixels that are inked (darker than mid-grey). */
export function inkCoverage(image: GreyImage): number {
  let inked = 0;
  for (const p of image.pixels) if (p < 128) inked++;
  return inked / image.pixels.length;
}

// ---- Tagging and layout ----

export interface StructureElementInfo {
  type: string;
  lang?: string;
  alt?: string;
  bbox?: number[];
  mcids: number[];
}
export interface StructureNode extends StructureElementInfo {
  kids: StructureNode[];
}

export interface TaggingInspection {
  catalog: { marked: boolean; lang?: string; displayDocTitle: boolean; metadata: { subtype?: string; filtered: boolean; xml: string } | null };
  info: { title?: string };
  page: { structParents?: number; tabs?: string };
  tree: StructureNode[];
  elements: Array<StructureElementInfo & { kids: number }>;
  /** For the page's StructParents key: the type of the element each MCID belongs to. */
  parentTree: Record<string, string[]>;
  sequences: Array<{ tag: string; mcid?: number; actualText?: string; depth: number; hasText: boolean }>;
  textOutsideMarkedContent: boolean;
  /** With `ink`: each MCID's ink drawn alone, [x1, y1, x2, y2] in points (y up), null when it leaves none. */
  ink?: Record<string, [number, number, number, number] | null>;
  pageSize?: [number, number];
}

/** The PDF's tagging, read with pdf-lib; with `ink`, also where each marked-content sequence's ink is (rendered alone by pdftoppm). */
export function inspectTagging(pdf: Buffer, options: { ink?: boolean } = {}): TaggingInspection {
  const output = execFileSync(process.execPath, [join(BIN, 'inspect-tagging.cjs'), ...(options.ink ? ['--ink'] : [])], { input: pdf, cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(output.toString('utf8'));
}

/**
 * A page drawing `text` as HarfBuzz shapes it in the font file `font`, at (x, y) and `size`: the known-good
 * rendering the certificate's lines are compared with (see bin/harfbuzz-reference.mjs).
 */
export function harfbuzzReference(input: { font: string; text: string; size: number; x: number; y: number; colour: number[]; page: [number, number]; direction?: 'ltr' | 'rtl'; unshaped?: boolean }): Buffer {
  return execFileSync(process.execPath, [join(BIN, 'harfbuzz-reference.mjs')], { input: JSON.stringify(input), cwd: ROOT, maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'ignore'] });
}

/** Rewrites a PDF so that its page shows only the marked-content sequence `mcid` (for rendering one line alone). */
export function onlyMarkedContent(pdf: Buffer, mcid: number): Buffer {
  return execFileSync(process.execPath, [join(BIN, 'inspect-tagging.cjs'), '--only', String(mcid)], { input: pdf, cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
}

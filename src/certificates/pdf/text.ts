import bidiFactory from 'bidi-js';
import type { Font } from 'fontkit';
import { face, FALLBACK_ORDER, type FaceKey, faceForCharacter, LANGUAGE_OF_FACE } from './fonts';
import { type CommonGlyph, commonGlyph } from './pdf-font';

/**
 * Text as certificates draw it: a name or a title is cut into runs of one face and one direction, each run
 * shaped (fontkit: Arabic joining, Indic reordering and conjuncts, Thai marks, kerning), lines broken where
 * the script allows, and each line's runs put in visual order (the Unicode bidirectional algorithm, bidi-js).
 *
 * Most texts (Latin-1, Latin Extended-A and typographic punctuation, which need no shaping) take a short path:
 * one glyph per character from the common DejaVu Sans subset, no layout engine at all.
 */

/** One glyph as drawn: its id (in the face; in the common subset for the common face), advances and offsets in font units. */
export interface PlacedGlyph {
  id: number;
  /** The glyph's own advance, which the font's widths say. */
  advance: number;
  /** How far the pen moves after it, which the layout says (kerning, marks). */
  xAdvance: number;
  xOffset: number;
  yOffset: number;
  /** The characters it shows (several for a ligature, none for part of a split vowel). */
  codePoints: number[];
  /** Ink above and below the baseline, font units (below is negative). */
  top: number;
  bottom: number;
}

/** Glyphs of one face in one direction, in visual order. `face` 'common' is the shared DejaVu subset. */
export interface GlyphRun {
  face: FaceKey | 'common';
  unitsPerEm: number;
  glyphs: PlacedGlyph[];
  /**
   * The run's text, when its glyphs, read one by one in their order (reversed, right to left), do not spell
   * it: reordered vowels, split or merged letters. Drawn as a span with this ActualText (§14.9.4).
   */
  actualText?: string;
}

/** One line ready to draw: its runs left to right, its logical text, and its measures at a size of 1 pt. */
export interface TextLine {
  runs: GlyphRun[];
  /** The characters in reading order, as a reader should extract them. */
  text: string;
  width: number;
  /** Ink above (positive) and below (negative) the baseline. */
  top: number;
  bottom: number;
}

const bidi = bidiFactory();
const graphemes = new Intl.Segmenter('und', { granularity: 'grapheme' });
const words = new Intl.Segmenter('und', { granularity: 'word' });
/** Spaces a line may break after (not the no-break ones: U+00A0, U+2007, U+202F). Any run of other white space is one space. */
const BREAKING_SPACE = /[ \u1680\u2000-\u2006\u2008-\u200A\u205F\u3000]/u;
const COLLAPSED_SPACE = /[\t\n\v\f\r \u0085\u2028\u2029]+/gu;
const isSpace = (char: string) => char === ' ' || (char > '\u007f' && BREAKING_SPACE.test(char));
/** Scripts written without spaces between words: lines may break between their words (found by ICU's dictionaries). */
const NO_SPACES = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;
const LETTER = /\p{L}/u;
/** Characters no face needs a glyph for (joiners, variation selectors): shaping uses them, nothing is drawn. */
const DEFAULT_IGNORABLE = /^\p{Default_Ignorable_Code_Point}$/u;

/** A stretch between two break opportunities, with its trailing spaces. Widths at 1 pt. */
interface Piece {
  start: number;
  contentEnd: number;
  end: number;
  width: number;
  spaceWidth: number;
}

/** A text prepared for breaking into lines at any size. */
export class Paragraph {
  readonly text: string;
  private readonly pieces: Piece[];
  private readonly shaper: Shaper | null;
  private readonly lines = new Map<string, TextLine>();

  constructor(text: string) {
    this.text = text.normalize('NFC').replace(COLLAPSED_SPACE, ' ').trim();
    this.shaper = isCommon(this.text) ? null : new Shaper(this.text);
    this.pieces = breakOpportunities(this.text, this.shaper !== null).map(([start, contentEnd, end]) => ({
      start,
      contentEnd,
      end,
      width: this.measure(start, contentEnd),
      spaceWidth: this.measure(contentEnd, end),
    }));
  }

  /** The BCP 47 language the script of its letters suggests, when one script (with a known language) writes all of them. */
  get language(): string | undefined {
    return this.shaper?.language();
  }

  /** The width of the whole text on one line, at 1 pt. */
  get width(): number {
    return this.pieces.reduce((sum, piece) => sum + piece.width + piece.spaceWidth, 0) - (this.pieces.at(-1)?.spaceWidth ?? 0);
  }

  /**
   * Lines no wider than `maxWidth` at `size`, as character ranges: greedy, at the break opportunities, and
   * inside a stretch (between characters) only when the stretch alone is wider than a line.
   */
  breakLines(size: number, maxWidth: number): Array<[number, number]> {
    const limit = maxWidth / size;
    const lines: Array<[number, number]> = [];
    let start = -1;
    let end = 0;
    let width = 0;
    for (const piece of this.pieces) {
      if (start >= 0 && width + piece.width <= limit + 1e-9) {
        end = piece.contentEnd;
        width += piece.width + piece.spaceWidth;
        continue;
      }
      if (start >= 0) lines.push([start, end]);
      if (piece.width <= limit + 1e-9) {
        start = piece.start;
        end = piece.contentEnd;
        width = piece.width + piece.spaceWidth;
        continue;
      }
      // Longer than a line by itself: cut between characters (grapheme clusters).
      start = piece.start;
      width = 0;
      for (const { index, segment } of graphemes.segment(this.text.slice(piece.start, piece.contentEnd))) {
        const at = piece.start + index;
        const w = this.measure(at, at + segment.length);
        if (width > 0 && width + w > limit + 1e-9) {
          lines.push([start, at]);
          start = at;
          width = 0;
        }
        width += w;
      }
      end = piece.contentEnd;
      width += piece.spaceWidth;
    }
    if (start >= 0) lines.push([start, end]);
    return lines;
  }

  /** The line from `start` to `end` (characters), shaped and in visual order. */
  line(start: number, end: number): TextLine {
    const key = `${start}:${end}`;
    let line = this.lines.get(key);
    if (!line) this.lines.set(key, (line = this.shapeLine(start, end)));
    return line;
  }

  private shapeLine(start: number, end: number): TextLine {
    const text = this.text.slice(start, end);
    const runs = this.shaper ? this.shaper.runs(start, end) : [commonRun(text)];
    let width = 0;
    let top = 0;
    let bottom = 0;
    for (const run of runs) {
      for (const glyph of run.glyphs) {
        top = Math.max(top, (glyph.top + glyph.yOffset) / run.unitsPerEm);
        bottom = Math.min(bottom, (glyph.bottom + glyph.yOffset) / run.unitsPerEm);
        width += glyph.xAdvance / run.unitsPerEm;
      }
    }
    return { runs, text, width, top, bottom };
  }

  private measure(start: number, end: number): number {
    if (start >= end) return 0;
    if (!this.shaper) {
      let units = 0;
      for (let i = start; i < end; i++) units += commonGlyph(this.text.charCodeAt(i))!.advance;
      return units / COMMON_UNITS_PER_EM;
    }
    return this.shaper.width(start, end);
  }
}

const COMMON_UNITS_PER_EM = 2048;

function isCommon(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!commonGlyph(text.charCodeAt(i))) return false;
  return true;
}

function commonRun(text: string): GlyphRun {
  const glyphs: PlacedGlyph[] = [];
  for (let i = 0; i < text.length; i++) {
    const glyph: CommonGlyph = commonGlyph(text.charCodeAt(i))!;
    glyphs.push({ id: glyph.cid, advance: glyph.advance, xAdvance: glyph.advance, xOffset: 0, yOffset: 0, codePoints: [text.charCodeAt(i)], top: glyph.top, bottom: glyph.bottom });
  }
  return { face: 'common', unitsPerEm: COMMON_UNITS_PER_EM, glyphs };
}

/**
 * Where lines may break, as [start, contentEnd, end] stretches: after spaces; after a hyphen between letters;
 * and, in scripts written without spaces, between words (Intl.Segmenter's dictionaries for Thai, Chinese…).
 */
function breakOpportunities(text: string, complex: boolean): Array<[number, number, number]> {
  const breaks = new Set<number>();
  for (let i = 1; i < text.length; i++) {
    const before = text[i - 1];
    if (isSpace(before) && !isSpace(text[i])) breaks.add(i);
    else if ((before === '-' || before === '\u2010') && i >= 2 && LETTER.test(text[i - 2]) && LETTER.test(text[i])) breaks.add(i);
  }
  if (complex && NO_SPACES.test(text)) {
    let previous: { end: number; wordLike: boolean; last: string } | null = null;
    for (const { segment, index, isWordLike } of words.segment(text)) {
      const first = segment[0];
      if (previous && previous.wordLike && isWordLike && (NO_SPACES.test(previous.last) || NO_SPACES.test(first))) breaks.add(index);
      previous = { end: index + segment.length, wordLike: isWordLike === true, last: segment.at(-1)! };
    }
  }
  const stretches: Array<[number, number, number]> = [];
  const points = [...breaks].sort((a, b) => a - b);
  let start = 0;
  for (const point of [...points, text.length]) {
    let contentEnd = point;
    while (contentEnd > start && isSpace(text[contentEnd - 1])) contentEnd--;
    stretches.push([start, contentEnd, point]);
    start = point;
  }
  return text.length ? stretches : [];
}

/** A run before shaping: characters [start, end) of one face at one embedding level. */
interface RunSpan {
  start: number;
  end: number;
  face: FaceKey;
  level: number;
}

/** Fonts, directions and shapes for one text that needs more than the common subset. */
class Shaper {
  private readonly spans: RunSpan[];
  private readonly levels: Uint8Array;
  private readonly shaped = new Map<string, PlacedGlyph[]>();

  constructor(private readonly text: string) {
    this.levels = bidi.getEmbeddingLevels(text, 'auto').levels;
    this.spans = this.itemise();
  }

  language(): string | undefined {
    const faces = new Set<FaceKey>();
    for (const char of this.text) {
      if (!LETTER.test(char)) continue;
      const key = faceForCharacter(char);
      if (key) faces.add(key);
    }
    return faces.size === 1 ? LANGUAGE_OF_FACE[[...faces][0]] : undefined;
  }

  width(start: number, end: number): number {
    let width = 0;
    for (const span of this.spansIn(start, end)) {
      const { unitsPerEm } = face(span.face);
      for (const glyph of this.shape(span)) width += glyph.xAdvance / unitsPerEm;
    }
    return width;
  }

  /** The runs of [start, end) in visual order (UAX #9 rule L2: reverse from the highest level down to the lowest odd one). */
  runs(start: number, end: number): GlyphRun[] {
    const spans = this.spansIn(start, end);
    const highest = Math.max(...spans.map((s) => s.level));
    const lowestOdd = Math.min(...spans.map((s) => (s.level % 2 ? s.level : s.level + 1)));
    for (let level = highest; level >= lowestOdd; level--) {
      for (let i = 0; i < spans.length; i++) {
        if (spans[i].level < level) continue;
        let j = i;
        while (j + 1 < spans.length && spans[j + 1].level >= level) j++;
        spans.splice(i, j - i + 1, ...spans.slice(i, j + 1).reverse());
        i = j;
      }
    }
    return spans.map((span) => {
      const glyphs = this.shape(span);
      const text = this.text.slice(span.start, span.end);
      const rtl = span.level % 2 === 1;
      const spelt = (rtl ? glyphs.toReversed() : glyphs).map((glyph) => String.fromCodePoint(...glyph.codePoints)).join('');
      // Readers place each glyph's characters where the glyph is; a mark moved onto its base (or with no width
      // of its own) can land beside the wrong letter, so a left-to-right run with one is spelt out too.
      // (Right-to-left runs are not: readers put ActualText in left-to-right order and then reverse it.)
      const marks = !rtl && glyphs.some((glyph) => glyph.xOffset !== 0 || glyph.yOffset !== 0 || (glyph.xAdvance === 0 && glyph.codePoints.length > 0));
      return { face: span.face, unitsPerEm: face(span.face).unitsPerEm, glyphs, ...(spelt === text && !marks ? {} : { actualText: text }) };
    });
  }

  private spansIn(start: number, end: number): RunSpan[] {
    const spans: RunSpan[] = [];
    for (const span of this.spans) {
      const from = Math.max(start, span.start);
      const to = Math.min(end, span.end);
      if (from < to) spans.push({ ...span, start: from, end: to });
    }
    return spans;
  }

  /**
   * Each grapheme cluster gets the face of its script (a space, digit or mark: the face of what precedes it),
   * or, when that face lacks one of its characters, the first face that has them all; clusters of one face and
   * one embedding level make a run.
   */
  private itemise(): RunSpan[] {
    const clusters: Array<{ start: number; end: number; neutral: boolean; script: FaceKey | null; chars: number[] }> = [];
    for (const { segment, index } of graphemes.segment(this.text)) {
      let script: FaceKey | null = null;
      const chars: number[] = [];
      for (const char of segment) {
        script ??= faceForCharacter(char);
        if (!DEFAULT_IGNORABLE.test(char)) chars.push(char.codePointAt(0)!);
      }
      clusters.push({ start: index, end: index + segment.length, neutral: script === null, script, chars });
    }
    // Neutral clusters take the script of the cluster before (or, at the start, after) them.
    let previous: FaceKey | null = null;
    for (const cluster of clusters) cluster.script = previous = cluster.script ?? previous;
    let next: FaceKey | null = null;
    for (const cluster of clusters.toReversed()) cluster.script = next = cluster.script ?? next;

    const spans: RunSpan[] = [];
    let chosen: FaceKey | null = null;
    for (const cluster of clusters) {
      const script = cluster.script ?? 'dejavu';
      const candidates: FaceKey[] = [...(cluster.neutral && chosen ? [chosen] : []), script, ...FALLBACK_ORDER];
      const found: FaceKey = candidates.find((key) => cluster.chars.every((cp) => face(key).hasGlyphForCodePoint(cp))) ?? script;
      chosen = found;
      const level = this.levels[cluster.start];
      const last = spans.at(-1);
      if (last && last.face === found && last.level === level) last.end = cluster.end;
      else spans.push({ start: cluster.start, end: cluster.end, face: found, level });
    }
    return spans;
  }

  private shape(span: RunSpan): PlacedGlyph[] {
    const rtl = span.level % 2 === 1;
    let text = this.text.slice(span.start, span.end);
    const key = `${span.face}\u0000${rtl ? 'r' : 'l'}\u0000${text}`;
    const cached = this.shaped.get(key);
    if (cached) return cached;
    if (rtl) text = Array.from(text, (char) => bidi.getMirroredCharacter(char) ?? char).join('');
    if (span.face === 'thai') text = decomposeSaraAm(text);
    const font = face(span.face);
    const run = font.layout(text, undefined, undefined, undefined, rtl ? 'rtl' : 'ltr');
    const glyphs: PlacedGlyph[] = [];
    run.glyphs.forEach((glyph, i) => {
      // A joiner or selector the face has no glyph for is not drawn (as HarfBuzz hides it).
      if (glyph.id === 0 && glyph.codePoints.length > 0 && glyph.codePoints.every((cp) => DEFAULT_IGNORABLE.test(String.fromCodePoint(cp)))) return;
      const position = run.positions[i];
      const { top, bottom } = inkOf(font, glyph.id);
      // A mirrored bracket still stands for the character the text has (mirroring swaps pairs, so again undoes it).
      const codePoints = rtl ? glyph.codePoints.map((cp) => bidi.getMirroredCharacter(String.fromCodePoint(cp))?.codePointAt(0) ?? cp) : glyph.codePoints;
      glyphs.push({ id: glyph.id, advance: glyph.advanceWidth, xAdvance: position.xAdvance, xOffset: position.xOffset, yOffset: position.yOffset, codePoints, top, bottom });
    });
    this.shaped.set(key, glyphs);
    return glyphs;
  }
}

/**
 * Thai SARA AM is NIKHAHIT + SARA AA, and the NIKHAHIT goes before the tone marks above the consonant (as
 * HarfBuzz's Thai shaper does, which fontkit has not): น้ำ is drawn น + ◌ํ + ◌้ + า.
 */
function decomposeSaraAm(text: string): string {
  return text.replace(/([\u0E31\u0E34-\u0E37\u0E47-\u0E4E]*)\u0E33/gu, '\u0E4D$1\u0E32');
}

const inks = new WeakMap<Font, Map<number, { top: number; bottom: number }>>();

/** A glyph's ink above and below the baseline, font units. */
function inkOf(font: Font, id: number): { top: number; bottom: number } {
  let byId = inks.get(font);
  if (!byId) inks.set(font, (byId = new Map()));
  let ink = byId.get(id);
  if (!ink) {
    const { minY, maxY } = font.getGlyph(id).bbox;
    ink = Number.isFinite(minY) && Number.isFinite(maxY) ? { top: maxY, bottom: minY } : { top: 0, bottom: 0 };
    byId.set(id, ink);
  }
  return ink;
}

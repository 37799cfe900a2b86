import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as fontkit from 'fontkit';
import type { Font } from 'fontkit';
import { PROJECT_ROOT } from '../../common/paths';

/**
 * The typefaces certificates are written in, each from an npm package (SIL Open Font License 1.1): DejaVu
 * Sans for Latin, Greek and Cyrillic (and whatever else it has), a Noto Sans for each other script a name or
 * a title may be in. Each is read and parsed the first time a text needs it, once per process (Noto Sans SC
 * is 10 MB); a document embeds a subset of the glyphs it draws.
 */
export type FaceKey = 'dejavu' | 'arabic' | 'hebrew' | 'devanagari' | 'bengali' | 'gurmukhi' | 'tamil' | 'thai' | 'han';

const NOTO = (pkg: string, file: string) => join(PROJECT_ROOT, 'node_modules', '@expo-google-fonts', pkg, '400Regular', file);

const FILES: Record<FaceKey, string> = {
  dejavu: join(PROJECT_ROOT, 'node_modules', 'dejavu-fonts-ttf', 'ttf', 'DejaVuSans.ttf'),
  arabic: NOTO('noto-sans-arabic', 'NotoSansArabic_400Regular.ttf'),
  hebrew: NOTO('noto-sans-hebrew', 'NotoSansHebrew_400Regular.ttf'),
  devanagari: NOTO('noto-sans-devanagari', 'NotoSansDevanagari_400Regular.ttf'),
  bengali: NOTO('noto-sans-bengali', 'NotoSansBengali_400Regular.ttf'),
  gurmukhi: NOTO('noto-sans-gurmukhi', 'NotoSansGurmukhi_400Regular.ttf'),
  tamil: NOTO('noto-sans-tamil', 'NotoSansTamil_400Regular.ttf'),
  thai: NOTO('noto-sans-thai', 'NotoSansThai_400Regular.ttf'),
  han: NOTO('noto-sans-sc', 'NotoSansSC_400Regular.ttf'),
};

/** Where a face is looked for when a character's own script's face lacks it: DejaVu first (it has the most), the big one last. */
export const FALLBACK_ORDER: readonly FaceKey[] = ['dejavu', 'arabic', 'hebrew', 'devanagari', 'bengali', 'gurmukhi', 'tamil', 'thai', 'han'];

/** Unicode scripts (ISO 15924 names as in `\p{Script=…}`) and the face that writes them; any other script starts with DejaVu Sans. */
const SCRIPT_FACES: ReadonlyArray<[RegExp, FaceKey]> = [
  [/\p{Script=Arabic}/u, 'arabic'],
  [/\p{Script=Hebrew}/u, 'hebrew'],
  [/\p{Script=Devanagari}/u, 'devanagari'],
  [/\p{Script=Bengali}/u, 'bengali'],
  [/\p{Script=Gurmukhi}/u, 'gurmukhi'],
  [/\p{Script=Tamil}/u, 'tamil'],
  [/\p{Script=Thai}/u, 'thai'],
  [/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}\p{Script=Hangul}]/u, 'han'],
];

/** The face a character's script is written in, or null for characters of every script (spaces, digits, punctuation, combining marks). */
export function faceForCharacter(char: string): FaceKey | null {
  if (NEUTRAL.test(char)) return null;
  for (const [pattern, face] of SCRIPT_FACES) if (pattern.test(char)) return face;
  return 'dejavu';
}

const NEUTRAL = /^[\p{Script=Common}\p{Script=Inherited}]$/u;

/**
 * The BCP 47 tag of the language a text in this face's script is most likely in, for assistive technology
 * (a screen reader picks its voice by it). Only where the script says it well; DejaVu's scripts (Latin,
 * Greek, Cyrillic…) say too little and get none.
 */
export const LANGUAGE_OF_FACE: Partial<Record<FaceKey, string>> = {
  arabic: 'ar',
  hebrew: 'he',
  devanagari: 'hi',
  bengali: 'bn',
  gurmukhi: 'pa',
  tamil: 'ta',
  thai: 'th',
  han: 'zh',
};

const loaded = new Map<FaceKey, Font>();

/** The parsed face, read from disk the first time. Parsed fonts are only read, so one per process is shared by every document. */
export function face(key: FaceKey): Font {
  let font = loaded.get(key);
  if (!font) {
    font = fontkit.create(readFileSync(FILES[key])) as Font;
    guardNullAnchors(font);
    keepCharactersPerGlyph(font);
    loaded.set(key, font);
  }
  return font;
}

/** Whether the face is parsed already (for tests: the big face is read only when a text needs it). */
export function isLoaded(key: FaceKey): boolean {
  return loaded.has(key);
}

/**
 * fontkit 2.0.4 throws on a GPOS mark attachment whose anchor is NULL, which the OpenType specification
 * allows ("no anchor here") and Noto Sans Gurmukhi, among others, has (foliojs/fontkit#367; fix proposed in
 * #374). HarfBuzz skips such an attachment; so does this, by guarding the positioning processor's one
 * method that reads anchors. The processor is fontkit's own class, reached through the font's layout engine.
 */
function guardNullAnchors(font: Font): void {
  const internal = font as unknown as { layout(text: string): unknown; _layoutEngine?: { engine?: { GPOSProcessor?: object | null } } };
  internal.layout(' ');
  const processor = internal._layoutEngine?.engine?.GPOSProcessor;
  if (!processor) return;
  const prototype = Object.getPrototypeOf(processor) as { applyAnchor?: AnchorMethod; [GUARDED]?: true };
  if (prototype[GUARDED] || typeof prototype.applyAnchor !== 'function') return;
  const applyAnchor = prototype.applyAnchor;
  prototype.applyAnchor = function (this: unknown, markRecord, baseAnchor, baseGlyphIndex) {
    if (!baseAnchor || !markRecord?.markAnchor) return;
    applyAnchor.call(this, markRecord, baseAnchor, baseGlyphIndex);
  };
  prototype[GUARDED] = true;
}

/**
 * fontkit keeps one Glyph object per glyph id, holding the characters of the first text it was laid out for:
 * in Noto Sans Arabic, ر and ز share a glyph (ز adds a dot, a glyph of its own), so every later ر would say ز.
 * Layout asks `getGlyph(id, characters)` for each glyph it outputs; this answers with a view of the shared glyph
 * that carries the characters of this occurrence.
 */
function keepCharactersPerGlyph(font: Font): void {
  const getGlyph = font.getGlyph.bind(font);
  font.getGlyph = (id: number, codePoints?: number[]) => {
    const glyph = getGlyph(id, codePoints);
    return glyph && codePoints ? (Object.create(glyph, { codePoints: { value: codePoints } }) as typeof glyph) : glyph;
  };
}

type AnchorMethod = (this: unknown, markRecord: { markAnchor?: unknown } | null, baseAnchor: unknown, baseGlyphIndex: number) => void;
const GUARDED = Symbol('null anchors guarded');

import type { FieldErrors } from '../../common/errors';
import type { ExchangeRevision } from '../entities/exchange-revision.entity';
import { EXCHANGE_KINDS, HACK_MAX_CHARACTERS, type ExchangeKind } from '../exchange-kinds';
import { idList } from '../search-projection';

/** The limits of what a contribution holds, in characters (code points) unless said otherwise. */
export const LIMITS = {
  title: 150,
  summary: 500,
  /** Each Markdown section of a case study or tool. */
  section: 8000,
  tip: HACK_MAX_CHARACTERS,
  changeNote: 500,
  partners: 10,
  partnerName: 150,
  topics: 10,
  systems: 10,
  keyFigures: 6,
  figureLabel: 80,
  figureUnit: 12,
  /** The largest number a key figure may hold. */
  figureValue: 1_000_000_000,
  /** Attachments on one revision. */
  attachments: 10,
} as const;

/** The kinds as they appear in URLs (/exchange/new/case-study) and back. */
export const KIND_SEGMENTS: Record<ExchangeKind, string> = { case_study: 'case-study', tool: 'tool', hack: 'hack' };
export const kindForSegment = (segment: string): ExchangeKind | null => (Object.entries(KIND_SEGMENTS).find(([, s]) => s === segment)?.[0] as ExchangeKind | undefined) ?? null;

/** "a case study", "a tool", "a hack": for sentences. */
export const kindWithArticle = (kind: ExchangeKind) => `a ${EXCHANGE_KINDS[kind].toLowerCase()}`;
export const kindLower = (kind: ExchangeKind) => EXCHANGE_KINDS[kind].toLowerCase();

/** Characters as a person counts them: code points, after trimming (an emoji is one, a line break is one). */
export const characterCount = (text: string | null | undefined) => [...(text ?? '').trim()].length;

/** One of a case study's results as figures: "Discharge letters sent within 24 hours", 61 → 94, "%". */
export interface KeyFigure {
  label: string;
  before: number;
  after: number;
  unit: string;
}

/** The stored key figures (revision.keyFigures), read defensively: anything malformed is left out. */
export function keyFiguresOf(json: string | null | undefined): KeyFigure[] {
  if (!json) return [];
  try {
    const value: unknown = JSON.parse(json);
    if (!Array.isArray(value)) return [];
    return value
      .filter((f): f is KeyFigure => !!f && typeof f === 'object' && typeof f.label === 'string' && Number.isFinite(f.before) && Number.isFinite(f.after) && typeof (f.unit ?? '') === 'string')
      .slice(0, LIMITS.keyFigures)
      .map((f) => ({ label: f.label, before: f.before, after: f.after, unit: f.unit ?? '' }));
  } catch {
    return [];
  }
}

export const keyFiguresJson = (figures: KeyFigure[]) => (figures.length ? JSON.stringify(figures.map(({ label, before, after, unit }) => ({ label, before, after, unit }))) : null);

/** A number as a person types it: 94, 61.5, 1,200 (commas grouping thousands). Null when it is not one. */
export function parseFigure(text: string): number | null {
  const clean = text.trim().replace(/,(?=\d{3}(\D|$))/g, '');
  if (!/^\d{1,10}(\.\d{1,2})?$/.test(clean)) return null;
  const value = Number(clean);
  return Number.isFinite(value) && value <= LIMITS.figureValue ? value : null;
}

/** A stored figure as the form shows it again (so that saving it unchanged stores the same number). */
export const figureText = (value: number) => String(value);

/**
 * The key figures typed into the form's rows (figureLabel-1 … figureUnit-6). A row left empty is no figure; a row
 * partly filled in says what it lacks.
 */
export function parseKeyFigureRows(body: Record<string, unknown>): { figures: KeyFigure[]; errors: FieldErrors } {
  const figures: KeyFigure[] = [];
  const errors: FieldErrors = {};
  const text = (name: string) => {
    const value = body[name];
    return typeof value === 'string' ? value.replace(/\s+/g, ' ').trim() : '';
  };
  for (let row = 1; row <= LIMITS.keyFigures; row++) {
    const label = text(`figureLabel-${row}`);
    const before = text(`figureBefore-${row}`);
    const after = text(`figureAfter-${row}`);
    const unit = text(`figureUnit-${row}`);
    if (!label && !before && !after && !unit) continue;
    const name = `key figure ${row}`;
    if (!label) errors[`figureLabel-${row}`] = `Enter what ${name} measures, or clear its row`;
    else if (characterCount(label) > LIMITS.figureLabel) errors[`figureLabel-${row}`] = `What ${name} measures must be ${LIMITS.figureLabel} characters or fewer`;
    const beforeValue = parseFigure(before);
    const afterValue = parseFigure(after);
    if (beforeValue === null) errors[`figureBefore-${row}`] = before ? `The “before” of ${name} must be a number from 0 to 1,000,000,000, like 61 or 61.5` : `Enter the “before” of ${name}`;
    if (afterValue === null) errors[`figureAfter-${row}`] = after ? `The “after” of ${name} must be a number from 0 to 1,000,000,000, like 94 or 94.5` : `Enter the “after” of ${name}`;
    if (characterCount(unit) > LIMITS.figureUnit) errors[`figureUnit-${row}`] = `The unit of ${name} must be ${LIMITS.figureUnit} characters or fewer, like % or days`;
    if (label && beforeValue !== null && afterValue !== null && !errors[`figureLabel-${row}`] && !errors[`figureUnit-${row}`]) figures.push({ label, before: beforeValue, after: afterValue, unit });
  }
  return { figures, errors };
}

/** The form's rows for the stored figures (and empty rows up to the most there may be). */
export function keyFigureRows(values: Record<string, unknown>, errors: FieldErrors) {
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : '');
  return Array.from({ length: LIMITS.keyFigures }, (_, i) => {
    const row = i + 1;
    const field = (kind: string) => ({ name: `figure${kind}-${row}`, value: text(`figure${kind}-${row}`), error: errors[`figure${kind}-${row}`] });
    return { row, label: field('Label'), before: field('Before'), after: field('After'), unit: field('Unit') };
  });
}

/** The form values of stored figures. */
export function keyFigureValues(figures: KeyFigure[]): Record<string, string> {
  const values: Record<string, string> = {};
  figures.forEach((f, i) => {
    values[`figureLabel-${i + 1}`] = f.label;
    values[`figureBefore-${i + 1}`] = figureText(f.before);
    values[`figureAfter-${i + 1}`] = figureText(f.after);
    values[`figureUnit-${i + 1}`] = f.unit;
  });
  return values;
}

const filled = (text: string | null | undefined) => !!text && text.trim() !== '';

/**
 * What a revision still lacks before it can be submitted for review, by form field, in the order the form asks. A
 * draft may be saved without them; a submission may not.
 */
export function missingForSubmission(kind: ExchangeKind, revision: ExchangeRevision): FieldErrors {
  const missing: FieldErrors = {};
  if (!filled(revision.title)) missing.title = 'Enter a title';
  if (kind !== 'hack' && !filled(revision.summary)) missing.summary = 'Enter a summary';
  if (kind === 'case_study') {
    if (!revision.careSetting) missing.careSetting = 'Choose the care setting';
    if (!filled(revision.context)) missing.context = 'Enter the context and the problem';
    if (!filled(revision.actions)) missing.actions = 'Enter what you did';
    if (!filled(revision.results)) missing.results = 'Enter the results';
    if (!filled(revision.lessons)) missing.lessons = 'Enter the lessons you learnt';
  }
  if (kind === 'tool') {
    if (!revision.toolType) missing.toolType = 'Choose what kind of tool it is';
    if (!filled(revision.purpose)) missing.purpose = 'Enter what the tool is for';
    if (!filled(revision.howToUse)) missing.howToUse = 'Enter how to use it';
    if (!revision.licence) missing.licence = 'Choose the licence it is shared under';
    if (!revision.toolFileId) missing.file = 'Upload the tool’s file';
  }
  if (kind === 'hack' && !filled(revision.tip)) missing.tip = 'Enter the tip';
  if (!idList(revision.topicIds).length) missing.topics = 'Choose at least one topic';
  return missing;
}

/** A hack's summary for lists and search results: the start of its tip, as plain words. */
export function hackSummary(tip: string | null): string {
  const plain = (tip ?? '')
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_`#>]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...plain];
  if (chars.length <= 280) return plain;
  return `${chars.slice(0, 279).join('').trimEnd()}…`;
}

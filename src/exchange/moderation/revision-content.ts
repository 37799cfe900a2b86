import { renderMarkdown } from '../../common/markdown';
import type { ExchangeRevision } from '../entities/exchange-revision.entity';
import { CARE_SETTINGS, EXCHANGE_KINDS, TOOL_LICENCES, TOOL_TYPES, type ExchangeKind } from '../exchange-kinds';
import { revisionLists } from '../search-projection';

/** The Markdown sections each kind is written in, in the order the item page shows them. */
export const SECTIONS: Record<ExchangeKind, Array<{ key: 'context' | 'actions' | 'results' | 'lessons' | 'differently' | 'purpose' | 'howToUse' | 'tip'; label: string }>> = {
  case_study: [
    { key: 'context', label: 'The context and the problem' },
    { key: 'actions', label: 'What was done' },
    { key: 'results', label: 'Results' },
    { key: 'lessons', label: 'Lessons learnt' },
    { key: 'differently', label: 'What they would do differently' },
  ],
  tool: [
    { key: 'purpose', label: 'What it is for' },
    { key: 'howToUse', label: 'How to use it' },
  ],
  hack: [{ key: 'tip', label: 'The tip' }],
};

/** One of a case study's results as figures. */
export interface Figure {
  label: string;
  before: number;
  after: number;
  unit: string;
}

/** The stored key figures, read defensively: anything malformed is left out. */
export function figuresOf(json: string | null | undefined): Figure[] {
  if (!json) return [];
  try {
    const value: unknown = JSON.parse(json);
    if (!Array.isArray(value)) return [];
    return value
      .filter((f): f is Figure => !!f && typeof f === 'object' && typeof f.label === 'string' && Number.isFinite(f.before) && Number.isFinite(f.after))
      .map((f) => ({ label: f.label, before: f.before, after: f.after, unit: typeof f.unit === 'string' ? f.unit : '' }));
  } catch {
    return [];
  }
}

/** "Discharge letters sent within 24 hours: 61% before, 94% after". */
export const figureWords = (f: Figure) => `${f.label}: ${f.before}${f.unit} before, ${f.after}${f.unit} after`;

/** The names a revision's ids stand for, and its files, as read for the moderator's page. */
export interface RevisionNames {
  topics: ReadonlyMap<number, string>;
  systems: ReadonlyMap<number, { label: string }>;
  organisations: ReadonlyMap<number, string>;
}

export interface RevisionFile {
  id: number;
  fileName: string;
  contentType: string;
  bytes: number;
  version: number | null;
}

/** What a revision says, in words: what the moderator reads and what "what changed" compares. */
export interface RevisionFacts {
  kind: ExchangeKind;
  title: string;
  summary: string;
  careSetting: string | null;
  toolType: string | null;
  licence: string | null;
  sections: Array<{ key: string; label: string; markdown: string }>;
  figures: Figure[];
  topics: string[];
  systems: string[];
  partners: string[];
  attachments: RevisionFile[];
  toolFile: RevisionFile | null;
  changeNote: string | null;
}

const named = (ids: number[], names: ReadonlyMap<number, string | { label: string }>) =>
  ids.flatMap((id) => {
    const name = names.get(id);
    if (name === undefined) return [];
    return [typeof name === 'string' ? name : name.label];
  });

export function revisionFacts(kind: ExchangeKind, revision: ExchangeRevision, names: RevisionNames, files: { attachments: RevisionFile[]; toolFile: RevisionFile | null }): RevisionFacts {
  const { topicIds, systemIds, partnerOrganisationIds } = revisionLists(revision);
  return {
    kind,
    title: revision.title,
    summary: revision.summary,
    careSetting: revision.careSetting ? (CARE_SETTINGS[revision.careSetting] ?? revision.careSetting) : null,
    toolType: kind === 'tool' && revision.toolType ? (TOOL_TYPES[revision.toolType] ?? revision.toolType) : null,
    licence: kind === 'tool' && revision.licence ? (TOOL_LICENCES[revision.licence] ?? revision.licence) : null,
    sections: SECTIONS[kind].map(({ key, label }) => ({ key, label, markdown: revision[key] ?? '' })),
    figures: kind === 'case_study' ? figuresOf(revision.keyFigures) : [],
    topics: named(topicIds, names.topics),
    systems: named(systemIds, names.systems),
    partners: named(partnerOrganisationIds, names.organisations),
    attachments: files.attachments,
    toolFile: kind === 'tool' ? files.toolFile : null,
    changeNote: revision.changeNote,
  };
}

/** One section that differs between the published revision and the one under review. */
export interface Change {
  label: string;
  /** Text fields: before and after, as HTML (Markdown rendered and sanitised, or escaped plain text). */
  beforeHtml?: string;
  afterHtml?: string;
  /** List fields (topics, systems, files…): what was added and what was taken out. */
  added?: string[];
  removed?: string[];
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const plainHtml = (text: string | null) => (text && text.trim() ? `<p>${escapeHtml(text)}</p>` : '<p>(empty)</p>');
const markdownHtml = (text: string) => (text.trim() ? renderMarkdown(text, { demoteHeadings: true }) : '<p>(empty)</p>');

/**
 * Section by section, what the revision under review changes in the published one: each text field that differs
 * (both versions, for side-by-side reading), and for each list what was added and taken out. Empty when nothing
 * differs (the author resubmitted it unchanged).
 */
export function changesBetween(published: RevisionFacts, proposed: RevisionFacts): Change[] {
  const changes: Change[] = [];
  const plain = (label: string, before: string | null, after: string | null) => {
    if ((before ?? '') !== (after ?? '')) changes.push({ label, beforeHtml: plainHtml(before), afterHtml: plainHtml(after) });
  };
  const list = (label: string, before: string[], after: string[]) => {
    const added = after.filter((x) => !before.includes(x));
    const removed = before.filter((x) => !after.includes(x));
    if (added.length || removed.length) changes.push({ label, added, removed });
  };
  plain('Title', published.title, proposed.title);
  plain('Summary', published.summary, proposed.summary);
  plain('Care setting', published.careSetting, proposed.careSetting);
  if (proposed.kind === 'tool') {
    plain('Kind of tool', published.toolType, proposed.toolType);
    plain('Licence', published.licence, proposed.licence);
    const toolFile = (f: RevisionFile | null) => (f ? `${f.fileName}${f.version ? ` (version ${f.version})` : ''}` : null);
    plain('The tool’s file', toolFile(published.toolFile), toolFile(proposed.toolFile));
  }
  for (const section of proposed.sections) {
    const before = published.sections.find((s) => s.key === section.key)?.markdown ?? '';
    if (before !== section.markdown) changes.push({ label: section.label, beforeHtml: markdownHtml(before), afterHtml: markdownHtml(section.markdown) });
  }
  list('Results as figures', published.figures.map(figureWords), proposed.figures.map(figureWords));
  list('Topics', published.topics, proposed.topics);
  list('Systems and suppliers', published.systems, proposed.systems);
  list('Partner organisations', published.partners, proposed.partners);
  const fileWords = (f: RevisionFile) => `${f.fileName} (file ${f.id})`;
  list('Attachments', published.attachments.map(fileWords), proposed.attachments.map(fileWords));
  return changes;
}

export const kindLabel = (kind: ExchangeKind) => EXCHANGE_KINDS[kind] ?? kind;

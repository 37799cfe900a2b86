import { chartWithTable, formatValue } from '../../common/charts';
import { londonDate } from '../../common/london-time';
import { renderMarkdown } from '../../common/markdown';
import type { ExchangeRevision } from '../entities/exchange-revision.entity';
import { CARE_SETTINGS, EXCHANGE_KINDS, TOOL_LICENCES, TOOL_TYPES, type ExchangeKind, type ItemStatus, type RevisionStatus } from '../exchange-kinds';
import { kindLower } from './contribution-rules';
import type { FileView, ItemDetail } from './contributions.reader';

/** How an item's and a revision's states are shown: NHS.UK tags. */
export const ITEM_STATUS_TAGS: Record<ItemStatus, { text: string; colour: string }> = {
  draft: { text: 'Draft', colour: 'grey' },
  submitted: { text: 'Waiting for review', colour: 'blue' },
  returned: { text: 'Returned with feedback', colour: 'orange' },
  published: { text: 'Published', colour: 'green' },
  withdrawn: { text: 'Withdrawn', colour: 'red' },
};

export const REVISION_STATUS_TAGS: Record<RevisionStatus, { text: string; colour: string }> = {
  draft: { text: 'Draft', colour: 'grey' },
  submitted: { text: 'Waiting for review', colour: 'blue' },
  returned: { text: 'Returned with feedback', colour: 'orange' },
  published: { text: 'Published', colour: 'green' },
  superseded: { text: 'Replaced by a newer revision', colour: 'grey' },
};

/** The sections of a case study, in the order the NHS writes them, with the headings the page gives them. */
export const CASE_STUDY_SECTIONS = [
  { field: 'context', heading: 'The context and the problem' },
  { field: 'actions', heading: 'What was done' },
  { field: 'results', heading: 'Results' },
  { field: 'lessons', heading: 'Lessons learnt' },
  { field: 'differently', heading: 'What they would do differently' },
] as const;

export const TOOL_SECTIONS = [
  { field: 'purpose', heading: 'What it is for' },
  { field: 'howToUse', heading: 'How to use it' },
] as const;

type SectionField = (typeof CASE_STUDY_SECTIONS)[number]['field'] | (typeof TOOL_SECTIONS)[number]['field'] | 'tip';

const markdownOf = (text: string | null) => (text && text.trim() ? renderMarkdown(text, { demoteHeadings: true }) : '');

/** The Markdown sections of a revision for its kind: the text as written and as safe HTML. */
export function sectionsOf(kind: ExchangeKind, revision: ExchangeRevision): Array<{ field: SectionField; heading: string; markdown: string; html: string }> {
  const list: Array<{ field: SectionField; heading: string }> = kind === 'case_study' ? [...CASE_STUDY_SECTIONS] : kind === 'tool' ? [...TOOL_SECTIONS] : [{ field: 'tip', heading: 'The tip' }];
  return list.map(({ field, heading }) => {
    const markdown = revision[field] ?? '';
    return { field, heading, markdown, html: markdownOf(markdown) };
  });
}

/** A key figure as one small chart of its before and after, with the same figures as a table. */
function figureChart(figure: { label: string; before: number; after: number; unit: string }, index: number) {
  const unit = figure.unit || undefined;
  const before = formatValue(figure.before, unit);
  const after = formatValue(figure.after, unit);
  return {
    label: figure.label,
    change: `${before} before, ${after} after`,
    chart: chartWithTable(
      {
        id: `key-figure-${index + 1}`,
        title: figure.label,
        description: `${figure.label}: ${before} before the change, ${after} after it.`,
        orientation: 'horizontal',
        unit,
        bars: [
          { label: 'Before', value: figure.before, valueText: before },
          { label: 'After', value: figure.after, valueText: after },
        ],
      },
      { label: 'When', value: figure.unit ? `Value (${figure.unit})` : 'Value' },
    ),
  };
}

function fileRow(file: FileView) {
  return { ...file, publishedDate: file.publishedAt ? londonDate(file.publishedAt) : null, uploadedDate: londonDate(file.uploadedAt) };
}

/** What the status banner says to someone who may see the item's unpublished work. */
function statusBanner(detail: ItemDetail) {
  const { item, revision, newer } = detail;
  const kind = kindLower(item.kind);
  const slug = encodeURIComponent(item.slug);
  if (item.status === 'withdrawn') return { heading: 'Withdrawn', text: `This ${kind} has been withdrawn: nobody else can see it any more.`, colour: 'red' };
  if (item.status !== 'published') {
    const words: Record<string, string> = {
      draft: `This ${kind} is a draft. Only its author, the managers of its organisation and moderators can see it. It becomes public once it is submitted and a moderator publishes it.`,
      submitted: `This ${kind} is waiting for a moderator to review it. Only its author, the managers of its organisation and moderators can see it until it is published.`,
      returned: `A moderator has returned this ${kind} with feedback. Change it and submit it again.`,
    };
    return { heading: ITEM_STATUS_TAGS[item.status].text, text: words[item.status] ?? '', colour: ITEM_STATUS_TAGS[item.status].colour };
  }
  if (detail.showingUnpublished) {
    return {
      heading: `Revision ${revision.number}: ${REVISION_STATUS_TAGS[revision.status].text.toLowerCase()}`,
      text: `You are looking at revision ${revision.number}, which is not public yet. Everyone else sees the published revision until a moderator publishes this one.`,
      link: { href: `/exchange/${slug}`, text: 'View the published revision' },
      colour: REVISION_STATUS_TAGS[revision.status].colour,
    };
  }
  if (newer) {
    const state: Record<string, string> = { draft: 'being written', submitted: 'under review', returned: 'returned with feedback' };
    return {
      heading: `A newer revision is ${state[newer.status] ?? newer.status}`,
      text: `This is the published revision. Revision ${newer.number} is ${state[newer.status] ?? newer.status}; it replaces this one once a moderator publishes it.`,
      link: { href: `/exchange/${slug}?revision=latest`, text: `View revision ${newer.number}` },
      colour: REVISION_STATUS_TAGS[newer.status].colour,
    };
  }
  return null;
}

/** The view model of views/exchange/item.hbs. */
export function itemPageView(detail: ItemDetail) {
  const { item, revision, newer, organisation } = detail;
  const slug = encodeURIComponent(item.slug);
  const latest = newer ?? revision;
  const editable = item.status !== 'withdrawn';
  const returned = [revision, newer].find((r) => r?.status === 'returned' && r.feedback);
  const isCaseStudy = item.kind === 'case_study';
  const isTool = item.kind === 'tool';
  const isHack = item.kind === 'hack';
  const sections = sectionsOf(item.kind, revision).filter((s) => s.html);
  return {
    pageTitle: revision.title,
    kindLabel: EXCHANGE_KINDS[item.kind],
    kindLower: kindLower(item.kind),
    isCaseStudy,
    isTool,
    isHack,
    slug: item.slug,
    title: revision.title,
    summary: isHack ? '' : revision.summary,
    status: detail.privileged ? statusBanner(detail) : null,
    feedback: detail.privileged && returned ? { number: returned.number, html: renderMarkdown(returned.feedback!, { demoteHeadings: true }) } : null,
    organisation,
    partners: detail.partners,
    careSetting: revision.careSetting ? CARE_SETTINGS[revision.careSetting] : null,
    publishedDate: item.status === 'published' && item.publishedAt && !detail.showingUnpublished ? londonDate(item.publishedAt) : null,
    firstPublishedDate: item.firstPublishedAt && item.publishedAt && item.firstPublishedAt.getTime() !== item.publishedAt.getTime() ? londonDate(item.firstPublishedAt) : null,
    reviewDate: item.reviewDueAt ? londonDate(item.reviewDueAt) : null,
    changeNote: revision.number > 1 ? revision.changeNote : null,
    revisionNumber: revision.number,
    sections: sections.filter((s) => s.field !== 'tip'),
    resultsFigures: detail.keyFigures.map(figureChart),
    tipHtml: isHack ? markdownOf(revision.tip) : '',
    toolType: isTool && revision.toolType ? TOOL_TYPES[revision.toolType] : null,
    licence: isTool && revision.licence ? { code: revision.licence, text: TOOL_LICENCES[revision.licence] } : null,
    toolFile: detail.toolFile ? fileRow(detail.toolFile) : null,
    earlierVersions: detail.versions.filter((v) => v.id !== detail.toolFile?.id).map(fileRow),
    hasEarlierVersions: detail.versions.some((v) => v.id !== detail.toolFile?.id),
    downloadCount: item.downloadCount,
    systems: detail.systems,
    topics: detail.topics,
    attachments: detail.attachments.map(fileRow),
    mayBeOutOfDate: detail.mayBeOutOfDate,
    author: detail.isAuthor
      ? {
          editHref: `/exchange/${slug}/edit`,
          attachmentsHref: item.kind !== 'tool' ? `/exchange/${slug}/attachments` : null,
          canEdit: editable && latest.status !== 'submitted',
          canSubmit: editable && (latest.status === 'draft' || latest.status === 'returned'),
          submitAction: `/exchange/${slug}/submit`,
          withdrawHref: editable ? `/exchange/${slug}/withdraw` : null,
          confirmAction: detail.mayBeOutOfDate ? `/exchange/${slug}/confirm-current` : null,
          waiting: latest.status === 'submitted',
        }
      : null,
  };
}

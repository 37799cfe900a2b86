import type { EntityManager } from 'typeorm';
import { ExchangeItemOrganisation, ExchangeItemSystem, ExchangeItemTopic } from './entities/exchange-item-facets.entity';
import { ExchangeItem } from './entities/exchange-item.entity';
import type { ExchangeRevision } from './entities/exchange-revision.entity';
import { CARE_SETTINGS, DEFAULT_REVIEW_MONTHS } from './exchange-kinds';

/** The names a revision's ids stand for, so its search text holds the words people type ("Millennium", "Leeds"). */
export interface ProjectionNames {
  topics: ReadonlyMap<number, string>;
  systems: ReadonlyMap<number, { name: string; supplier: string }>;
  organisations: ReadonlyMap<number, string>;
}

/** The id lists a revision keeps as JSON text, read defensively: anything but an array of positive integers is empty. */
export function idList(json: string | null | undefined): number[] {
  if (!json) return [];
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? [...new Set(value.filter((v): v is number => Number.isSafeInteger(v) && v > 0))] : [];
  } catch {
    return [];
  }
}

export const idListJson = (ids: readonly number[]) => JSON.stringify([...new Set(ids)]);

/** The revision's topic, system and partner-organisation ids. */
export function revisionLists(revision: Pick<ExchangeRevision, 'topicIds' | 'systemIds' | 'partnerOrganisationIds'>) {
  return { topicIds: idList(revision.topicIds), systemIds: idList(revision.systemIds), partnerOrganisationIds: idList(revision.partnerOrganisationIds) };
}

/** Every searchable word of a revision besides its title and summary: its sections, and the names its ids stand for. */
export function searchTextOf(revision: ExchangeRevision, organisationId: number, names: ProjectionNames): string {
  const { topicIds, systemIds, partnerOrganisationIds } = revisionLists(revision);
  const parts = [
    revision.context,
    revision.actions,
    revision.results,
    revision.lessons,
    revision.differently,
    revision.purpose,
    revision.howToUse,
    revision.tip,
    revision.careSetting ? CARE_SETTINGS[revision.careSetting] : null,
    ...topicIds.map((id) => names.topics.get(id)),
    ...systemIds.flatMap((id) => {
      const system = names.systems.get(id);
      return system ? [system.name, system.supplier] : [];
    }),
    ...[organisationId, ...partnerOrganisationIds].map((id) => names.organisations.get(id)),
  ];
  return parts.filter((p): p is string => !!p && !!p.trim()).join('\n');
}

/** The review date of something published at `at`: DEFAULT_REVIEW_MONTHS later. */
export function reviewDueFrom(at: Date, months = DEFAULT_REVIEW_MONTHS): Date {
  const due = new Date(at.getTime());
  due.setUTCMonth(due.getUTCMonth() + months);
  return due;
}

/**
 * Makes `revision` the item's public one, in the caller's transaction: the item's searchable columns and counters'
 * neighbours (title … searchText, publishedAt, the review date) and its facet rows become the revision's. The caller
 * has already marked the revision published and the one before it superseded. On SQLite the FTS5 triggers re-index the
 * item; on MySQL InnoDB does.
 */
export async function projectPublishedRevision(tx: EntityManager, item: ExchangeItem, revision: ExchangeRevision, names: ProjectionNames, at: Date): Promise<void> {
  const { topicIds, systemIds, partnerOrganisationIds } = revisionLists(revision);
  await tx.getRepository(ExchangeItem).update(
    { id: item.id },
    {
      status: 'published',
      publishedRevisionId: revision.id,
      title: revision.title,
      summary: revision.summary,
      careSetting: revision.careSetting,
      searchText: searchTextOf(revision, item.organisationId, names),
      publishedAt: at,
      firstPublishedAt: item.firstPublishedAt ?? at,
      reviewDueAt: reviewDueFrom(at),
      reviewRequestedAt: null,
      updatedAt: at,
    },
  );
  await replaceFacets(tx, item.id, item.organisationId, { topicIds, systemIds, partnerOrganisationIds });
}

async function replaceFacets(tx: EntityManager, itemId: number, organisationId: number, lists: ReturnType<typeof revisionLists>): Promise<void> {
  const topics = tx.getRepository(ExchangeItemTopic);
  const systems = tx.getRepository(ExchangeItemSystem);
  const organisations = tx.getRepository(ExchangeItemOrganisation);
  await topics.delete({ itemId });
  await systems.delete({ itemId });
  await organisations.delete({ itemId });
  if (lists.topicIds.length) await topics.insert(lists.topicIds.map((topicId) => ({ itemId, topicId })));
  if (lists.systemIds.length) await systems.insert(lists.systemIds.map((systemId) => ({ itemId, systemId })));
  const partners = lists.partnerOrganisationIds.filter((id) => id !== organisationId);
  await organisations.insert([{ itemId, organisationId, isLead: true }, ...partners.map((id) => ({ itemId, organisationId: id, isLead: false }))]);
}

import { DataSource } from 'typeorm';
import { ExchangeItem } from '../../src/exchange/entities/exchange-item.entity';
import { ExchangeRevision } from '../../src/exchange/entities/exchange-revision.entity';
import { ExchangeVocabulary } from '../../src/exchange/exchange-vocabulary';
import { projectPublishedRevision } from '../../src/exchange/search-projection';
import type { TestApp } from './app';

/**
 * Publishes an item's latest revision straight in the database, as a moderator's decision does (the revision
 * published, the one before it superseded, the search projection), for tests of what comes after publishing; the
 * review itself is tested through its pages by the moderation part.
 */
export async function publishLatest(t: TestApp, slug: string, at = new Date()): Promise<ExchangeItem> {
  const db = t.app.get(DataSource);
  return db.transaction(async (tx) => {
    const items = tx.getRepository(ExchangeItem);
    const revisions = tx.getRepository(ExchangeRevision);
    const item = await items.findOneByOrFail({ slug });
    const revision = await revisions.findOneByOrFail({ id: item.latestRevisionId! });
    await revisions.update({ itemId: item.id, status: 'published' }, { status: 'superseded', updatedAt: at });
    await revisions.update({ id: revision.id }, { status: 'published', submittedAt: revision.submittedAt ?? at, decidedAt: at, checklist: 'no_patient_data,no_advertising,may_share,says_what_it_claims', updatedAt: at });
    const names = await t.app.get(ExchangeVocabulary).namesFor(revision, item.organisationId);
    await projectPublishedRevision(tx, item, { ...revision, status: 'published' }, names, at);
    return items.findOneByOrFail({ id: item.id });
  });
}

/** Returns the item's latest revision with a moderator's feedback, as their "return" decision does. */
export async function returnLatest(t: TestApp, slug: string, feedback: string, at = new Date()): Promise<void> {
  const db = t.app.get(DataSource);
  await db.transaction(async (tx) => {
    const item = await tx.getRepository(ExchangeItem).findOneByOrFail({ slug });
    await tx.getRepository(ExchangeRevision).update({ id: item.latestRevisionId! }, { status: 'returned', feedback, decidedAt: at, updatedAt: at });
    if (item.publishedRevisionId === null) await tx.getRepository(ExchangeItem).update({ id: item.id }, { status: 'returned', updatedAt: at });
  });
}

import { DataSource } from 'typeorm';
import { slugify } from '../../src/common/slug';
import { ExchangeItem } from '../../src/exchange/entities/exchange-item.entity';
import { ExchangeRevision } from '../../src/exchange/entities/exchange-revision.entity';
import { ExchangeSystem } from '../../src/exchange/entities/exchange-system.entity';
import type { CareSetting, ExchangeKind, SystemCategory } from '../../src/exchange/exchange-kinds';
import { ExchangeVocabulary } from '../../src/exchange/exchange-vocabulary';
import { idListJson, projectPublishedRevision } from '../../src/exchange/search-projection';
import type { TestApp } from './app';

let counter = 0;
const unique = () => `${process.pid}-${Date.now()}-${++counter}`;

/** A system on the moderators' list, unique per call unless a name is given. */
export async function createSystem(t: TestApp, options: { name?: string; supplier?: string; category?: SystemCategory } = {}): Promise<ExchangeSystem> {
  const db = t.app.get(DataSource);
  const name = options.name ?? `System ${unique()}`;
  const supplier = options.supplier ?? 'Test Supplier Ltd';
  const repo = db.getRepository(ExchangeSystem);
  return repo.save(repo.create({ slug: slugify(`${supplier} ${name} ${unique()}`, 120), name, supplier, category: options.category ?? 'epr', retiredAt: null, createdById: null, createdAt: new Date() }));
}

export interface ItemOptions {
  kind?: ExchangeKind;
  title?: string;
  summary?: string;
  authorId: number;
  organisationId: number;
  careSetting?: CareSetting | null;
  /** Case study sections, tool text or the hack's tip: whatever the test searches for. */
  body?: string;
  topicIds?: number[];
  systemIds?: number[];
  partnerOrganisationIds?: number[];
  /** Published by default; `draft` or `submitted` leave it unpublished. */
  status?: 'published' | 'draft' | 'submitted';
  publishedAt?: Date;
}

/**
 * An exchange item arranged straight in the database, published through the same search projection a moderator's
 * decision runs (the journeys that write and review items through pages have tests of their own).
 */
export async function createItem(t: TestApp, options: ItemOptions): Promise<ExchangeItem> {
  const db = t.app.get(DataSource);
  const kind = options.kind ?? 'case_study';
  const title = options.title ?? `Exchange item ${unique()}`;
  const at = options.publishedAt ?? new Date();
  const status = options.status ?? 'published';
  const body = options.body ?? 'What we did and what happened.';
  return db.transaction(async (tx) => {
    const items = tx.getRepository(ExchangeItem);
    const item = await items.save(
      items.create({ slug: slugify(`${title} ${unique()}`, 120), kind, status: status === 'published' ? 'draft' : status, authorId: options.authorId, organisationId: options.organisationId, createdAt: at, updatedAt: at }),
    );
    const revisions = tx.getRepository(ExchangeRevision);
    const revision = await revisions.save(
      revisions.create({
        itemId: item.id,
        number: 1,
        status: status === 'published' ? 'published' : status,
        authorId: options.authorId,
        title,
        summary: options.summary ?? `Summary of ${title}`,
        careSetting: options.careSetting === undefined ? (kind === 'case_study' ? 'acute' : null) : options.careSetting,
        context: kind === 'case_study' ? body : null,
        actions: kind === 'case_study' ? 'We changed the process.' : null,
        results: kind === 'case_study' ? 'It worked.' : null,
        lessons: kind === 'case_study' ? 'Start small.' : null,
        differently: kind === 'case_study' ? 'Involve clinicians sooner.' : null,
        purpose: kind === 'tool' ? body : null,
        howToUse: kind === 'tool' ? 'Download it and fill it in.' : null,
        toolType: kind === 'tool' ? 'checklist' : null,
        licence: kind === 'tool' ? 'ogl_3' : null,
        tip: kind === 'hack' ? body : null,
        topicIds: idListJson(options.topicIds ?? []),
        systemIds: idListJson(options.systemIds ?? []),
        partnerOrganisationIds: idListJson(options.partnerOrganisationIds ?? []),
        submittedAt: status === 'draft' ? null : at,
        decidedAt: status === 'published' ? at : null,
        createdAt: at,
        updatedAt: at,
      }),
    );
    await items.update({ id: item.id }, { latestRevisionId: revision.id });
    if (status === 'published') {
      const names = await t.app.get(ExchangeVocabulary).namesFor(revision, item.organisationId);
      await projectPublishedRevision(tx, item, revision, names, at);
    }
    return (await items.findOneByOrFail({ id: item.id }));
  });
}

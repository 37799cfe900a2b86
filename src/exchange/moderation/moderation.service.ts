import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, Repository } from 'typeorm';
import type { CurrentUser } from '../../accounts/identity';
import { AuditTrail } from '../../audit/audit-trail';
import { Clock } from '../../common/clock';
import { Conflict, NotFound, ValidationFailed, type FieldErrors } from '../../common/errors';
import { lf } from '../../common/form-fields';
import { londonDate } from '../../common/london-time';
import { renderMarkdown } from '../../common/markdown';
import type { AppConfig } from '../../config/config';
import { InjectConfig } from '../../config/config.module';
import { UnitOfWork } from '../../database/unit-of-work';
import { JobsService } from '../../jobs/jobs.service';
import { MailService } from '../../mail/mail.service';
import { OrganisationDirectory } from '../../organisations/organisation-directory.service';
import { ExchangeFile } from '../entities/exchange-file.entity';
import { ExchangeItem } from '../entities/exchange-item.entity';
import { ExchangeRevisionFile } from '../entities/exchange-revision-file.entity';
import { ExchangeRevision } from '../entities/exchange-revision.entity';
import { EXCHANGE_KINDS, REVIEW_CHECKS, type ExchangeKind, type ItemStatus, type ReviewCheck, type RevisionStatus } from '../exchange-kinds';
import { ExchangeVocabulary } from '../exchange-vocabulary';
import { PublishedChanges } from '../published-changes';
import { projectPublishedRevision, reviewDueFrom, revisionLists } from '../search-projection';
import { changesBetween, revisionFacts, type Change, type RevisionFacts, type RevisionFile } from './revision-content';

/** Submitted revisions per page of the queue. */
export const QUEUE_PAGE_SIZE = 25;
export const FEEDBACK_MAX = 5000;
export const REASON_MAX = 1000;

export const REVISION_NOT_FOUND = 'There is no revision of an exchange item at this address';
export const ITEM_NOT_FOUND = 'There is no exchange item at this address';
export const FILE_NOT_FOUND = 'There is no such file in this exchange item';
export const CHECKS_MESSAGE = 'Tick all four checks to publish it. If it fails one, return it to its author with feedback saying why.';
export const FEEDBACK_MESSAGE = 'Write feedback for the author: what to change before it can be published';
export const REASON_MESSAGE = 'Say why it is being withdrawn: its author is told';

/** Where an author edits their item (the contributions part's page) and where it is read. */
export const itemPath = (slug: string) => `/exchange/${slug}`;
export const editPath = (slug: string) => `/exchange/${slug}/edit`;

export type Decision = 'publish' | 'return';

export interface DecisionInput {
  decision: Decision;
  checks: ReviewCheck[];
  feedback: string;
}

/** The decision form as sent (checkboxes arrive as one value or several); what is wrong with it keyed by field. */
export function parseDecision(body: Record<string, unknown> | undefined): DecisionInput {
  const raw = body ?? {};
  const errors: FieldErrors = {};
  const decision = raw.decision === 'publish' || raw.decision === 'return' ? raw.decision : null;
  if (!decision) errors.decision = 'Choose to publish it or to return it to its author';
  const given = ([] as unknown[]).concat(raw.checks ?? []);
  const checks = REVIEW_CHECKS.filter((code) => given.includes(code));
  const feedback = typeof raw.feedback === 'string' ? lf(raw.feedback).trim() : '';
  if ([...feedback].length > FEEDBACK_MAX) errors.feedback = `Feedback must be ${FEEDBACK_MAX.toLocaleString('en-GB')} characters or fewer`;
  if (decision === 'publish' && checks.length < REVIEW_CHECKS.length) errors.checks = CHECKS_MESSAGE;
  if (decision === 'return' && !feedback && !errors.feedback) errors.feedback = FEEDBACK_MESSAGE;
  if (Object.keys(errors).length) throw new ValidationFailed(errors);
  return { decision: decision!, checks, feedback };
}

/** The reason a moderator gives for withdrawing an item. */
export function parseReason(value: unknown): string {
  const reason = typeof value === 'string' ? lf(value).trim() : '';
  if (!reason) throw new ValidationFailed({ reason: REASON_MESSAGE });
  if ([...reason].length > REASON_MAX) throw new ValidationFailed({ reason: `The reason must be ${REASON_MAX.toLocaleString('en-GB')} characters or fewer` });
  return reason;
}

export interface QueueEntry {
  revisionId: number;
  number: number;
  kind: ExchangeKind;
  kindLabel: string;
  title: string;
  organisationName: string;
  authorName: string | null;
  submittedAt: Date;
  /** A new revision of an item that is already published (the published one stays up meanwhile). */
  isRevision: boolean;
}

export interface QueueCounts {
  total: number;
  firstVersions: number;
  revisions: number;
  byKind: Array<{ kind: ExchangeKind; label: string; count: number }>;
}

export interface RevisionPage {
  revision: ExchangeRevision;
  item: ExchangeItem;
  organisationName: string;
  authorName: string | null;
  decidedByName: string | null;
  facts: RevisionFacts;
  /** The published revision this one would replace, and what differs; null for a first version. */
  published: { revisionId: number; number: number; publishedAt: Date | null; facts: RevisionFacts; changes: Change[] } | null;
  history: Array<{ id: number; number: number; status: RevisionStatus; submittedAt: Date | null; decidedAt: Date | null }>;
}

export interface ItemSummary {
  id: number;
  slug: string;
  kind: ExchangeKind;
  status: ItemStatus;
  title: string;
  organisationName: string;
  authorName: string | null;
  publishedAt: Date | null;
  latestRevisionId: number | null;
}

type Raw = Record<string, unknown>;

/** Raw rows hold DATETIME as a Date (mysql2) or as text in UTC (SQLite). */
export const asDate = (value: unknown): Date => (value instanceof Date ? value : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(String(value)) ? String(value) : `${String(value).replace(' ', 'T')}Z`));

/** Refused because another moderator (or this one, a moment ago) decided it first. */
export class AlreadyDecided extends Conflict {
  constructor(message: string) {
    super(message, {}, 'already_decided');
  }
}

/**
 * The moderators' side of the review workflow: the queue of submitted revisions, a revision as it would appear with
 * what it changes, and the decisions. A decision takes the revision's row lock and happens only if the revision is
 * still `submitted`, so two moderators deciding at once (or a form sent twice) decide it once; the decision, its audit
 * entry and the author's e-mail are written in one transaction.
 */
@Injectable()
export class ModerationService {
  private readonly logger = new Logger('ExchangeModeration');

  constructor(
    private readonly db: DataSource,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly audit: AuditTrail,
    private readonly mail: MailService,
    private readonly jobs: JobsService,
    private readonly vocabulary: ExchangeVocabulary,
    private readonly published: PublishedChanges,
    private readonly organisations: OrganisationDirectory,
    @InjectRepository(ExchangeItem) private readonly items: Repository<ExchangeItem>,
    @InjectRepository(ExchangeRevision) private readonly revisions: Repository<ExchangeRevision>,
    @InjectRepository(ExchangeFile) private readonly files: Repository<ExchangeFile>,
    @InjectRepository(ExchangeRevisionFile) private readonly revisionFiles: Repository<ExchangeRevisionFile>,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  // ---- The queue ----------------------------------------------------------------------------------------

  /** Submitted revisions of items not withdrawn: the base of the queue and its counts. */
  private waiting() {
    return this.db
      .createQueryBuilder()
      .from('exchange_revisions', 'r')
      .innerJoin('exchange_items', 'i', 'i.id = r.item_id')
      .where('r.status = :submitted AND i.status <> :withdrawn', { submitted: 'submitted', withdrawn: 'withdrawn' });
  }

  async counts(): Promise<QueueCounts> {
    const rows = await this.waiting()
      .select('i.kind', 'kind')
      .addSelect('CASE WHEN i.published_revision_id IS NULL THEN 0 ELSE 1 END', 'revision')
      .addSelect('COUNT(*)', 'count')
      .groupBy('i.kind')
      .addGroupBy('CASE WHEN i.published_revision_id IS NULL THEN 0 ELSE 1 END')
      .getRawMany<Raw>();
    const byKind = new Map<string, number>();
    let firstVersions = 0;
    let revisions = 0;
    for (const row of rows) {
      const count = Number(row.count);
      byKind.set(String(row.kind), (byKind.get(String(row.kind)) ?? 0) + count);
      if (Number(row.revision)) revisions += count;
      else firstVersions += count;
    }
    return {
      total: firstVersions + revisions,
      firstVersions,
      revisions,
      byKind: (Object.keys(EXCHANGE_KINDS) as ExchangeKind[]).map((kind) => ({ kind, label: EXCHANGE_KINDS[kind], count: byKind.get(kind) ?? 0 })),
    };
  }

  /** One page of the queue, oldest submission first. A page past the last shows the last. */
  async queue(requestedPage: number): Promise<{ entries: QueueEntry[]; counts: QueueCounts; page: number; pages: number }> {
    const counts = await this.counts();
    const pages = Math.max(1, Math.ceil(counts.total / QUEUE_PAGE_SIZE));
    const page = Math.min(Math.max(1, requestedPage), pages);
    const rows = await this.waiting()
      .innerJoin('organisations', 'o', 'o.id = i.organisation_id')
      .leftJoin('users', 'u', 'u.id = COALESCE(r.author_id, i.author_id)')
      .select([
        'r.id AS revisionId',
        'r.number AS number',
        'r.title AS title',
        'r.submitted_at AS submittedAt',
        'i.kind AS kind',
        'i.published_revision_id AS publishedRevisionId',
        'o.name AS organisationName',
        'u.name AS authorName',
      ])
      .orderBy('r.submitted_at', 'ASC')
      .addOrderBy('r.id', 'ASC')
      .offset((page - 1) * QUEUE_PAGE_SIZE)
      .limit(QUEUE_PAGE_SIZE)
      .getRawMany<Raw>();
    const entries = rows.map((r) => ({
      revisionId: Number(r.revisionId),
      number: Number(r.number),
      kind: r.kind as ExchangeKind,
      kindLabel: EXCHANGE_KINDS[r.kind as ExchangeKind] ?? String(r.kind),
      title: String(r.title),
      organisationName: String(r.organisationName),
      authorName: r.authorName === null || r.authorName === undefined ? null : String(r.authorName),
      submittedAt: asDate(r.submittedAt),
      isRevision: r.publishedRevisionId !== null && r.publishedRevisionId !== undefined,
    }));
    return { entries, counts, page, pages };
  }

  // ---- One revision ---------------------------------------------------------------------------------------

  async revisionPage(revisionId: number): Promise<RevisionPage> {
    const revision = await this.revisions.findOne({ where: { id: revisionId } });
    if (!revision) throw new NotFound(REVISION_NOT_FOUND);
    const item = await this.items.findOneOrFail({ where: { id: revision.itemId } });
    const compareWith = item.publishedRevisionId !== null && item.publishedRevisionId !== revision.id && revision.status !== 'superseded' ? await this.revisions.findOne({ where: { id: item.publishedRevisionId } }) : null;
    const shown = compareWith ? [revision, compareWith] : [revision];
    const [filesByRevision, names, people, history] = await Promise.all([
      this.filesOf(shown),
      this.namesOf(item.organisationId, shown),
      this.peopleNamed([revision.authorId ?? item.authorId, revision.decidedById]),
      this.revisions.find({ where: { itemId: item.id }, select: { id: true, number: true, status: true, submittedAt: true, decidedAt: true }, order: { number: 'ASC' } }),
    ]);
    const factsOf = (r: ExchangeRevision) => revisionFacts(item.kind, r, names, filesByRevision.get(r.id)!);
    const facts = factsOf(revision);
    let published: RevisionPage['published'] = null;
    if (compareWith) {
      const before = factsOf(compareWith);
      published = { revisionId: compareWith.id, number: compareWith.number, publishedAt: item.publishedAt, facts: before, changes: changesBetween(before, facts) };
    }
    const authorId = revision.authorId ?? item.authorId;
    return {
      revision,
      item,
      organisationName: names.organisations.get(item.organisationId) ?? 'Unknown organisation',
      authorName: authorId ? (people.get(authorId) ?? null) : null,
      decidedByName: revision.decidedById ? (people.get(revision.decidedById) ?? null) : null,
      facts,
      published,
      history,
    };
  }

  /** Each revision's attachments (in their order) and tool file, in two queries. */
  private async filesOf(revisions: ExchangeRevision[]): Promise<Map<number, { attachments: RevisionFile[]; toolFile: RevisionFile | null }>> {
    const links = await this.revisionFiles
      .createQueryBuilder('rf')
      .innerJoinAndSelect('rf.file', 'f')
      .where({ revisionId: In(revisions.map((r) => r.id)) })
      .orderBy('rf.position', 'ASC')
      .addOrderBy('f.id', 'ASC')
      .getMany();
    const toolIds = revisions.map((r) => r.toolFileId).filter((id): id is number => id !== null);
    const tools = toolIds.length ? await this.files.find({ where: { id: In(toolIds) } }) : [];
    const file = (f: ExchangeFile): RevisionFile => ({ id: f.id, fileName: f.fileName, contentType: f.contentType, bytes: f.bytes, version: f.version });
    return new Map(
      revisions.map((r) => {
        const tool = tools.find((f) => f.id === r.toolFileId);
        return [r.id, { attachments: links.filter((l) => l.revisionId === r.id && l.file).map((l) => file(l.file!)), toolFile: tool ? file(tool) : null }];
      }),
    );
  }

  private async namesOf(organisationId: number, revisions: ExchangeRevision[]) {
    const lists = revisions.map((r) => revisionLists(r));
    const [topics, systems, organisations] = await Promise.all([
      this.vocabulary.topics(),
      this.vocabulary.systemsById(lists.flatMap((l) => l.systemIds)),
      this.organisations.describe([organisationId, ...lists.flatMap((l) => l.partnerOrganisationIds)]),
    ]);
    return {
      topics: new Map(topics.map((t) => [t.id, t.name])),
      systems,
      organisations: new Map([...organisations].map(([id, o]) => [id, o.name])),
    };
  }

  /** People's names by id (one query); ids of deleted accounts are absent. */
  private async peopleNamed(ids: Array<number | null>, manager: EntityManager = this.db.manager): Promise<Map<number, string>> {
    const wanted = [...new Set(ids.filter((id): id is number => id !== null))];
    if (!wanted.length) return new Map();
    const rows = await manager.createQueryBuilder().from('users', 'u').select(['u.id AS id', 'u.name AS name']).where('u.id IN (:...ids)', { ids: wanted }).getRawMany<Raw>();
    return new Map(rows.map((r) => [Number(r.id), String(r.name)]));
  }

  /** A file of the revision's item, for a moderator to download (attachments and tool versions, unpublished ones too). */
  async fileOf(revisionId: number, fileId: number): Promise<ExchangeFile> {
    const revision = await this.revisions.findOne({ where: { id: revisionId }, select: { id: true, itemId: true } });
    if (!revision) throw new NotFound(REVISION_NOT_FOUND);
    const file = await this.files.findOne({ where: { id: fileId, itemId: revision.itemId } });
    if (!file) throw new NotFound(FILE_NOT_FOUND);
    return file;
  }

  // ---- Decisions ------------------------------------------------------------------------------------------

  /**
   * Publishes or returns a submitted revision. Publishing: the revision becomes `published`, the one published before
   * it `superseded`, and the search projection the item's public face (its review date 24 months on). Returning: the
   * revision goes back to its author with the feedback; an item never published is `returned` too. Either way an
   * audit entry and an e-mail to the author, in the same transaction. A revision that is no longer `submitted` is
   * refused with AlreadyDecided, and nothing changes.
   */
  async decide(moderator: CurrentUser, revisionId: number, input: DecisionInput): Promise<{ decision: Decision; title: string; slug: string }> {
    const read = await this.revisions.findOne({ where: { id: revisionId } });
    if (!read) throw new NotFound(REVISION_NOT_FOUND);
    const readItem = await this.items.findOneOrFail({ where: { id: read.itemId }, select: { id: true, organisationId: true } });
    // The names the search text holds are read before the transaction (they come from other modules' tables); what
    // they were read for is checked again under the lock.
    const names = input.decision === 'publish' ? await this.vocabulary.namesFor(read, readItem.organisationId) : null;
    const messageIds: number[] = [];
    const outcome = await this.uow.run(async (tx) => {
      messageIds.length = 0;
      const revision = await this.uow.lockForUpdate(tx, ExchangeRevision, { id: revisionId });
      if (!revision) throw new NotFound(REVISION_NOT_FOUND);
      const item = await this.uow.lockForUpdate(tx, ExchangeItem, { id: revision.itemId });
      if (!item) throw new NotFound(REVISION_NOT_FOUND);
      if (revision.status !== 'submitted') throw new AlreadyDecided(await this.decidedMessage(tx, revision));
      if (item.status === 'withdrawn') throw new AlreadyDecided('This item has been withdrawn, so it can no longer be published or returned. Nothing was changed.');
      if (revision.submittedAt?.getTime() !== read.submittedAt?.getTime()) {
        throw new Conflict('The author changed this revision and submitted it again while you were reading it. Read it again before you decide. Nothing was changed.', {}, 'revision_changed');
      }
      const now = this.clock.now();
      const decided = { decidedAt: now, decidedById: moderator.id, checklist: input.checks.join(',') || null, updatedAt: now };
      const wasPublished = item.publishedRevisionId !== null;
      let supersededId: number | null = null;
      if (input.decision === 'publish') {
        await tx.getRepository(ExchangeRevision).update({ id: revision.id }, { ...decided, status: 'published', feedback: input.feedback || null });
        const previous = await tx
          .getRepository(ExchangeRevision)
          .createQueryBuilder()
          .update()
          .set({ status: 'superseded', updatedAt: now })
          .where('item_id = :itemId AND status = :published AND id <> :id', { itemId: item.id, published: 'published', id: revision.id })
          .execute();
        supersededId = previous.affected ? item.publishedRevisionId : null;
        await projectPublishedRevision(tx, item, { ...revision, status: 'published' }, names!, now);
      } else {
        await tx.getRepository(ExchangeRevision).update({ id: revision.id }, { ...decided, status: 'returned', feedback: input.feedback });
        if (!wasPublished) await tx.getRepository(ExchangeItem).update({ id: item.id }, { status: 'returned', updatedAt: now });
      }
      await this.audit.record(
        tx,
        { id: moderator.id, name: moderator.name },
        {
          action: input.decision === 'publish' ? 'exchange.published' : 'exchange.returned',
          target: { type: 'exchange_item', id: item.id, label: revision.title },
          details: {
            revisionId: revision.id,
            revision: revision.number,
            kind: item.kind,
            organisationId: item.organisationId,
            checklist: input.checks,
            ...(input.decision === 'publish' ? { supersededRevisionId: supersededId, firstVersion: !wasPublished } : { feedback: input.feedback }),
          },
        },
      );
      const author = await this.contactOf(tx, revision.authorId ?? item.authorId);
      if (author) {
        const common = { name: author.name, title: revision.title, kind: EXCHANGE_KINDS[item.kind].toLowerCase(), itemUrl: `${this.config.publicUrl}${itemPath(item.slug)}` };
        const message =
          input.decision === 'publish'
            ? await this.mail.record(
                {
                  to: author.email,
                  template: 'exchange-published',
                  dedupeKey: `exchange-published:${revision.id}`,
                  data: { ...common, isRevision: wasPublished, note: input.feedback || null, noteHtml: input.feedback ? renderMarkdown(input.feedback) : null, reviewDue: londonDate(reviewDueFrom(now)) },
                },
                { tx },
              )
            : await this.mail.record(
                {
                  to: author.email,
                  template: 'exchange-returned',
                  // One per submission: a revision may be returned, edited, resubmitted and returned again.
                  dedupeKey: `exchange-returned:${revision.id}:${(revision.submittedAt ?? now).getTime()}`,
                  data: { ...common, isRevision: wasPublished, feedback: input.feedback, feedbackHtml: renderMarkdown(input.feedback), editUrl: `${this.config.publicUrl}${editPath(item.slug)}` },
                },
                { tx },
              );
        if (message) messageIds.push(message.id);
      }
      return { decision: input.decision, title: revision.title, slug: item.slug, itemId: item.id };
    });
    if (outcome.decision === 'publish') this.published.changed();
    await this.deliver(messageIds);
    this.logger.log(`Exchange revision ${revisionId} of item ${outcome.itemId} ${outcome.decision === 'publish' ? 'published' : 'returned'} by ${moderator.id}`);
    return outcome;
  }

  /** "This revision has already been published, by Mo Moderator on 3 March 2027. Nothing was changed." */
  private async decidedMessage(tx: EntityManager, revision: ExchangeRevision): Promise<string> {
    const by = revision.decidedById ? (await this.peopleNamed([revision.decidedById], tx)).get(revision.decidedById) : null;
    const when = revision.decidedAt ? ` on ${londonDate(revision.decidedAt)}` : '';
    const who = by ? `, by ${by}${when}` : when;
    const what: Record<RevisionStatus, string> = {
      published: `This revision has already been published${who}.`,
      superseded: `This revision was published${who}, and a newer one has been published since.`,
      returned: `This revision has already been returned to its author${who}.`,
      draft: 'This revision is not waiting for review: its author has taken it back to edit.',
      submitted: '',
    };
    return `${what[revision.status]} Nothing was changed.`;
  }

  /** The author's name and address, unless the account is gone or deactivated (nobody to tell then). */
  private async contactOf(tx: EntityManager, userId: number | null): Promise<{ name: string; email: string } | null> {
    if (userId === null) return null;
    const row = await tx.createQueryBuilder().from('users', 'u').select(['u.name AS name', 'u.email AS email', 'u.deactivated_at AS deactivatedAt']).where('u.id = :userId', { userId }).getRawOne<Raw>();
    if (!row || row.deactivatedAt !== null) return null;
    return { name: String(row.name), email: String(row.email) };
  }

  private async deliver(messageIds: number[]): Promise<void> {
    for (const messageId of messageIds) await this.jobs.tryEnqueue('mail.deliver', { messageId }, { jobId: `mail.deliver:${messageId}` });
  }

  // ---- Withdrawing ----------------------------------------------------------------------------------------

  async itemSummary(itemId: number): Promise<ItemSummary> {
    const row = await this.db
      .createQueryBuilder()
      .from('exchange_items', 'i')
      .innerJoin('organisations', 'o', 'o.id = i.organisation_id')
      .leftJoin('users', 'u', 'u.id = i.author_id')
      .leftJoin('exchange_revisions', 'r', 'r.id = i.latest_revision_id')
      .select([
        'i.id AS id',
        'i.slug AS slug',
        'i.kind AS kind',
        'i.status AS status',
        'i.title AS publishedTitle',
        'r.title AS latestTitle',
        'i.published_at AS publishedAt',
        'i.latest_revision_id AS latestRevisionId',
        'o.name AS organisationName',
        'u.name AS authorName',
      ])
      .where('i.id = :itemId', { itemId })
      .getRawOne<Raw>();
    if (!row) throw new NotFound(ITEM_NOT_FOUND);
    return {
      id: Number(row.id),
      slug: String(row.slug),
      kind: row.kind as ExchangeKind,
      status: row.status as ItemStatus,
      title: String(row.publishedTitle || row.latestTitle || 'Untitled'),
      organisationName: String(row.organisationName),
      authorName: row.authorName ? String(row.authorName) : null,
      publishedAt: row.publishedAt ? asDate(row.publishedAt) : null,
      latestRevisionId: row.latestRevisionId === null ? null : Number(row.latestRevisionId),
    };
  }

  /** A moderator takes an item down: it is `withdrawn` (404 to the public), audited, and its author told why. */
  async withdraw(moderator: CurrentUser, itemId: number, reason: string): Promise<{ title: string }> {
    const summary = await this.itemSummary(itemId);
    const messageIds: number[] = [];
    await this.uow.run(async (tx) => {
      messageIds.length = 0;
      const item = await this.uow.lockForUpdate(tx, ExchangeItem, { id: itemId });
      if (!item) throw new NotFound(ITEM_NOT_FOUND);
      if (item.status === 'withdrawn') throw new Conflict('This item has already been withdrawn. Nothing was changed.', {}, 'already_withdrawn');
      const now = this.clock.now();
      await tx.getRepository(ExchangeItem).update({ id: item.id }, { status: 'withdrawn', updatedAt: now });
      await this.audit.record(
        tx,
        { id: moderator.id, name: moderator.name },
        { action: 'exchange.withdrawn', target: { type: 'exchange_item', id: item.id, label: summary.title }, details: { by: 'moderator', previousStatus: item.status, reason, organisationId: item.organisationId } },
      );
      const author = await this.contactOf(tx, item.authorId);
      if (author) {
        const message = await this.mail.record(
          {
            to: author.email,
            template: 'exchange-withdrawn',
            dedupeKey: `exchange-withdrawn:${item.id}:${now.getTime()}`,
            data: { name: author.name, title: summary.title, kind: EXCHANGE_KINDS[item.kind].toLowerCase(), reason, mineUrl: `${this.config.publicUrl}/exchange/mine` },
          },
          { tx },
        );
        if (message) messageIds.push(message.id);
      }
    });
    this.published.changed();
    await this.deliver(messageIds);
    this.logger.log(`Exchange item ${itemId} withdrawn by moderator ${moderator.id}`);
    return { title: summary.title };
  }
}

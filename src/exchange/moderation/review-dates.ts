import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import type { CurrentUser } from '../../accounts/identity';
import { Clock } from '../../common/clock';
import { Conflict, Forbidden, NotFound } from '../../common/errors';
import { londonDate } from '../../common/london-time';
import type { AppConfig } from '../../config/config';
import { InjectConfig } from '../../config/config.module';
import { UnitOfWork } from '../../database/unit-of-work';
import { JobHandler } from '../../jobs/job-handler.decorator';
import type { JobHandler as Handler } from '../../jobs/job-registry';
import { JobsService } from '../../jobs/jobs.service';
import { MailService } from '../../mail/mail.service';
import { MembershipsService } from '../../organisations/memberships.service';
import { ExchangeItem } from '../entities/exchange-item.entity';
import { EXCHANGE_KINDS, type ExchangeKind } from '../exchange-kinds';
import { reviewDueFrom } from '../search-projection';
import { asDate, editPath, ITEM_NOT_FOUND, itemPath } from './moderation.service';

declare module '../../jobs/job-registry' {
  interface JobRegistry {
    'exchange.reviews.due': Record<string, never>;
  }
}

/** Items looked at per query of the sweep. */
const SWEEP_BATCH = 200;
export const NOT_YOURS_MESSAGE = 'Only its author, or a manager of its organisation, can confirm that this item is still right';
export const NOT_PUBLISHED_MESSAGE = 'Only a published item has a review date to confirm';

interface Recipient {
  userId: number;
  name: string;
  email: string;
  /** A manager of its organisation, asked because the item has no author any more. */
  asManager: boolean;
}

interface DueItem {
  id: number;
  slug: string;
  kind: ExchangeKind;
  title: string;
  authorId: number | null;
  organisationId: number;
  publishedAt: Date | null;
  reviewDueAt: Date;
}

type Raw = Record<string, unknown>;

/**
 * Review dates. Every published item is due for review DEFAULT_REVIEW_MONTHS after it was published; then its author
 * is asked by e-mail, once per due date, to confirm it is still right or update it. An item whose author's account is
 * gone (deleted) or deactivated is asked of the active managers of its organisation instead; with none, it waits
 * unasked (and keeps showing that it may be out of date) until a manager is appointed, and the next sweep asks them.
 *
 * "Once" is the item's `reviewRequestedAt`: each item is claimed by one conditional UPDATE (it sets the column only
 * where it is still empty), in the transaction that records the e-mails, so two workers sweeping at once send once;
 * the e-mails' dedupe keys (item, due date, person) are the second guard.
 */
@Injectable()
export class ReviewDates {
  private readonly logger = new Logger('ExchangeReviews');

  constructor(
    private readonly db: DataSource,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly mail: MailService,
    private readonly jobs: JobsService,
    private readonly memberships: MembershipsService,
    @InjectRepository(ExchangeItem) private readonly items: Repository<ExchangeItem>,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Asks about every published item past its review date and not yet asked about; returns how many items this run asked about. */
  async sendDue(): Promise<number> {
    const now = this.clock.now();
    let asked = 0;
    let after = 0;
    for (;;) {
      const rows = await this.db
        .createQueryBuilder()
        .from('exchange_items', 'i')
        .select(['i.id AS id', 'i.slug AS slug', 'i.kind AS kind', 'i.title AS title', 'i.author_id AS authorId', 'i.organisation_id AS organisationId', 'i.published_at AS publishedAt', 'i.review_due_at AS reviewDueAt'])
        .where('i.status = :published AND i.review_due_at <= :now AND i.review_requested_at IS NULL AND i.id > :after', { published: 'published', now, after })
        .orderBy('i.id', 'ASC')
        .limit(SWEEP_BATCH)
        .getRawMany<Raw>();
      if (!rows.length) break;
      after = Number(rows[rows.length - 1].id);
      const due: DueItem[] = rows.map((r) => ({
        id: Number(r.id),
        slug: String(r.slug),
        kind: r.kind as ExchangeKind,
        title: String(r.title),
        authorId: r.authorId === null ? null : Number(r.authorId),
        organisationId: Number(r.organisationId),
        publishedAt: r.publishedAt ? asDate(r.publishedAt) : null,
        reviewDueAt: asDate(r.reviewDueAt),
      }));
      const recipients = await this.recipientsOf(due);
      for (const item of due) {
        const to = recipients.get(item.id) ?? [];
        if (!to.length) {
          this.logger.warn(`Exchange item ${item.id} is due for review but has no author and its organisation no active manager; it waits until one is appointed`);
          continue;
        }
        if (await this.ask(item, to, now)) asked++;
      }
      if (rows.length < SWEEP_BATCH) break;
    }
    if (asked) this.logger.log(`Exchange review dates: ${asked} item(s) asked about`);
    return asked;
  }

  /** Who is asked about each item: its author while their account is active, else its organisation's active managers (two queries). */
  private async recipientsOf(items: DueItem[]): Promise<Map<number, Recipient[]>> {
    const authorIds = [...new Set(items.map((i) => i.authorId).filter((id): id is number => id !== null))];
    const authors = authorIds.length
      ? await this.db.createQueryBuilder().from('users', 'u').select(['u.id AS id', 'u.name AS name', 'u.email AS email']).where('u.id IN (:...ids) AND u.deactivated_at IS NULL', { ids: authorIds }).getRawMany<Raw>()
      : [];
    const byAuthor = new Map(authors.map((a) => [Number(a.id), { userId: Number(a.id), name: String(a.name), email: String(a.email), asManager: false }]));
    const orphans = items.filter((i) => i.authorId === null || !byAuthor.has(i.authorId));
    const organisationIds = [...new Set(orphans.map((i) => i.organisationId))];
    const managers = organisationIds.length
      ? await this.db
          .createQueryBuilder()
          .from('organisation_memberships', 'm')
          .innerJoin('users', 'u', 'u.id = m.user_id AND u.deactivated_at IS NULL')
          .select(['m.organisation_id AS organisationId', 'u.id AS id', 'u.name AS name', 'u.email AS email'])
          .where("m.organisation_id IN (:...ids) AND m.status = 'active' AND m.is_manager = :yes", { ids: organisationIds, yes: true })
          .orderBy('u.id')
          .getRawMany<Raw>()
      : [];
    const result = new Map<number, Recipient[]>();
    for (const item of items) {
      const author = item.authorId === null ? undefined : byAuthor.get(item.authorId);
      result.set(
        item.id,
        author ? [author] : managers.filter((m) => Number(m.organisationId) === item.organisationId).map((m) => ({ userId: Number(m.id), name: String(m.name), email: String(m.email), asManager: true })),
      );
    }
    return result;
  }

  /** Claims the item (only if nobody has) and records its e-mails, in one transaction; false when another worker had it. */
  private async ask(item: DueItem, to: Recipient[], now: Date): Promise<boolean> {
    const messageIds: number[] = [];
    const claimed = await this.uow.run(async (tx) => {
      messageIds.length = 0;
      const claim = await tx
        .createQueryBuilder()
        .update(ExchangeItem)
        .set({ reviewRequestedAt: now })
        .where('id = :id AND status = :published AND review_requested_at IS NULL AND review_due_at <= :now', { id: item.id, published: 'published', now })
        .execute();
      if (!claim.affected) return false;
      const base = this.config.publicUrl;
      for (const person of to) {
        const message = await this.mail.record(
          {
            to: person.email,
            template: 'exchange-review-due',
            dedupeKey: `exchange-review:${item.id}:${item.reviewDueAt.getTime()}:${person.userId}`,
            data: {
              name: person.name,
              title: item.title,
              kind: EXCHANGE_KINDS[item.kind]?.toLowerCase() ?? 'item',
              asManager: person.asManager,
              publishedOn: item.publishedAt ? londonDate(item.publishedAt) : null,
              dueOn: londonDate(item.reviewDueAt),
              itemUrl: `${base}${itemPath(item.slug)}`,
              confirmUrl: `${base}${confirmPath(item.slug)}`,
              editUrl: `${base}${editPath(item.slug)}`,
            },
          },
          { tx },
        );
        if (message) messageIds.push(message.id);
      }
      return true;
    });
    for (const messageId of messageIds) await this.jobs.tryEnqueue('mail.deliver', { messageId }, { jobId: `mail.deliver:${messageId}` });
    return claimed;
  }

  // ---- Confirming -----------------------------------------------------------------------------------------

  /**
   * The item, for someone who may confirm it: its author or an active manager of its organisation. Anyone else who
   * may see it (it is published, or they moderate) is refused (403); to the rest an unpublished item does not exist.
   */
  async forConfirming(user: CurrentUser, slug: string): Promise<ExchangeItem> {
    const item = /^[a-z0-9-]{1,120}$/.test(slug) ? await this.items.findOne({ where: { slug } }) : null;
    if (!item) throw new NotFound(ITEM_NOT_FOUND);
    const isAuthor = item.authorId !== null && item.authorId === user.id;
    const isManager = !isAuthor && (await this.memberships.membershipsOf(user.id)).some((m) => m.organisationId === item.organisationId && m.isManager && m.status === 'active');
    if (!isAuthor && !isManager) {
      const maySee = item.status === 'published' || user.role === 'moderator' || user.role === 'admin';
      if (!maySee) throw new NotFound(ITEM_NOT_FOUND);
      throw new Forbidden(NOT_YOURS_MESSAGE);
    }
    if (item.status !== 'published') throw new Conflict(NOT_PUBLISHED_MESSAGE, {}, 'not_published');
    return item;
  }

  /** Confirms the published item is still right: due again DEFAULT_REVIEW_MONTHS from now, and not asked about. Twice is harmless. */
  async confirmCurrent(user: CurrentUser, slug: string): Promise<{ slug: string; reviewDueAt: Date }> {
    const item = await this.forConfirming(user, slug);
    const now = this.clock.now();
    const reviewDueAt = reviewDueFrom(now);
    const result = await this.items
      .createQueryBuilder()
      .update()
      .set({ reviewDueAt, reviewRequestedAt: null })
      .where('id = :id AND status = :published', { id: item.id, published: 'published' })
      .execute();
    if (!result.affected) throw new Conflict(NOT_PUBLISHED_MESSAGE, {}, 'not_published');
    this.logger.log(`Exchange item ${item.id} confirmed current by ${user.id}; due for review again ${reviewDueAt.toISOString()}`);
    return { slug: item.slug, reviewDueAt };
  }
}

export const confirmPath = (slug: string) => `/exchange/${slug}/confirm-current`;

/** Every hour (and every SWEEP_INTERVAL_SECONDS when that is shorter): published items past their review date are asked about. */
@Injectable()
@JobHandler('exchange.reviews.due', { everyMs: 60 * 60_000, sweep: true })
export class ReviewDatesJob implements Handler<'exchange.reviews.due'> {
  constructor(private readonly reviews: ReviewDates) {}

  async handle(): Promise<void> {
    await this.reviews.sendDue();
  }
}

import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CatalogueService } from '../../catalogue/catalogue.service';
import { Clock } from '../../common/clock';
import { RelatedExchange, type RelatedExchangeItem, type RelatedWebinar } from '../../common/related-exchange';
import { OrganisationDirectory } from '../../organisations/organisation-directory.service';
import { ExchangeItemTopic } from '../entities/exchange-item-facets.entity';
import { ExchangeItem } from '../entities/exchange-item.entity';
import { EXCHANGE_KINDS } from '../exchange-kinds';
import { RefreshingCache } from './refreshing-cache';

/** How many related courses, and webinars, an exchange item's page lists. */
export const RELATED_LEARNING_LIMIT = 3;

/** The related-learning panel of an exchange item's page (views/partials/exchange/related-panel.hbs). */
export interface RelatedPanel {
  courses: Array<{ slug: string; title: string; summary: string; topicName: string; href: string }>;
  webinars: RelatedWebinar[];
}

/** Related lists change slowly and course pages are read often: each is read again at most this often. */
const RELATED_FRESH_MS = 60_000;

/**
 * "Related" both ways, by topic (exchange items carry the catalogue's topics): the published exchange items a course or
 * webinar page shows under "From the exchange" (registered with the RelatedExchange port), and the courses and
 * webinars an exchange item's page shows beside it. One query per list.
 */
@Injectable()
export class RelatedService implements OnModuleInit {
  private readonly logger = new Logger('RelatedExchange');
  private readonly itemLists: RefreshingCache<RelatedExchangeItem[]>;

  constructor(
    @InjectRepository(ExchangeItem) private readonly items: Repository<ExchangeItem>,
    @InjectRepository(ExchangeItemTopic) private readonly itemTopics: Repository<ExchangeItemTopic>,
    private readonly related: RelatedExchange,
    private readonly catalogue: CatalogueService,
    private readonly organisations: OrganisationDirectory,
    private readonly clock: Clock,
  ) {
    this.itemLists = new RefreshingCache({
      freshMs: RELATED_FRESH_MS,
      staleMs: 10 * RELATED_FRESH_MS,
      maxWeight: 1_000,
      now: () => this.clock.now().getTime(),
      onRefreshError: (key, err) => this.logger.warn(`Could not refresh related exchange items ${key}: ${(err as Error).message}`),
    });
  }

  onModuleInit(): void {
    this.related.useExchange((topicIds, limit) => this.itemsOnTopics(topicIds, limit));
  }

  /** Published items on any of the topics: the most adopted first, then the newest. */
  itemsOnTopics(topicIds: readonly number[], limit: number): Promise<RelatedExchangeItem[]> {
    const ids = [...new Set(topicIds)].filter((id) => Number.isSafeInteger(id) && id > 0).sort((a, b) => a - b);
    if (!ids.length || limit < 1) return Promise.resolve([]);
    return this.itemLists.get(`${ids.join(',')}:${limit}`, async () => {
      const rows = await this.items
        .createQueryBuilder('i')
        .select(['i.id', 'i.slug', 'i.kind', 'i.title', 'i.summary', 'i.organisationId'])
        .where('i.status = :published', { published: 'published' })
        .andWhere('EXISTS (SELECT 1 FROM exchange_item_topics ft WHERE ft.item_id = i.id AND ft.topic_id IN (:...topicIds))', { topicIds: ids })
        // The order of idx_exchange_items_status_adopted: read backwards, it stops at the first `limit` on the topics.
        .orderBy('i.adoptionCount', 'DESC')
        .addOrderBy('i.publishedAt', 'DESC')
        .addOrderBy('i.id', 'DESC')
        .limit(limit)
        .getMany();
      const organisations = await this.organisations.describe(rows.map((r) => r.organisationId));
      return rows.map((r) => ({
        slug: r.slug,
        kind: r.kind,
        kindLabel: EXCHANGE_KINDS[r.kind] ?? r.kind,
        title: r.title,
        summary: r.summary,
        organisationName: organisations.get(r.organisationId)?.name ?? '',
        href: `/exchange/${r.slug}`,
      }));
    });
  }

  /** The related-learning panel of a published item: courses and webinars on its topics (its topic links are on its page already). */
  async panelFor(itemId: number): Promise<RelatedPanel> {
    const topicIds = (await this.itemTopics.find({ where: { itemId }, select: { topicId: true } })).map((t) => t.topicId);
    if (!topicIds.length) return { courses: [], webinars: [] };
    const [courses, webinars] = await Promise.all([this.catalogue.popularInTopics(topicIds, RELATED_LEARNING_LIMIT), this.related.webinarsOnTopics(topicIds, RELATED_LEARNING_LIMIT)]);
    return { courses: courses.map((c) => ({ slug: c.slug, title: c.title, summary: c.summary, topicName: c.topic.name, href: `/courses/${c.slug}` })), webinars };
  }
}

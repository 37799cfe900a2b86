import { Global, Injectable, Module } from '@nestjs/common';

/** An exchange item as a course or webinar page lists it under "From the exchange". */
export interface RelatedExchangeItem {
  slug: string;
  kind: string;
  /** "Case study", "Tool", "Hack". */
  kindLabel: string;
  title: string;
  summary: string;
  organisationName: string;
  href: string;
}

/** A webinar as an exchange item's page lists it under related learning. */
export interface RelatedWebinar {
  slug: string;
  title: string;
  startsAt: Date;
  /** Whether it is still to come (or live now); otherwise it has ended (and may have a recording). */
  upcoming: boolean;
  href: string;
}

export type RelatedExchangeFinder = (topicIds: readonly number[], limit: number) => Promise<RelatedExchangeItem[]>;
export type RelatedWebinarsFinder = (topicIds: readonly number[], limit: number) => Promise<RelatedWebinar[]>;

/** How many related items a course or webinar page shows. */
export const RELATED_EXCHANGE_LIMIT = 3;

/**
 * A port between the exchange and the learning it relates to, so neither module imports the other: the exchange
 * registers how it finds published items on topics (course and webinar pages ask, "From the exchange"), and the
 * webinars module registers how it finds webinars on topics (an exchange item's page asks). Courses need no port:
 * the exchange reads them through CatalogueService. Global, so the exchange module (which cannot import it) sees it.
 */
@Injectable()
export class RelatedExchange {
  private items: RelatedExchangeFinder | null = null;
  private webinars: RelatedWebinarsFinder | null = null;

  /** Called once, by the exchange. */
  useExchange(finder: RelatedExchangeFinder): void {
    this.items = finder;
  }

  /** Called once, by the webinars module. */
  useWebinars(finder: RelatedWebinarsFinder): void {
    this.webinars = finder;
  }

  /** Published exchange items on any of these topics, the most adopted first; at most `limit`. */
  itemsOnTopics(topicIds: readonly number[], limit = RELATED_EXCHANGE_LIMIT): Promise<RelatedExchangeItem[]> {
    if (!this.items) throw new Error('No exchange module has registered with RelatedExchange');
    return topicIds.length ? this.items(topicIds, limit) : Promise.resolve([]);
  }

  /** Published webinars on any of these topics, the next ones first, then the latest past ones; at most `limit`. */
  webinarsOnTopics(topicIds: readonly number[], limit = RELATED_EXCHANGE_LIMIT): Promise<RelatedWebinar[]> {
    if (!this.webinars) throw new Error('No webinars module has registered with RelatedExchange');
    return topicIds.length ? this.webinars(topicIds, limit) : Promise.resolve([]);
  }
}

@Global()
@Module({ providers: [RelatedExchange], exports: [RelatedExchange] })
export class RelatedExchangeModule {}

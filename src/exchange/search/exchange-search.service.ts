import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { Clock } from '../../common/clock';
import { TtlCache } from '../../common/ttl-cache';
import type { FieldErrors } from '../../common/errors';
import { searchWords, whereFullTextMatches, type FullTextTarget } from '../../common/full-text';
import { isOrganisationType, isRegion, ORGANISATION_TYPES, REGIONS } from '../../organisations/organisation-kinds';
import { ExchangeItemOrganisation, ExchangeItemSystem, ExchangeItemTopic } from '../entities/exchange-item-facets.entity';
import { ExchangeItem } from '../entities/exchange-item.entity';
import { ExchangeSystem } from '../entities/exchange-system.entity';
import { CARE_SETTINGS, EXCHANGE_KINDS, EXCHANGE_SORTS, isCareSetting, isExchangeKind, isExchangeSort, type ExchangeKind } from '../exchange-kinds';
import { ExchangeVocabulary, systemOption, type SystemOption } from '../exchange-vocabulary';
import { PublishedIndex, type FacetCounts, type FacetRow, type MatchSet } from './published-index';
import { RefreshingCache } from './refreshing-cache';
import { PublishedChanges } from '../published-changes';
import {
  defaultSort,
  EXCHANGE_PAGE_SIZE,
  FACET_LIMIT,
  filterValues,
  FIXED_FACET_LABELS,
  MAX_SEARCH_HITS,
  QUERY_MAX_LENGTH,
  type ExchangeSearch,
  type Facet,
  type Facets,
  type FacetValue,
} from './search-query';

/** The search as it arrives (query parameters), before any check. */
export interface RawExchangeSearch {
  q?: unknown;
  kind?: unknown;
  topic?: unknown;
  careSetting?: unknown;
  system?: unknown;
  organisationType?: unknown;
  region?: unknown;
  sort?: unknown;
  page?: unknown;
}

export interface ExchangeCard {
  id: number;
  slug: string;
  kind: ExchangeKind;
  kindLabel: string;
  title: string;
  summary: string;
  organisation: { id: number; name: string; type: string; region: string | null };
  publishedAt: Date;
  counts: { helpful: number; adoptions: number; saves: number; downloads: number };
}

export interface ExchangeSearchResult {
  search: ExchangeSearch;
  items: ExchangeCard[];
  facets: Facets;
  page: number;
  hasNext: boolean;
  /** Items matching the search and filters (a search's: among its best MAX_SEARCH_HITS; see `capped`). */
  total: number;
  /** The words matched more than MAX_SEARCH_HITS items: only the best of them are counted and paged. */
  capped: boolean;
}

/** The engine's full-text index of exchange items (see common/full-text.ts). */
const SEARCH_TARGET: FullTextTarget = { alias: 'i', table: 'exchange_items', columns: ['title', 'summary', 'search_text'] };

/**
 * How often the index of published items is looked at for changes (a change is read at the next search after it),
 * and for how long at most a stale one (or a search's matches after a change) is served while it is read again.
 */
export const SEARCH_FRESH_MS = 30_000;
export const SEARCH_STALE_MS = 2 * 60_000;
/** The longest the index is used without being read whole (changes of organisations' types and regions show then). */
const FULL_READ_MS = 10 * 60_000;
/** How long the same search is answered with the same page (popular searches are asked many times a second). */
export const RESULT_CACHE_MS = 5_000;
/**
 * The bytes of matches held across all searches: a search's ids (4 bytes each) and, for the index in use, their
 * positions (4 bytes each) and a bitset (a bit per published item). 64 MB hold the 500 broadest searches or more.
 */
const MAX_HELD_MATCH_BYTES = 64 * 1024 * 1024;

const SLUG = /^[a-z0-9-]{1,120}$/;
const LABEL_ORDER = new Intl.Collator('en-GB');
const asDate = (value: unknown): Date => (value instanceof Date ? value : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(String(value)) ? String(value) : `${String(value).replace(' ', 'T')}Z`));

/** A card from its raw row (see cards). */
const cardOf = (id: number, r: Record<string, unknown>): ExchangeCard => {
  const kind = r.kind as ExchangeKind;
  return {
    id,
    slug: String(r.slug),
    kind,
    kindLabel: EXCHANGE_KINDS[kind] ?? kind,
    title: String(r.title),
    summary: String(r.summary),
    organisation: { id: Number(r.organisationId), name: String(r.organisationName), type: String(r.organisationType), region: (r.organisationRegion as string | null) ?? null },
    publishedAt: asDate(r.publishedAt),
    counts: { helpful: Number(r.helpful), adoptions: Number(r.adoptions), saves: Number(r.saves), downloads: Number(r.downloads) },
  };
};

/** A search's matches: their ids, best first, and those of them in an index as positions and bits. */
interface Matches {
  ids: Int32Array;
  capped: boolean;
  within(index: PublishedIndex): MatchSet;
}

/**
 * Finds published exchange items. Words are matched and ranked by the database engine's full-text index (InnoDB
 * FULLTEXT on MySQL, FTS5 on SQLite): one query per set of words, its answer (the matches' ids, best first) kept until
 * the published items change. Every filter, facet count, order and page is worked out in memory from an index of all
 * published items (PublishedIndex), read through narrow indexes and read again when a look every SEARCH_FRESH_MS
 * shows a change. Measured at 100,000 items on MariaDB, this is what keeps a search within its budget: counting six
 * facets with GROUP BY for each search took from 100 ms to seconds (bench/README.md).
 */
@Injectable()
export class ExchangeSearchService {
  private readonly logger = new Logger('ExchangeSearch');
  private readonly indexes: RefreshingCache<PublishedIndex>;
  private readonly matchLists: RefreshingCache<Matches>;
  private lastIndex: PublishedIndex | null = null;
  private lastLook = '';
  private lastFullRead = 0;
  private readonly answers: TtlCache<ExchangeSearchResult>;
  private readonly labelledFacets = new WeakMap<FacetCounts, Facets>();
  /** Cards by item id (null: not published), for RESULT_CACHE_MS. */
  private readonly cardCache: TtlCache<ExchangeCard | null>;
  private readonly systemList: RefreshingCache<Map<number, SystemOption>>;

  constructor(
    @InjectRepository(ExchangeItem) private readonly items: Repository<ExchangeItem>,
    @InjectRepository(ExchangeSystem) private readonly systemRows: Repository<ExchangeSystem>,
    private readonly dataSource: DataSource,
    private readonly vocabulary: ExchangeVocabulary,
    private readonly clock: Clock,
    published: PublishedChanges,
  ) {
    const now = () => this.clock.now().getTime();
    const onRefreshError = (key: string, err: unknown) => this.logger.warn(`Could not refresh the search cache entry ${key}: ${(err as Error).message}`);
    this.indexes = new RefreshingCache({ freshMs: SEARCH_FRESH_MS, staleMs: SEARCH_STALE_MS, maxWeight: 1, now, onRefreshError });
    this.matchLists = new RefreshingCache({ freshMs: SEARCH_FRESH_MS, staleMs: SEARCH_STALE_MS, maxWeight: MAX_HELD_MATCH_BYTES, weigh: (m) => m.ids.length * 8 + Math.ceil((this.lastIndex?.size ?? 0) / 8), now, onRefreshError });
    this.answers = new TtlCache(RESULT_CACHE_MS, 1_000, now);
    this.cardCache = new TtlCache(RESULT_CACHE_MS, 20_000, now);
    this.systemList = new RefreshingCache({ freshMs: 60_000, staleMs: 10 * 60_000, maxWeight: 1, now, onRefreshError });
    // Published, republished or withdrawn here: the next search reads the index and its matches again, at once.
    published.onChange(() => this.forgetPublished());
  }

  private forgetPublished(): void {
    this.indexes.clear();
    this.matchLists.clear();
    this.answers.clear();
    this.cardCache.clear();
    this.lastLook = '';
  }

  // ---- Reading a search from query parameters ---------------------------------------------------------------

  /**
   * Checks every parameter: the search with each valid one, and a message for each that is not (an unknown code or
   * slug, a second value, a relevance order without words). The API refuses a search with any; the page ignores them
   * and says so.
   */
  async resolve(raw: RawExchangeSearch): Promise<{ search: ExchangeSearch; problems: FieldErrors }> {
    const problems: FieldErrors = {};
    const text = (name: keyof RawExchangeSearch): string | null => {
      const value = raw[name];
      if (value === undefined || value === null) return null;
      if (typeof value !== 'string') {
        problems[name] = `Give ${name} once, as text`;
        return null;
      }
      const trimmed = value.trim();
      return trimmed === '' ? null : trimmed;
    };
    const code = <T extends string>(name: keyof RawExchangeSearch, is: (v: unknown) => v is T, labels: Record<string, string>, what: string): T | null => {
      const value = text(name);
      if (value === null) return null;
      if (is(value)) return value;
      problems[name] = `There is no ${what} “${value.slice(0, 40)}”. Choose one of: ${Object.keys(labels).join(', ')}`;
      return null;
    };

    let q = text('q');
    if (q !== null && q.length > QUERY_MAX_LENGTH) {
      problems.q = `Search for at most ${QUERY_MAX_LENGTH} characters`;
      q = null;
    }
    const words = searchWords(q);
    if (q !== null && !words.length) problems.q = 'Search for words of 3 letters or more: shorter words, and common ones such as “the” or “and”, are not searched';

    const kind = code('kind', isExchangeKind, EXCHANGE_KINDS, 'kind');
    const careSetting = code('careSetting', isCareSetting, CARE_SETTINGS, 'care setting');
    const organisationType = code('organisationType', isOrganisationType, ORGANISATION_TYPES, 'organisation type');
    const region = code('region', isRegion, REGIONS, 'region');

    const topicSlug = text('topic');
    let topic: ExchangeSearch['topic'] = null;
    if (topicSlug !== null) {
      const found = SLUG.test(topicSlug) ? (await this.vocabulary.topics()).find((t) => t.slug === topicSlug) : undefined;
      if (found) topic = { id: found.id, slug: found.slug, name: found.name };
      else problems.topic = `There is no topic “${topicSlug.slice(0, 40)}”. Choose a topic from the list`;
    }

    const systemSlug = text('system');
    let system: ExchangeSearch['system'] = null;
    if (systemSlug !== null) {
      const found = SLUG.test(systemSlug) ? ([...(await this.systems()).values()].find((s) => s.slug === systemSlug) ?? (await this.vocabulary.systemBySlug(systemSlug))) : null;
      if (found) system = { id: found.id, slug: found.slug, name: found.label };
      else problems.system = `There is no system or supplier “${systemSlug.slice(0, 40)}” on the list. Choose one from the list`;
    }

    let sort = defaultSort(words.length > 0);
    const sortValue = text('sort');
    if (sortValue !== null) {
      if (!isExchangeSort(sortValue)) problems.sort = `There is no order “${sortValue.slice(0, 40)}”. Choose one of: ${Object.keys(EXCHANGE_SORTS).join(', ')}`;
      else if (sortValue === 'relevance' && q === null) problems.sort = 'Sorting by relevance needs words to search for (q)';
      else sort = sortValue;
    }

    let page = 1;
    const pageValue = raw.page === undefined || raw.page === null ? null : typeof raw.page === 'number' ? String(raw.page) : text('page');
    if (pageValue !== null) {
      const n = /^\d{1,5}$/.test(pageValue) ? Number(pageValue) : NaN;
      if (n >= 1 && n <= 10_000) page = n;
      else problems.page = 'page must be a whole number from 1 to 10,000';
    }

    return { search: { q, words, kind, topic, careSetting, system, organisationType, region, sort, page }, problems };
  }

  // ---- Searching ------------------------------------------------------------------------------------------

  async search(search: ExchangeSearch): Promise<ExchangeSearchResult> {
    if (search.q !== null && !search.words.length) return this.labelled(search, { ids: [], hasNext: false, total: 0, capped: false, counts: null });
    const index = await this.index();
    const filters = filterValues(search);
    const key = `${index.version}|${search.words.join(' ')}|${JSON.stringify(filters)}|${search.sort}|${search.page}`;
    // The same search again within RESULT_CACHE_MS: the same answer (its cards' counters that much old at most).
    const answer = await this.answers.remember(key, async () => {
      const matches = search.words.length ? await this.matchesOf(search.words, index.contentVersion) : null;
      const within = matches ? matches.within(index) : null;
      const { ids, hasNext, total } = index.page(filters, within, search.sort, search.page, EXCHANGE_PAGE_SIZE);
      const counts = index.counts(filters, within, `${search.words.join(' ')}|${JSON.stringify(filters)}`);
      return this.labelled(search, { ids, hasNext, total, capped: matches?.capped ?? false, counts });
    });
    return { ...answer, search };
  }

  /**
   * A search's matches, best first, as the engine finds and ranks them: one query for their ids (at most
   * MAX_SEARCH_HITS), read again only once the published items have changed (`contentVersion`: one published,
   * withdrawn or republished), and served meanwhile. Their facet values and counters are the index's.
   */
  private matchesOf(words: string[], contentVersion: string): Promise<Matches> {
    return this.matchLists.get(
      words.join(' '),
      async () => {
        const best = this.items.createQueryBuilder('i').select('i.id', 'id').where('i.status = :published', { published: 'published' });
        const score = whereFullTextMatches(best, SEARCH_TARGET, words);
        // Ties to the newest, then the highest id, as every order of the exchange.
        const rows = await best.addSelect(score, 'score').orderBy('score', 'DESC').addOrderBy('i.publishedAt', 'DESC').addOrderBy('i.id', 'DESC').limit(MAX_SEARCH_HITS + 1).getRawMany<{ id: unknown }>();
        const ids = Int32Array.from(rows.slice(0, MAX_SEARCH_HITS), (r) => Number(r.id));
        const byIndex = new WeakMap<PublishedIndex, MatchSet>();
        return {
          ids,
          capped: rows.length > MAX_SEARCH_HITS,
          within(index) {
            let set = byIndex.get(index);
            if (!set) byIndex.set(index, (set = index.matches(ids)));
            return set;
          },
        };
      },
      contentVersion,
    );
  }

  /**
   * Every published item with its facet values, for filtering, counting, sorting and paging in memory: four reads of
   * narrow indexes (the items' list index and the three facet tables), once per SEARCH_FRESH_MS, rather than six
   * GROUP BYs over the exchange for every search and combination of filters.
   */
  private index(): Promise<PublishedIndex> {
    return this.indexes.get('published', async () => {
      // First a look at whether anything changed (a few sums over the same narrow indexes, one row back): on most
      // refreshes nothing did, and the index in use stays. Organisations' types and regions are not in the look, so
      // the index is read whole at least every FULL_READ_MS.
      const look = await this.lookAtPublished();
      if (this.lastIndex && look === this.lastLook && this.clock.now().getTime() - this.lastFullRead < FULL_READ_MS) return this.lastIndex;
      const readAt = this.clock.now().getTime();
      const readFacet = (entity: typeof ExchangeItemTopic | typeof ExchangeItemSystem, column: string) =>
        this.dataSource.createQueryBuilder().select('f.item_id', 'itemId').addSelect(`f.${column}`, 'value').from(entity, 'f').getRawMany<{ itemId: unknown; value: unknown }>();
      const [rows, topics, systems, organisations] = await Promise.all([
        this.items
          .createQueryBuilder('i')
          .select('i.id', 'id')
          .addSelect('i.kind', 'kind')
          .addSelect('i.careSetting', 'careSetting')
          .addSelect('i.publishedAt', 'publishedAt')
          .addSelect('i.helpfulCount', 'helpful')
          .addSelect('i.adoptionCount', 'adopted')
          .addSelect('i.updatedAt', 'updatedAt')
          .where('i.status = :published', { published: 'published' })
          .getRawMany<Record<string, unknown>>(),
        readFacet(ExchangeItemTopic, 'topic_id'),
        readFacet(ExchangeItemSystem, 'system_id'),
        this.dataSource
          .createQueryBuilder()
          .select('eo.item_id', 'itemId')
          .addSelect('o.type', 'type')
          .addSelect('o.region', 'region')
          .from(ExchangeItemOrganisation, 'eo')
          .innerJoin('organisations', 'o', 'o.id = eo.organisation_id')
          .getRawMany<{ itemId: unknown; type: unknown; region: unknown }>(),
      ]);
      const ids = (list: Array<{ itemId: unknown; value: unknown }>): FacetRow[] => list.map((r) => ({ itemId: Number(r.itemId), value: Number(r.value) }));
      const items = rows.map((r) => ({
        id: Number(r.id),
        kind: String(r.kind),
        careSetting: (r.careSetting as string | null) ?? null,
        publishedAt: r.publishedAt ? asDate(r.publishedAt).getTime() : 0,
        helpful: Number(r.helpful),
        adopted: Number(r.adopted),
        updatedAt: asDate(r.updatedAt).getTime(),
      }));
      const facetRows = {
        topic: ids(topics),
        system: ids(systems),
        organisationType: organisations.map((r) => ({ itemId: Number(r.itemId), value: String(r.type) })),
        region: organisations.flatMap((r) => (r.region ? [{ itemId: Number(r.itemId), value: String(r.region) }] : [])),
      };
      this.lastLook = look;
      this.lastFullRead = readAt;
      // Nothing changed since the last read: the index in use stays, with everything it has worked out.
      const versions = PublishedIndex.versionsOf(items, facetRows);
      if (this.lastIndex?.version === versions.full) return this.lastIndex;
      return (this.lastIndex = await PublishedIndex.build(items, facetRows, versions));
    });
  }

  /** The published items' count, latest change, id and counter sums, and the facet tables' row counts and sums, as one string. */
  private async lookAtPublished(): Promise<string> {
    const [row] = await this.dataSource.query(
      `SELECT
         (SELECT COUNT(*) FROM exchange_items WHERE status = 'published') AS n,
         (SELECT MAX(updated_at) FROM exchange_items WHERE status = 'published') AS latest,
         (SELECT SUM(id) + 3 * SUM(helpful_count) + 7 * SUM(adoption_count) FROM exchange_items WHERE status = 'published') AS sums,
         (SELECT COUNT(*) + SUM(item_id) + 5 * SUM(topic_id) FROM exchange_item_topics) AS topics,
         (SELECT COUNT(*) + SUM(item_id) + 5 * SUM(system_id) FROM exchange_item_systems) AS systems,
         (SELECT COUNT(*) + SUM(item_id) + 5 * SUM(organisation_id) FROM exchange_item_organisations) AS organisations`,
    );
    const r = row as Record<string, unknown>;
    return [r.n, r.latest instanceof Date ? r.latest.getTime() : r.latest, r.sums, r.topics, r.systems, r.organisations].map(String).join(':');
  }

  // ---- What the page and the API show -----------------------------------------------------------------------

  private async labelled(search: ExchangeSearch, found: { ids: number[]; hasNext: boolean; total: number; capped: boolean; counts: FacetCounts | null }): Promise<ExchangeSearchResult> {
    const [items, facets] = await Promise.all([this.cards(found.ids), this.facetValues(search, found.counts)]);
    return { search, items, facets, page: search.page, hasNext: found.hasNext, total: found.total, capped: found.capped };
  }

  /**
   * The cards of these items, in this order; those not published are left out. One query for those not read in the
   * last RESULT_CACHE_MS (popular items are on many pages), with their organisations.
   */
  async cards(ids: number[]): Promise<ExchangeCard[]> {
    const wanted = ids.filter((id) => this.cardCache.get(String(id)) === undefined);
    if (wanted.length) {
      const rows = await this.items
        .createQueryBuilder('i')
        .innerJoin('organisations', 'o', 'o.id = i.organisation_id')
        .select(['i.id AS id', 'i.slug AS slug', 'i.kind AS kind', 'i.title AS title', 'i.summary AS summary', 'i.published_at AS publishedAt'])
        .addSelect(['i.helpful_count AS helpful', 'i.adoption_count AS adoptions', 'i.save_count AS saves', 'i.download_count AS downloads'])
        .addSelect(['o.id AS organisationId', 'o.name AS organisationName', 'o.type AS organisationType', 'o.region AS organisationRegion'])
        .where('i.id IN (:...ids)', { ids: wanted })
        .andWhere('i.status = :published', { published: 'published' })
        .getRawMany<Record<string, unknown>>();
      const found = new Map(rows.map((r) => [Number(r.id), r]));
      for (const id of wanted) {
        const r = found.get(id);
        this.cardCache.set(String(id), r ? cardOf(id, r) : null);
      }
    }
    return ids.flatMap((id) => this.cardCache.get(String(id)) ?? []);
  }

  /** Each facet's values with their counts and labels, most found first, at most FACET_LIMIT (the selected one always). */
  private async facetValues(search: ExchangeSearch, counts: FacetCounts | null): Promise<Facets> {
    // Counts are kept per search and filters, so their labelled lists can be too.
    const done = counts ? this.labelledFacets.get(counts) : undefined;
    if (done) return done;
    const [topics, systems] = await Promise.all([this.vocabulary.topics(), this.systems()]);
    const topicById = new Map(topics.map((t) => [t.id, t]));
    const selected: Record<Facet, string | number | null> = filterValues(search);
    const list = (facet: Facet, describe: (key: string | number) => { value: string; label: string } | null): FacetValue[] => {
      const values: FacetValue[] = [];
      for (const [key, count] of counts?.[facet] ?? []) {
        const described = describe(key);
        if (described) values.push({ ...described, count, selected: key === selected[facet] });
      }
      const chosen = selected[facet];
      if (chosen !== null && !values.some((v) => v.selected)) {
        const described = describe(chosen);
        if (described) values.push({ ...described, count: 0, selected: true });
      }
      values.sort((a, b) => b.count - a.count || LABEL_ORDER.compare(a.label, b.label));
      const top = values.slice(0, FACET_LIMIT);
      const chosenValue = values.find((v) => v.selected);
      if (chosenValue && !top.includes(chosenValue)) top[top.length - 1] = chosenValue;
      return top;
    };
    const fixed = (facet: keyof typeof FIXED_FACET_LABELS) => (key: string | number) => {
      const label = FIXED_FACET_LABELS[facet][String(key)];
      return label ? { value: String(key), label } : null;
    };
    const facets: Facets = {
      kind: list('kind', fixed('kind')),
      topic: list('topic', (id) => {
        const t = topicById.get(Number(id));
        return t ? { value: t.slug, label: t.name } : null;
      }),
      careSetting: list('careSetting', fixed('careSetting')),
      system: list('system', (id) => {
        const s = systems.get(Number(id));
        return s ? { value: s.slug, label: s.label } : null;
      }),
      organisationType: list('organisationType', fixed('organisationType')),
      region: list('region', fixed('region')),
    };
    if (counts) this.labelledFacets.set(counts, facets);
    return facets;
  }

  /** Every system on the moderators' list, retired ones too (they still name what was written with them), by id. */
  private systems(): Promise<Map<number, SystemOption>> {
    return this.systemList.get('all', async () => new Map((await this.systemRows.find()).map((s) => [s.id, systemOption(s)])));
  }
}

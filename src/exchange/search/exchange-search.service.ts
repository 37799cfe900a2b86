import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, Repository, type SelectQueryBuilder } from 'typeorm';
import { Clock } from '../../common/clock';
import type { FieldErrors } from '../../common/errors';
import { searchWords, whereFullTextMatches, type FullTextTarget } from '../../common/full-text';
import { OrganisationDirectory } from '../../organisations/organisation-directory.service';
import { isOrganisationType, isRegion, ORGANISATION_TYPES, REGIONS } from '../../organisations/organisation-kinds';
import { ExchangeItemOrganisation, ExchangeItemSystem, ExchangeItemTopic } from '../entities/exchange-item-facets.entity';
import { ExchangeItem } from '../entities/exchange-item.entity';
import { ExchangeSystem } from '../entities/exchange-system.entity';
import { CARE_SETTINGS, EXCHANGE_KINDS, EXCHANGE_SORTS, isCareSetting, isExchangeKind, isExchangeSort, type CareSetting, type ExchangeKind, type ExchangeSort } from '../exchange-kinds';
import { ExchangeVocabulary, systemOption, type SystemOption } from '../exchange-vocabulary';
import { countFacets, emptyCounts, pageOf, sortedHits, type FacetCounts, type SearchHit } from './hit-list';
import { RefreshingCache } from './refreshing-cache';
import {
  defaultSort,
  EXCHANGE_PAGE_SIZE,
  FACET_LIMIT,
  FACETS,
  filterValues,
  FIXED_FACET_LABELS,
  MAX_SEARCH_HITS,
  QUERY_MAX_LENGTH,
  withoutFacet,
  type ExchangeSearch,
  type Facet,
  type Facets,
  type FacetValue,
  type FilterValues,
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
 * How long a search's matches, and the counts of the facets of a list without words, are served as they are, then
 * served while they are read again, at most: published items and their counters show in lists within seconds.
 */
export const SEARCH_FRESH_MS = 30_000;
export const SEARCH_STALE_MS = 2 * 60_000;
/** The matches held across all searches (about 150 bytes each). */
const MAX_HELD_HITS = 400_000;

const SLUG = /^[a-z0-9-]{1,120}$/;
const asDate = (value: unknown): Date => (value instanceof Date ? value : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(String(value)) ? String(value) : `${String(value).replace(' ', 'T')}Z`));
const idsOf = (list: unknown): number[] => (typeof list === 'string' && list ? list.split(',').map(Number).filter((n) => Number.isSafeInteger(n) && n > 0) : []);
const codesOf = <T extends string>(list: unknown, is: (v: unknown) => v is T): T[] => (typeof list === 'string' && list ? [...new Set(list.split(','))].filter(is) : []);

interface Matches {
  hits: SearchHit[];
  capped: boolean;
  /** The hits in each order, sorted when first asked for. */
  sorted: Partial<Record<ExchangeSort, SearchHit[]>>;
}

/**
 * Finds published exchange items. Words are matched by the database engine's full-text index (InnoDB FULLTEXT on
 * MySQL, FTS5 on SQLite): one query reads a search's matches, best first, with their facet values, and every filter,
 * count, order and page of those words is then worked out from them, for a short while, without asking again. A list
 * without words is read straight from the database's indexes in the order asked for, a page at a time, and its facet
 * counts (which read every published item) are kept for a short while per combination of filters.
 */
@Injectable()
export class ExchangeSearchService {
  private readonly logger = new Logger('ExchangeSearch');
  private readonly matches: RefreshingCache<Matches>;
  private readonly browseCounts: RefreshingCache<Map<string | number, number>>;
  private readonly systemList: RefreshingCache<Map<number, SystemOption>>;

  constructor(
    @InjectRepository(ExchangeItem) private readonly items: Repository<ExchangeItem>,
    @InjectRepository(ExchangeSystem) private readonly systemRows: Repository<ExchangeSystem>,
    private readonly dataSource: DataSource,
    private readonly vocabulary: ExchangeVocabulary,
    private readonly organisations: OrganisationDirectory,
    private readonly clock: Clock,
  ) {
    const now = () => this.clock.now().getTime();
    const onRefreshError = (key: string, err: unknown) => this.logger.warn(`Could not refresh the search cache entry ${key}: ${(err as Error).message}`);
    this.matches = new RefreshingCache({ freshMs: SEARCH_FRESH_MS, staleMs: SEARCH_STALE_MS, maxWeight: MAX_HELD_HITS, weigh: (m) => m.hits.length, now, onRefreshError });
    this.browseCounts = new RefreshingCache({ freshMs: SEARCH_FRESH_MS, staleMs: SEARCH_STALE_MS, maxWeight: 2_000, now, onRefreshError });
    this.systemList = new RefreshingCache({ freshMs: 60_000, staleMs: 10 * 60_000, maxWeight: 1, now, onRefreshError });
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
    const filters = filterValues(search);
    if (search.q !== null && !search.words.length) return this.labelled(search, { ids: [], hasNext: false, total: 0, capped: false, counts: emptyCounts() });
    if (search.words.length) {
      const matches = await this.matchesOf(search.words);
      const sorted = (matches.sorted[search.sort] ??= sortedHits(matches.hits, search.sort));
      const { ids, hasNext, total } = pageOf(sorted, filters, search.page, EXCHANGE_PAGE_SIZE);
      return this.labelled(search, { ids, hasNext, total, capped: matches.capped, counts: countFacets(matches.hits, filters) });
    }
    const [ids, counts] = await Promise.all([this.browsePage(filters, search.sort, search.page), this.browseFacets(filters)]);
    const hasNext = ids.length > EXCHANGE_PAGE_SIZE;
    // Every published item has one kind: the kind facet (which leaves out its own filter) counts the whole list.
    const total = filters.kind === null ? [...counts.kind.values()].reduce((a, b) => a + b, 0) : (counts.kind.get(filters.kind) ?? 0);
    return this.labelled(search, { ids: ids.slice(0, EXCHANGE_PAGE_SIZE), hasNext, total, capped: false, counts });
  }

  /** A search's matches (published items only), best first, read once per SEARCH_FRESH_MS for the same words. */
  private matchesOf(words: string[]): Promise<Matches> {
    return this.matches.get(words.join(' '), async () => {
      const best = this.items
        .createQueryBuilder('i')
        .select('i.id', 'id')
        .addSelect('i.kind', 'kind')
        .addSelect('i.careSetting', 'careSetting')
        .addSelect('i.publishedAt', 'publishedAt')
        .addSelect('i.helpfulCount', 'helpful')
        .addSelect('i.adoptionCount', 'adopted')
        .where('i.status = :published', { published: 'published' });
      const score = whereFullTextMatches(best, SEARCH_TARGET, words);
      best.addSelect(score, 'score').orderBy('score', 'DESC').addOrderBy('i.id', 'DESC').limit(MAX_SEARCH_HITS + 1);
      const [bestSql, parameters] = best.getQueryAndParameters();
      // The facet values of the best matches only, each a short list the engine joins with commas.
      const rows: Array<Record<string, unknown>> = await this.dataSource.query(
        `SELECT h.*,
           (SELECT GROUP_CONCAT(t.topic_id) FROM exchange_item_topics t WHERE t.item_id = h.id) AS topics,
           (SELECT GROUP_CONCAT(s.system_id) FROM exchange_item_systems s WHERE s.item_id = h.id) AS systems,
           (SELECT GROUP_CONCAT(o.type) FROM exchange_item_organisations eo INNER JOIN organisations o ON o.id = eo.organisation_id WHERE eo.item_id = h.id) AS types,
           (SELECT GROUP_CONCAT(o.region) FROM exchange_item_organisations eo INNER JOIN organisations o ON o.id = eo.organisation_id WHERE eo.item_id = h.id) AS regions
         FROM (${bestSql}) h`,
        parameters,
      );
      const hits: SearchHit[] = rows.slice(0, MAX_SEARCH_HITS).map((r) => ({
        id: Number(r.id),
        score: Number(r.score),
        kind: r.kind as ExchangeKind,
        careSetting: (r.careSetting as CareSetting | null) ?? null,
        publishedAt: r.publishedAt ? asDate(r.publishedAt).getTime() : 0,
        helpful: Number(r.helpful),
        adopted: Number(r.adopted),
        topics: [...new Set(idsOf(r.topics))],
        systems: [...new Set(idsOf(r.systems))],
        organisationTypes: codesOf(r.types, isOrganisationType),
        regions: codesOf(r.regions, isRegion),
      }));
      return { hits, capped: rows.length > MAX_SEARCH_HITS, sorted: {} };
    });
  }

  // ---- Lists without words ---------------------------------------------------------------------------------

  /** Published items passing every filter (`except` one facet's), on `alias` (an exchange_items row). */
  private filtered<T extends object>(qb: SelectQueryBuilder<T>, filters: FilterValues): SelectQueryBuilder<T> {
    qb.andWhere('i.status = :published', { published: 'published' });
    if (filters.kind !== null) qb.andWhere('i.kind = :kind', { kind: filters.kind });
    if (filters.careSetting !== null) qb.andWhere('i.careSetting = :careSetting', { careSetting: filters.careSetting });
    if (filters.topic !== null) qb.andWhere('EXISTS (SELECT 1 FROM exchange_item_topics ft WHERE ft.item_id = i.id AND ft.topic_id = :topicId)', { topicId: filters.topic });
    if (filters.system !== null) qb.andWhere('EXISTS (SELECT 1 FROM exchange_item_systems fs WHERE fs.item_id = i.id AND fs.system_id = :systemId)', { systemId: filters.system });
    if (filters.organisationType !== null) {
      qb.andWhere('EXISTS (SELECT 1 FROM exchange_item_organisations fot INNER JOIN organisations ot ON ot.id = fot.organisation_id WHERE fot.item_id = i.id AND ot.type = :organisationType)', {
        organisationType: filters.organisationType,
      });
    }
    if (filters.region !== null) {
      qb.andWhere('EXISTS (SELECT 1 FROM exchange_item_organisations fre INNER JOIN organisations re ON re.id = fre.organisation_id WHERE fre.item_id = i.id AND re.region = :region)', { region: filters.region });
    }
    return qb;
  }

  /** One page of ids (and one more, to know whether a next page exists), in the order asked for. */
  private async browsePage(filters: FilterValues, sort: ExchangeSort, page: number): Promise<number[]> {
    const qb = this.filtered(this.items.createQueryBuilder('i').select('i.id', 'id'), filters);
    if (sort === 'most_adopted') qb.orderBy('i.adoptionCount', 'DESC').addOrderBy('i.publishedAt', 'DESC');
    else if (sort === 'most_helpful') qb.orderBy('i.helpfulCount', 'DESC').addOrderBy('i.publishedAt', 'DESC');
    else qb.orderBy('i.publishedAt', 'DESC');
    qb.addOrderBy('i.id', 'DESC')
      .limit(EXCHANGE_PAGE_SIZE + 1)
      .offset((page - 1) * EXCHANGE_PAGE_SIZE);
    return (await qb.getRawMany<{ id: unknown }>()).map((r) => Number(r.id));
  }

  /** Each facet's counts over the published items passing the other facets' filters, kept per combination. */
  private async browseFacets(filters: FilterValues): Promise<FacetCounts> {
    const entries = await Promise.all(FACETS.map(async (facet) => [facet, await this.browseFacet(facet, withoutFacet(filters, facet))] as const));
    return Object.fromEntries(entries) as FacetCounts;
  }

  private browseFacet(facet: Facet, filters: FilterValues): Promise<Map<string | number, number>> {
    return this.browseCounts.get(`${facet}:${JSON.stringify(filters)}`, async () => {
      const qb = this.items.createQueryBuilder('i');
      let counted = 'COUNT(*)';
      if (facet === 'kind') qb.select('i.kind', 'value').groupBy('i.kind');
      else if (facet === 'careSetting') qb.select('i.careSetting', 'value').where('i.careSetting IS NOT NULL').groupBy('i.careSetting');
      else if (facet === 'topic') qb.innerJoin(ExchangeItemTopic, 'fx', 'fx.itemId = i.id').select('fx.topicId', 'value').groupBy('fx.topicId');
      else if (facet === 'system') qb.innerJoin(ExchangeItemSystem, 'fx', 'fx.itemId = i.id').select('fx.systemId', 'value').groupBy('fx.systemId');
      else {
        const column = facet === 'organisationType' ? 'type' : 'region';
        qb.innerJoin(ExchangeItemOrganisation, 'fx', 'fx.itemId = i.id').innerJoin('organisations', 'fo', 'fo.id = fx.organisationId').select(`fo.${column}`, 'value').groupBy(`fo.${column}`);
        if (column === 'region') qb.where('fo.region IS NOT NULL');
        // An item with two organisations of one type (or region) counts once for it.
        counted = 'COUNT(DISTINCT i.id)';
      }
      const rows = await this.filtered(qb.addSelect(counted, 'n'), filters).getRawMany<{ value: unknown; n: unknown }>();
      return new Map(rows.map((r) => [facet === 'topic' || facet === 'system' ? Number(r.value) : String(r.value), Number(r.n)]));
    });
  }

  // ---- What the page and the API show -----------------------------------------------------------------------

  private async labelled(search: ExchangeSearch, found: { ids: number[]; hasNext: boolean; total: number; capped: boolean; counts: FacetCounts }): Promise<ExchangeSearchResult> {
    const [items, facets] = await Promise.all([this.cards(found.ids), this.facetValues(search, found.counts)]);
    return { search, items, facets, page: search.page, hasNext: found.hasNext, total: found.total, capped: found.capped };
  }

  /** The cards of these items, in this order; one query, and one for their organisations. Not published: left out. */
  async cards(ids: number[]): Promise<ExchangeCard[]> {
    if (!ids.length) return [];
    const rows = await this.items.find({
      where: { id: In(ids), status: 'published' },
      select: { id: true, slug: true, kind: true, title: true, summary: true, organisationId: true, publishedAt: true, helpfulCount: true, adoptionCount: true, saveCount: true, downloadCount: true },
    });
    const organisations = await this.organisations.describe(rows.map((r) => r.organisationId));
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.flatMap((id) => {
      const r = byId.get(id);
      if (!r) return [];
      const o = organisations.get(r.organisationId);
      return [
        {
          id: r.id,
          slug: r.slug,
          kind: r.kind,
          kindLabel: EXCHANGE_KINDS[r.kind] ?? r.kind,
          title: r.title,
          summary: r.summary,
          organisation: { id: r.organisationId, name: o?.name ?? '', type: o?.type ?? 'other', region: o?.region ?? null },
          publishedAt: r.publishedAt!,
          counts: { helpful: r.helpfulCount, adoptions: r.adoptionCount, saves: r.saveCount, downloads: r.downloadCount },
        },
      ];
    });
  }

  /** Each facet's values with their counts and labels, most found first, at most FACET_LIMIT (the selected one always). */
  private async facetValues(search: ExchangeSearch, counts: FacetCounts): Promise<Facets> {
    const [topics, systems] = await Promise.all([this.vocabulary.topics(), this.systems()]);
    const topicById = new Map(topics.map((t) => [t.id, t]));
    const selected: Record<Facet, string | number | null> = filterValues(search);
    const list = (facet: Facet, describe: (key: string | number) => { value: string; label: string } | null): FacetValue[] => {
      const values: FacetValue[] = [];
      for (const [key, count] of counts[facet]) {
        const described = describe(key);
        if (described) values.push({ ...described, count, selected: key === selected[facet] });
      }
      const chosen = selected[facet];
      if (chosen !== null && !values.some((v) => v.selected)) {
        const described = describe(chosen);
        if (described) values.push({ ...described, count: 0, selected: true });
      }
      values.sort((a, b) => b.count - a.count || a.label.localeCompare(b.label));
      const top = values.slice(0, FACET_LIMIT);
      const chosenValue = values.find((v) => v.selected);
      if (chosenValue && !top.includes(chosenValue)) top[top.length - 1] = chosenValue;
      return top;
    };
    const fixed = (facet: keyof typeof FIXED_FACET_LABELS) => (key: string | number) => {
      const label = FIXED_FACET_LABELS[facet][String(key)];
      return label ? { value: String(key), label } : null;
    };
    return {
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
  }

  /** Every system on the moderators' list, retired ones too (they still name what was written with them), by id. */
  private systems(): Promise<Map<number, SystemOption>> {
    return this.systemList.get('all', async () => new Map((await this.systemRows.find()).map((s) => [s.id, systemOption(s)])));
  }
}

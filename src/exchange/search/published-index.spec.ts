import type { ExchangeSort } from '../exchange-kinds';
import { PublishedIndex, type FacetRow, type PublishedRow } from './published-index';
import { FACETS, type Facet, type FilterValues } from './search-query';

/** A seeded generator, so a failure can be run again. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS = ['case_study', 'tool', 'hack'];
const CARE = ['acute', 'community', 'primary_care', null];
const TYPES = ['nhs_trust', 'icb', 'care_provider'];
const REGIONS = ['london', 'midlands', 'north_west'];

interface Item extends PublishedRow {
  values: Record<Facet, Array<string | number>>;
}

function world(size: number, seed: number) {
  const r = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(r() * list.length)];
  const some = <T>(list: readonly T[], most: number) => [...new Set(Array.from({ length: Math.floor(r() * (most + 1)) }, () => pick(list)))];
  const items: Item[] = Array.from({ length: size }, (_, i) => {
    const kind = pick(KINDS);
    const careSetting = pick(CARE);
    // Ids with gaps, as withdrawn and unpublished items leave them.
    const id = 1 + i * 3 + Math.floor(r() * 2);
    const item: Item = {
      id,
      kind,
      careSetting,
      publishedAt: Date.UTC(2025, 0, 1) + Math.floor(r() * 50) * 86_400_000,
      helpful: Math.floor(r() * 5),
      adopted: Math.floor(r() * 4),
      updatedAt: Date.UTC(2025, 6, 1),
      values: {
        kind: [kind],
        careSetting: careSetting ? [careSetting] : [],
        topic: some([1, 2, 3, 4, 5], 3),
        system: some([10, 11, 12, 13, 14, 15, 16], 2),
        organisationType: some(TYPES, 2),
        region: some(REGIONS, 2),
      },
    };
    return item;
  });
  const rows = (facet: 'topic' | 'system' | 'organisationType' | 'region'): FacetRow[] => items.flatMap((it) => it.values[facet].map((value) => ({ itemId: it.id, value })));
  // Facet rows of an item that is not published any more (withdrawn items keep theirs), repeated values, and junk.
  const extra = (facet: 'topic' | 'system' | 'organisationType' | 'region', value: string | number): FacetRow[] => [{ itemId: 999_999, value }, ...(items[0].values[facet].length ? [{ itemId: items[0].id, value: items[0].values[facet][0] }] : [])];
  const facetRows = {
    topic: [...rows('topic'), ...extra('topic', 1)],
    system: [...rows('system'), ...extra('system', 10)],
    organisationType: [...rows('organisationType'), ...extra('organisationType', 'icb'), { itemId: items[1].id, value: 'not_a_type' }],
    region: [...rows('region'), ...extra('region', 'london')],
  };
  return { items, facetRows, r, pick };
}

const NONE: FilterValues = { kind: null, topic: null, careSetting: null, system: null, organisationType: null, region: null };
const passes = (item: Item, filters: FilterValues, except: Facet | null) => FACETS.every((f) => f === except || filters[f] === null || item.values[f].includes(filters[f]!));
const newest = (a: Item, b: Item) => b.publishedAt - a.publishedAt || b.id - a.id;
const ORDERS: Record<Exclude<ExchangeSort, 'relevance'>, (a: Item, b: Item) => number> = {
  newest,
  most_adopted: (a, b) => b.adopted - a.adopted || newest(a, b),
  most_helpful: (a, b) => b.helpful - a.helpful || newest(a, b),
};

function expectedCounts(items: Item[], filters: FilterValues) {
  return Object.fromEntries(
    FACETS.map((facet) => {
      const counts = new Map<string | number, number>();
      for (const item of items) if (passes(item, filters, facet)) for (const v of item.values[facet]) counts.set(v, (counts.get(v) ?? 0) + 1);
      return [facet, counts];
    }),
  );
}

describe('PublishedIndex', () => {
  it('filters, counts each facet without its own filter, sorts and pages exactly as a plain reading of the items would', async () => {
    const { items, facetRows, r, pick } = world(700, 14);
    const index = await PublishedIndex.build(items, facetRows);
    expect(index.size).toBe(items.length);
    const values: Record<Facet, Array<string | number>> = { kind: KINDS, careSetting: ['acute', 'community', 'primary_care'], topic: [1, 2, 3, 4, 5, 99], system: [10, 11, 12, 13, 14, 15, 16], organisationType: [...TYPES, 'gp_practice'], region: REGIONS };
    for (let round = 0; round < 150; round++) {
      const filters: FilterValues = { ...NONE };
      for (const facet of FACETS) if (r() < 0.35) (filters as Record<Facet, unknown>)[facet] = pick(values[facet]);
      // A search's matches: none (a list without words), a few (counted one by one) or many (counted by bitsets).
      const share = pick([0, 0.05, 0.6]);
      const matched = share ? items.filter(() => r() < share).sort(() => r() - 0.5) : null;
      const within = matched ? index.matches(Int32Array.from(matched, (i) => i.id)) : null;
      const pool = matched ?? items;
      const counts = index.counts(filters, within, `${round}`);
      const want = expectedCounts(pool, filters);
      for (const facet of FACETS) expect({ round, facet, counts: Object.fromEntries(counts[facet]) }).toEqual({ round, facet, counts: Object.fromEntries(want[facet]) });
      const sort = pick<ExchangeSort>(matched ? ['relevance', 'newest', 'most_adopted', 'most_helpful'] : ['newest', 'most_adopted', 'most_helpful']);
      const passing = pool.filter((i) => passes(i, filters, null));
      const ordered = sort === 'relevance' ? passing : [...passing].sort(ORDERS[sort]);
      for (const page of [1, 2, 3]) {
        const got = index.page(filters, within, sort, page, 20);
        const slice = ordered.slice((page - 1) * 20, page * 20).map((i) => i.id);
        expect({ round, sort, page, got }).toEqual({ round, sort, page, got: { ids: slice, hasNext: ordered.length > page * 20, total: ordered.length } });
      }
    }
  });

  it('leaves out matches that are not in it, and counts an item once however many rows name a value', async () => {
    const { items, facetRows } = world(50, 3);
    const index = await PublishedIndex.build(items, facetRows);
    const within = index.matches(Int32Array.from([items[3].id, 424242, items[3].id, items[1].id]));
    expect(index.page(NONE, within, 'relevance', 1, 20).ids).toEqual([items[3].id, items[1].id]);
    const all = index.counts(NONE, null, 'all');
    expect(all.organisationType.get('not_a_type')).toBeUndefined();
    expect(all.topic.get(1)).toBe(items.filter((i) => i.values.topic.includes(1)).length);
  });

  it('knows when nothing it holds has changed, and when only the counters have', () => {
    const { items, facetRows } = world(30, 5);
    const before = PublishedIndex.versionsOf(items, facetRows);
    expect(PublishedIndex.versionsOf(items.map((i) => ({ ...i })), facetRows)).toEqual(before);
    const counters = PublishedIndex.versionsOf(items.map((i, n) => (n === 4 ? { ...i, helpful: i.helpful + 1 } : i)), facetRows);
    expect(counters.content).toBe(before.content);
    expect(counters.full).not.toBe(before.full);
    const republished = PublishedIndex.versionsOf(items.map((i, n) => (n === 4 ? { ...i, updatedAt: i.updatedAt + 1000 } : i)), facetRows);
    expect(republished.content).not.toBe(before.content);
    expect(PublishedIndex.versionsOf(items.slice(1), facetRows).content).not.toBe(before.content);
    const retopicked = PublishedIndex.versionsOf(items, { ...facetRows, topic: facetRows.topic.slice(1) });
    expect(retopicked.content).toBe(before.content);
    expect(retopicked.full).not.toBe(before.full);
  });
});

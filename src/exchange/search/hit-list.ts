import type { OrganisationType, Region } from '../../organisations/organisation-kinds';
import type { CareSetting, ExchangeKind, ExchangeSort } from '../exchange-kinds';
import { FACETS, type Facet, type FilterValues } from './search-query';

/**
 * One match of a search, with what filtering, counting and sorting need: the engine's relevance score and the item's
 * facet values and counters. A search's matches are read once (one full-text query) and kept for a short while, so
 * every filter, sort and page of the same words is answered from them.
 */
export interface SearchHit {
  id: number;
  score: number;
  kind: ExchangeKind;
  careSetting: CareSetting | null;
  /** Milliseconds since the epoch. */
  publishedAt: number;
  helpful: number;
  adopted: number;
  topics: readonly number[];
  systems: readonly number[];
  /** The types and regions of its organisations (its own and its partners), each once. */
  organisationTypes: readonly OrganisationType[];
  regions: readonly Region[];
}

const FACET_BIT: Record<Facet, number> = Object.fromEntries(FACETS.map((f, i) => [f, 1 << i])) as Record<Facet, number>;

/** The facets whose filter this hit fails, as bits of FACET_BIT (0: it passes every filter). */
export function failedFilters(hit: SearchHit, f: FilterValues): number {
  let failed = 0;
  if (f.kind !== null && hit.kind !== f.kind) failed |= FACET_BIT.kind;
  if (f.topic !== null && !hit.topics.includes(f.topic)) failed |= FACET_BIT.topic;
  if (f.careSetting !== null && hit.careSetting !== f.careSetting) failed |= FACET_BIT.careSetting;
  if (f.system !== null && !hit.systems.includes(f.system)) failed |= FACET_BIT.system;
  if (f.organisationType !== null && !hit.organisationTypes.includes(f.organisationType)) failed |= FACET_BIT.organisationType;
  if (f.region !== null && !hit.regions.includes(f.region)) failed |= FACET_BIT.region;
  return failed;
}

/** Counts per facet value, keyed by the value's code or id. */
export type FacetCounts = Record<Facet, Map<string | number, number>>;

export const emptyCounts = (): FacetCounts => Object.fromEntries(FACETS.map((f) => [f, new Map()])) as FacetCounts;

const bump = (map: Map<string | number, number>, key: string | number) => map.set(key, (map.get(key) ?? 0) + 1);

/**
 * Each facet's counts over the hits that pass every filter but that facet's own (so a facet shows what choosing
 * another of its values would find), in one pass: a hit failing no filter counts in every facet, one failing just
 * facet F's counts in F alone, one failing two or more in none.
 */
export function countFacets(hits: readonly SearchHit[], filters: FilterValues): FacetCounts {
  const counts = emptyCounts();
  for (const hit of hits) {
    const failed = failedFilters(hit, filters);
    if (failed & (failed - 1)) continue;
    const countsIn = (facet: Facet) => failed === 0 || failed === FACET_BIT[facet];
    if (countsIn('kind')) bump(counts.kind, hit.kind);
    if (countsIn('careSetting') && hit.careSetting) bump(counts.careSetting, hit.careSetting);
    if (countsIn('topic')) for (const t of hit.topics) bump(counts.topic, t);
    if (countsIn('system')) for (const s of hit.systems) bump(counts.system, s);
    if (countsIn('organisationType')) for (const t of hit.organisationTypes) bump(counts.organisationType, t);
    if (countsIn('region')) for (const r of hit.regions) bump(counts.region, r);
  }
  return counts;
}

/** The orders of /exchange, ties broken by the newest first (and the highest id, so every order is total). */
const COMPARE: Record<ExchangeSort, (a: SearchHit, b: SearchHit) => number> = {
  relevance: (a, b) => b.score - a.score || b.publishedAt - a.publishedAt || b.id - a.id,
  newest: (a, b) => b.publishedAt - a.publishedAt || b.id - a.id,
  most_adopted: (a, b) => b.adopted - a.adopted || b.publishedAt - a.publishedAt || b.id - a.id,
  most_helpful: (a, b) => b.helpful - a.helpful || b.publishedAt - a.publishedAt || b.id - a.id,
};

export const sortedHits = (hits: readonly SearchHit[], sort: ExchangeSort): SearchHit[] => [...hits].sort(COMPARE[sort]);

/** The ids on one page of the hits (already in order) that pass every filter, whether more follow, and how many pass. */
export function pageOf(sorted: readonly SearchHit[], filters: FilterValues, page: number, perPage: number): { ids: number[]; hasNext: boolean; total: number } {
  const from = (page - 1) * perPage;
  const ids: number[] = [];
  let total = 0;
  for (const hit of sorted) {
    if (failedFilters(hit, filters) !== 0) continue;
    if (total >= from && total < from + perPage) ids.push(hit.id);
    total++;
  }
  return { ids, hasNext: total > from + perPage, total };
}

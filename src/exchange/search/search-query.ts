import { ORGANISATION_TYPES, REGIONS, type OrganisationType, type Region } from '../../organisations/organisation-kinds';
import { CARE_SETTINGS, EXCHANGE_KINDS, EXCHANGE_SORTS, type CareSetting, type ExchangeKind, type ExchangeSort } from '../exchange-kinds';

/** Items on one page of /exchange and of GET /api/v1/exchange. */
export const EXCHANGE_PAGE_SIZE = 20;

/**
 * A search keeps at most this many of its matches, the best by relevance, to filter, count, sort and page. Broader
 * searches say so (`capped`): counting every one of 50,000 matches of a common word costs the database far more
 * than a search may, and nobody pages past the best 10,000.
 */
export const MAX_SEARCH_HITS = 10_000;

/** The values a facet lists: its most frequent (a selected value is always listed, whatever its count). */
export const FACET_LIMIT = 12;

/** The longest search text taken. */
export const QUERY_MAX_LENGTH = 200;

/** The filters, by their query parameter. Each takes one value (one radio per facet on the page). */
export const FACETS = ['kind', 'topic', 'careSetting', 'system', 'organisationType', 'region'] as const;
export type Facet = (typeof FACETS)[number];

export const FACET_LABELS: Record<Facet, string> = {
  kind: 'Kind',
  topic: 'Topic',
  careSetting: 'Care setting',
  system: 'System or supplier',
  organisationType: 'Organisation type',
  region: 'Region',
};

/** A search as the service runs it: every value checked, topic and system resolved to their ids. */
export interface ExchangeSearch {
  /** The text as typed (trimmed), for showing back. */
  q: string | null;
  /** Its words that both engines index (searchWords); a q with none finds nothing. */
  words: string[];
  kind: ExchangeKind | null;
  topic: { id: number; slug: string; name: string } | null;
  careSetting: CareSetting | null;
  system: { id: number; slug: string; name: string } | null;
  organisationType: OrganisationType | null;
  region: Region | null;
  sort: ExchangeSort;
  page: number;
}

/** The filters of a search as plain values, keyed by facet (the ids of topic and system): what facet counts depend on. */
export interface FilterValues {
  kind: ExchangeKind | null;
  topic: number | null;
  careSetting: CareSetting | null;
  system: number | null;
  organisationType: OrganisationType | null;
  region: Region | null;
}

export const filterValues = (s: ExchangeSearch): FilterValues => ({
  kind: s.kind,
  topic: s.topic?.id ?? null,
  careSetting: s.careSetting,
  system: s.system?.id ?? null,
  organisationType: s.organisationType,
  region: s.region,
});

/** The default sort: relevance when there is something to be relevant to, else the newest first. */
export const defaultSort = (hasSearch: boolean): ExchangeSort => (hasSearch ? 'relevance' : 'newest');

export interface FacetValue {
  /** What goes in the query parameter: a code, or the topic's or system's slug. */
  value: string;
  label: string;
  count: number;
  selected: boolean;
}

export type Facets = Record<Facet, FacetValue[]>;

/** The labels of the facets whose values are fixed lists. */
export const FIXED_FACET_LABELS = {
  kind: EXCHANGE_KINDS as Record<string, string>,
  careSetting: CARE_SETTINGS as Record<string, string>,
  organisationType: ORGANISATION_TYPES as Record<string, string>,
  region: REGIONS as Record<string, string>,
} satisfies Partial<Record<Facet, Record<string, string>>>;

export { EXCHANGE_SORTS };

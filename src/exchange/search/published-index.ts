import { isOrganisationType, isRegion } from '../../organisations/organisation-kinds';
import { isCareSetting, isExchangeKind, type ExchangeSort } from '../exchange-kinds';
import { FACETS, type Facet, type FilterValues } from './search-query';

/** A facet value as the index keys it: a code (kind, care setting, organisation type, region) or an id (topic, system). */
export type FacetKey = string | number;
export type FacetCounts = Record<Facet, Map<FacetKey, number>>;

export interface PublishedRow {
  id: number;
  kind: string;
  careSetting: string | null;
  /** Milliseconds since the epoch. */
  publishedAt: number;
  helpful: number;
  adopted: number;
  /** When its row last changed (milliseconds): a new revision published, say. */
  updatedAt: number;
}

export interface FacetRow {
  itemId: number;
  value: FacetKey;
}

export type FacetRows = Record<MultiFacet, readonly FacetRow[]>;

/** Facets an item has one value of at most, and those it may have several of. */
const SINGLE = ['kind', 'careSetting'] as const;
const MULTI = ['topic', 'system', 'organisationType', 'region'] as const;
type MultiFacet = (typeof MULTI)[number];

/** Bits set, one per item position, 32 to a word. */
type Bits = Uint32Array;

const wordsFor = (size: number) => Math.ceil(size / 32);
const has = (bits: Bits, p: number) => (bits[p >>> 5] & (1 << (p & 31))) !== 0;
const set = (bits: Bits, p: number) => {
  bits[p >>> 5] |= 1 << (p & 31);
};

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** How many bits `a` (null: every item) and `b` have in common. */
function countBoth(a: Bits | null, b: Bits): number {
  let n = 0;
  if (a === null) for (let i = 0; i < b.length; i++) n += popcount(b[i]);
  else for (let i = 0; i < b.length; i++) n += popcount(a[i] & b[i]);
  return n;
}

/** The items in every one of `sets` (null for no sets: every item). */
function intersect(sets: readonly Bits[], size: number): Bits | null {
  if (!sets.length) return null;
  const out = new Uint32Array(wordsFor(size));
  out.set(sets[0]);
  for (let s = 1; s < sets.length; s++) for (let i = 0; i < out.length; i++) out[i] &= sets[s][i];
  return out;
}

const FACET_BIT: Record<Facet, number> = Object.fromEntries(FACETS.map((f, i) => [f, 1 << i])) as Record<Facet, number>;

const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Rows handled between two pauses while an index is built, so requests waiting meanwhile are answered. */
const CHUNK = 10_000;
/** Combinations of filters whose counts one index keeps. */
const COUNTS_KEPT = 1_000;

const VALID: Record<Facet, (v: unknown) => boolean> = {
  kind: isExchangeKind,
  careSetting: isCareSetting,
  topic: (v) => typeof v === 'number' && v > 0,
  system: (v) => typeof v === 'number' && v > 0,
  organisationType: isOrganisationType,
  region: isRegion,
};

/** A search's matches within one index: their positions, best first, and the same as bits. */
export interface MatchSet {
  positions: Int32Array;
  bits: Bits;
}

/**
 * Every published item of the exchange in a compact, columnar form, to filter, count facets, sort and page in memory:
 * a typed array per column, each item's facet values (a code per single-valued facet, a compressed list per
 * multi-valued one), and for each facet value a bitset of the items having it. Built from four reads of narrow
 * indexes (see ExchangeSearchService). Counting a facet for a combination of filters then takes a few thousand word
 * operations however many items there are (or a pass over a search's matches, when there are few), and a page is a
 * walk along a presorted order.
 */
export class PublishedIndex {
  readonly size: number;
  /** Changes when the published items or their text may have: the ids, and the latest change to any of them. */
  readonly contentVersion: string;
  /** Changes when anything the index holds does (counters included). */
  readonly version: string;
  private readonly ids: Int32Array;
  private readonly publishedAt: Float64Array;
  private readonly helpful: Int32Array;
  private readonly adopted: Int32Array;
  /** Each item's position, by id: a table when the ids are dense enough (they are: withdrawn ones leave small gaps), else a map. */
  private readonly positionById: Int32Array | null;
  private readonly positionMap: Map<number, number> | null;
  /** Each facet's values, and their numbers in this index. */
  private readonly values = Object.fromEntries(FACETS.map((f) => [f, [] as FacetKey[]])) as Record<Facet, FacetKey[]>;
  private readonly valueNumbers = Object.fromEntries(FACETS.map((f) => [f, new Map<FacetKey, number>()])) as Record<Facet, Map<FacetKey, number>>;
  /** Per value number, the items having it. */
  private readonly bits = Object.fromEntries(FACETS.map((f) => [f, [] as Bits[]])) as Record<Facet, Bits[]>;
  /** Single-valued facets: each item's value number (-1: none). */
  private readonly single: Record<(typeof SINGLE)[number], Int16Array>;
  /** Multi-valued facets: item p's value numbers are list[offsets[p]] up to list[offsets[p + 1]]. */
  private readonly multi = {} as Record<MultiFacet, { offsets: Int32Array; list: Int32Array }>;
  private readonly orders: Partial<Record<Exclude<ExchangeSort, 'relevance'>, Int32Array>> = {};
  private readonly countsKept = new Map<string, FacetCounts>();

  private constructor(items: readonly PublishedRow[], versions: { content: string; full: string }) {
    const size = items.length;
    this.size = size;
    this.ids = new Int32Array(size);
    this.publishedAt = new Float64Array(size);
    this.helpful = new Int32Array(size);
    this.adopted = new Int32Array(size);
    let maxId = 0;
    for (const row of items) maxId = Math.max(maxId, row.id);
    this.positionById = maxId <= 4 * size + 1_000_000 ? new Int32Array(maxId + 1).fill(-1) : null;
    this.positionMap = this.positionById ? null : new Map();
    this.single = { kind: new Int16Array(size).fill(-1), careSetting: new Int16Array(size).fill(-1) };
    for (let p = 0; p < size; p++) {
      const row = items[p];
      this.ids[p] = row.id;
      this.publishedAt[p] = row.publishedAt;
      this.helpful[p] = row.helpful;
      this.adopted[p] = row.adopted;
      if (this.positionById) this.positionById[row.id] = p;
      else this.positionMap!.set(row.id, p);
    }
    this.contentVersion = versions.content;
    this.version = versions.full;
  }

  /**
   * What an index of these rows would be, in two short strings: `content` changes when the published items or their
   * text may have (an item published, withdrawn, or republished with a new revision, which changes its updatedAt);
   * `full` when anything the index holds does (counters and facet values too). Equal strings: nothing to rebuild.
   */
  static versionsOf(items: readonly PublishedRow[], facetRows: FacetRows): { content: string; full: string } {
    let latest = 0;
    let ids = 0;
    let rest = 0;
    const mix = (h: number, v: number) => (Math.imul(h, 31) + v) | 0;
    for (const row of items) {
      latest = Math.max(latest, row.updatedAt);
      ids = (ids + Math.imul(row.id, 2654435761)) | 0;
      rest = mix(mix(mix(mix(rest, row.id), row.helpful), row.adopted), row.publishedAt % 1_000_000_007);
    }
    for (const facet of MULTI) for (const r of facetRows[facet]) rest = mix(mix(rest, r.itemId), typeof r.value === 'number' ? r.value : r.value.length * 131 + r.value.charCodeAt(0));
    const content = `${items.length}:${ids}:${latest}`;
    return { content, full: `${content}:${rest}` };
  }

  /**
   * Builds the index, pausing every CHUNK rows. Facet rows of items not among `items` (withdrawn items keep theirs)
   * and values a facet does not have are passed over.
   */
  static async build(items: readonly PublishedRow[], facetRows: FacetRows, versions = PublishedIndex.versionsOf(items, facetRows)): Promise<PublishedIndex> {
    const index = new PublishedIndex(items, versions);
    for (let p = 0; p < items.length; p++) {
      for (const facet of SINGLE) {
        const value = facet === 'kind' ? items[p].kind : items[p].careSetting;
        if (VALID[facet](value)) index.single[facet][p] = index.mark(facet, value as string, p);
      }
      if (p % CHUNK === CHUNK - 1) await yieldToRequests();
    }
    for (const facet of MULTI) {
      // Each item's values as one compressed list: counted, then placed (the rows come in any order).
      const rows = facetRows[facet];
      const at = new Int32Array(rows.length).fill(-1);
      const numbers = new Int32Array(rows.length);
      const offsets = new Int32Array(index.size + 1);
      for (let i = 0; i < rows.length; i++) {
        if (i % CHUNK === CHUNK - 1) await yieldToRequests();
        const p = index.positionOf(rows[i].itemId);
        if (p < 0 || !VALID[facet](rows[i].value)) continue;
        const bits = index.bitsOf(facet, rows[i].value);
        if (has(bits.bits, p)) continue;
        set(bits.bits, p);
        at[i] = p;
        numbers[i] = bits.number;
        offsets[p + 1]++;
      }
      for (let p = 0; p < index.size; p++) offsets[p + 1] += offsets[p];
      const list = new Int32Array(offsets[index.size]);
      const next = offsets.slice(0, index.size);
      for (let i = 0; i < rows.length; i++) if (at[i] >= 0) list[next[at[i]]++] = numbers[i];
      index.multi[facet] = { offsets, list };
    }
    return index;
  }

  /** The position of the item with this id, or -1 when it is not in the index. */
  private positionOf(id: number): number {
    if (this.positionById) return id >= 0 && id < this.positionById.length ? this.positionById[id] : -1;
    return this.positionMap!.get(id) ?? -1;
  }

  private bitsOf(facet: Facet, value: FacetKey): { bits: Bits; number: number } {
    let number = this.valueNumbers[facet].get(value);
    if (number === undefined) {
      number = this.values[facet].length;
      this.values[facet].push(value);
      this.valueNumbers[facet].set(value, number);
      this.bits[facet].push(new Uint32Array(wordsFor(this.size)));
    }
    return { bits: this.bits[facet][number], number };
  }

  private mark(facet: Facet, value: FacetKey, p: number): number {
    const { bits, number } = this.bitsOf(facet, value);
    set(bits, p);
    return number;
  }

  /**
   * A search's matches (item ids with the engine's scores, best first: ties already to the newest, then the highest
   * id), as positions in this index; ids not in it (no longer published, or published since it was read) are left out.
   */
  matches(ids: Int32Array): MatchSet {
    const bits = new Uint32Array(wordsFor(this.size));
    const found = new Int32Array(ids.length);
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const p = this.positionOf(ids[i]);
      if (p < 0 || has(bits, p)) continue;
      set(bits, p);
      found[n++] = p;
    }
    return { positions: found.slice(0, n), bits };
  }

  /** The items with this value (a value no item has: none). */
  private itemsWith(facet: Facet, value: FacetKey): Bits {
    const number = this.valueNumbers[facet].get(value);
    return number === undefined ? new Uint32Array(wordsFor(this.size)) : this.bits[facet][number];
  }

  /** The bitsets of the filters given, leaving out `except`'s. */
  private filterSets(filters: FilterValues, except: Facet | null): Bits[] {
    return FACETS.flatMap((facet) => (facet === except || filters[facet] === null ? [] : [this.itemsWith(facet, filters[facet])]));
  }

  /**
   * Each facet's counts over the items (of `within`, when given) passing every filter but that facet's own: what
   * choosing another of its values would find. Kept per `cacheKey` for the life of this index.
   */
  counts(filters: FilterValues, within: MatchSet | null, cacheKey: string): FacetCounts {
    const kept = this.countsKept.get(cacheKey);
    if (kept) return kept;
    const result = within && within.positions.length * 8 < this.size ? this.countSparse(filters, within) : this.countDense(filters, within);
    if (this.countsKept.size >= COUNTS_KEPT) this.countsKept.clear();
    this.countsKept.set(cacheKey, result);
    return result;
  }

  /** By bitsets: for each facet, the items passing the other filters, and each value's share of them. */
  private countDense(filters: FilterValues, within: MatchSet | null): FacetCounts {
    const result = {} as FacetCounts;
    for (const facet of FACETS) {
      const base = intersect([...(within ? [within.bits] : []), ...this.filterSets(filters, facet)], this.size);
      const counts = new Map<FacetKey, number>();
      this.bits[facet].forEach((bits, number) => {
        const n = countBoth(base, bits);
        if (n > 0) counts.set(this.values[facet][number], n);
      });
      result[facet] = counts;
    }
    return result;
  }

  /** By the matches, one at a time: one failing no filter counts in every facet, one failing just F's in F alone. */
  private countSparse(filters: FilterValues, within: MatchSet): FacetCounts {
    // Everything the loop reads, in locals and plain arrays: it runs once per match.
    const activeBits: Bits[] = [];
    const activeMask: number[] = [];
    for (const f of FACETS) {
      const value = filters[f];
      if (value === null) continue;
      activeBits.push(this.itemsWith(f, value));
      activeMask.push(FACET_BIT[f]);
    }
    const tallies = Object.fromEntries(FACETS.map((f) => [f, new Int32Array(this.values[f].length)])) as Record<Facet, Int32Array>;
    const kinds = this.single.kind;
    const cares = this.single.careSetting;
    const kindTally = tallies.kind;
    const careTally = tallies.careSetting;
    const KIND = FACET_BIT.kind;
    const CARE = FACET_BIT.careSetting;
    const multi = MULTI.map((f) => ({ bit: FACET_BIT[f], offsets: this.multi[f].offsets, list: this.multi[f].list, tally: tallies[f] }));
    const positions = within.positions;
    for (let i = 0; i < positions.length; i++) {
      const p = positions[i];
      let failed = 0;
      for (let a = 0; a < activeBits.length; a++) if ((activeBits[a][p >>> 5] & (1 << (p & 31))) === 0) failed |= activeMask[a];
      if (failed & (failed - 1)) continue;
      if (failed === 0 || failed === KIND) {
        const n = kinds[p];
        if (n >= 0) kindTally[n]++;
      }
      if (failed === 0 || failed === CARE) {
        const n = cares[p];
        if (n >= 0) careTally[n]++;
      }
      for (let m = 0; m < multi.length; m++) {
        const facet = multi[m];
        if (failed !== 0 && failed !== facet.bit) continue;
        const end = facet.offsets[p + 1];
        for (let k = facet.offsets[p]; k < end; k++) facet.tally[facet.list[k]]++;
      }
    }
    const result = {} as FacetCounts;
    for (const facet of FACETS) {
      const counts = new Map<FacetKey, number>();
      tallies[facet].forEach((n, number) => {
        if (n > 0) counts.set(this.values[facet][number], n);
      });
      result[facet] = counts;
    }
    return result;
  }

  /** The ids on one page, in the order asked for, of the items (of `within`) passing every filter; whether more follow; how many pass. */
  page(filters: FilterValues, within: MatchSet | null, sort: ExchangeSort, page: number, perPage: number): { ids: number[]; hasNext: boolean; total: number } {
    const passing = intersect([...(within ? [within.bits] : []), ...this.filterSets(filters, null)], this.size);
    const total = passing === null ? this.size : countBoth(null, passing);
    const order = sort === 'relevance' && within ? within.positions : this.order(sort === 'relevance' ? 'newest' : sort);
    const from = (page - 1) * perPage;
    const ids: number[] = [];
    let seen = 0;
    for (let i = 0; i < order.length && seen < total; i++) {
      const p = order[i];
      if (passing !== null && !has(passing, p)) continue;
      if (seen >= from + perPage) return { ids, hasNext: true, total };
      if (seen >= from) ids.push(this.ids[p]);
      seen++;
    }
    return { ids, hasNext: false, total };
  }

  /** All positions in one order (sorted when first asked for), ties to the newest, then the highest id. */
  private order(sort: Exclude<ExchangeSort, 'relevance'>): Int32Array {
    let order = this.orders[sort];
    if (!order) {
      const { publishedAt: at, ids, helpful, adopted } = this;
      const newest = (a: number, b: number) => at[b] - at[a] || ids[b] - ids[a];
      const compare = sort === 'most_adopted' ? (a: number, b: number) => adopted[b] - adopted[a] || newest(a, b) : sort === 'most_helpful' ? (a: number, b: number) => helpful[b] - helpful[a] || newest(a, b) : newest;
      order = Int32Array.from({ length: this.size }, (_, i) => i).sort(compare);
      this.orders[sort] = order;
    }
    return order;
  }
}

import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { isSqlite } from '../database/sqlite-gate';

/**
 * Full-text search run by the database engine, the same way on both: InnoDB FULLTEXT in boolean mode on MySQL, FTS5 on
 * SQLite. Each searchable table has a FULLTEXT index on MySQL and, on SQLite, an external-content FTS5 table named
 * `{table}_fts` over the same columns, kept in step by triggers (see migrations/1765200000000-peer-exchange.ts).
 *
 * A search is its words (letters and digits), every one required, each matching as a prefix ("adopt" finds "adopted").
 * Words InnoDB does not index (its stopwords, and words shorter than its minimum token size of 3) are left out on both
 * engines, so the two find the same things.
 */
export interface FullTextTarget {
  /** The table's alias in the query. */
  alias: string;
  /** The table, whose `{table}_fts` is its FTS5 index on SQLite. */
  table: string;
  /** The indexed columns, in the FULLTEXT index's order (MySQL needs exactly that list in MATCH). */
  columns: readonly string[];
}

/** InnoDB's default stopword list (INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD). */
const INNODB_STOPWORDS = new Set(
  'a about an are as at be by com de en for from how i in is it la of on or that the this to was what when where who will with und www'.split(' '),
);
const MIN_WORD_LENGTH = 3;
const MAX_WORDS = 12;

/** The words of a search that both engines index, lower-cased, at most MAX_WORDS; empty means "no search". */
export function searchWords(input: string | null | undefined): string[] {
  if (!input) return [];
  const words = input.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const kept = words.filter((word) => [...word].length >= MIN_WORD_LENGTH && !INNODB_STOPWORDS.has(word));
  return [...new Set(kept)].slice(0, MAX_WORDS);
}

export type FullTextDialect = 'mysql' | 'sqlite';

export const fullTextDialect = (qb: SelectQueryBuilder<ObjectLiteral>): FullTextDialect => (isSqlite(qb.connection) ? 'sqlite' : 'mysql');

/** The engine's query string: `+word*` terms for InnoDB boolean mode, `"word"*` phrases (all required) for FTS5. */
export function matchExpression(dialect: FullTextDialect, words: readonly string[]): string {
  return dialect === 'mysql' ? words.map((w) => `+${w}*`).join(' ') : words.map((w) => `"${w}"*`).join(' ');
}

/**
 * Narrows `qb` to rows matching every word and returns the SQL of a relevance score, higher is better, to select or
 * order by (`qb.addOrderBy(score, 'DESC')`). The caller checks `searchWords(...)` is not empty first.
 */
export function whereFullTextMatches<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, target: FullTextTarget, words: readonly string[], parameter = 'fullText'): string {
  const dialect = fullTextDialect(qb);
  const expression = matchExpression(dialect, words);
  if (dialect === 'mysql') {
    const match = `MATCH(${target.columns.map((c) => `${target.alias}.${c}`).join(', ')}) AGAINST (:${parameter} IN BOOLEAN MODE)`;
    qb.andWhere(match, { [parameter]: expression });
    return match;
  }
  // FTS5 takes MATCH on the table's own name, not an alias: the join is aliased as the table itself.
  const fts = `${target.table}_fts`;
  qb.innerJoin(fts, fts, `${fts}.rowid = ${target.alias}.id`).andWhere(`${fts} MATCH :${parameter}`, { [parameter]: expression });
  // FTS5's rank is bm25(), lower for a better match: negated so both engines sort it descending.
  return `(-${fts}.rank)`;
}

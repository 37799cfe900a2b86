import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, DataSource, EntityManager, In, Repository, SelectQueryBuilder } from 'typeorm';
import { Clock } from '../common/clock';
import { ValidationFailed } from '../common/errors';
import type { OrganisationOption } from '../common/organisation-joining';
import { TtlCache } from '../common/ttl-cache';
import { isSqlite } from '../database/sqlite-gate';
import { UnitOfWork } from '../database/unit-of-work';
import { Organisation, organisationNameKey, tidyOrganisationName } from './entities/organisation.entity';
import { isOrganisationType, isRegion, normaliseOdsCode, ORGANISATION_TYPES, REGIONS, type OrganisationType, type Region } from './organisation-kinds';

/** The most a search answers with (the API and the picker's radios). */
export const SEARCH_LIMIT = 20;
/** Shorter text than this is not searched: every organisation would match. */
export const SEARCH_MIN_LENGTH = 2;
/** Words of a query that are matched (the rest are ignored). */
const MAX_WORDS = 6;

export const DECLINED_ORGANISATION_MESSAGE = 'An organisation with this name was not approved. Choose your organisation from the list, or contact the academy';

export function organisationOption(o: Pick<Organisation, 'id' | 'name' | 'type' | 'region' | 'odsCode'>): OrganisationOption {
  return {
    id: o.id,
    name: o.name,
    type: o.type,
    typeLabel: ORGANISATION_TYPES[o.type] ?? ORGANISATION_TYPES.other,
    region: o.region,
    regionLabel: o.region ? (REGIONS[o.region] ?? null) : null,
    odsCode: o.odsCode,
  };
}

/** Text that may be an ODS code, for an equality lookup; a word that is no stored code simply finds nothing. */
const odsCandidate = normaliseOdsCode;

/** '!' escapes LIKE's wildcards: a backslash would mean different things to MySQL and SQLite. */
const likeEscape = (text: string) => text.replace(/[!%_]/g, (m) => `!${m}`);

/**
 * The active organisations people can choose, found by name (the start of the name, or the start of any of its
 * words), by ODS code, or by id; and organisations asked for at sign-up. Searches are limited and read the
 * (status, name_key) index: a name's start is a range on it, so the common case (typing the name from its
 * beginning) never reads more rows than it answers with; matching later words reads that index (not the table)
 * and only when the names starting with the text do not fill the answer.
 */
@Injectable()
export class OrganisationDirectory {
  private readonly sqlite: boolean;
  /** The public search, a few seconds stale at most: the same prefix is typed by many people. */
  private readonly searches: TtlCache<OrganisationOption[]>;

  constructor(
    @InjectRepository(Organisation) private readonly organisations: Repository<Organisation>,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    dataSource: DataSource,
  ) {
    this.sqlite = isSqlite(dataSource);
    this.searches = new TtlCache(5_000, 2_000, () => this.clock.now().getTime());
  }

  /** The public search (GET /api/v1/organisations), answered from a short-lived cache. */
  searchCached(text: string, limit = SEARCH_LIMIT): Promise<OrganisationOption[]> {
    const key = `${Math.min(limit, SEARCH_LIMIT)}:${organisationNameKey(text)}`;
    return this.searches.remember(key, () => this.search(text, limit));
  }

  /**
   * Active organisations matching the text, best first: the one with that ODS code, those whose name starts with
   * it (alphabetically), then those with a word starting with each word of it. At most `limit`.
   */
  async search(text: string, limit = SEARCH_LIMIT): Promise<OrganisationOption[]> {
    const key = organisationNameKey(text).slice(0, 150);
    limit = Math.max(1, Math.min(limit, SEARCH_LIMIT));
    if (key.length < SEARCH_MIN_LENGTH) return [];
    const found: Organisation[] = [];
    const ods = odsCandidate(text);
    if (ods) {
      const byCode = await this.activeQuery().andWhere('o.odsCode = :ods', { ods }).getOne();
      if (byCode) found.push(byCode);
    }
    const starting = await this.startsWith(this.activeQuery(), key).orderBy('o.nameKey').limit(limit).getMany();
    for (const o of starting) if (!found.some((f) => f.id === o.id)) found.push(o);
    if (found.length < limit) {
      const words = key.split(' ').slice(0, MAX_WORDS);
      const query = this.activeQuery();
      words.forEach((word, i) => {
        const w = likeEscape(word);
        query.andWhere(new Brackets((b) => b.where(`o.nameKey LIKE :s${i} ESCAPE '!'`, { [`s${i}`]: `${w}%` }).orWhere(`o.nameKey LIKE :m${i} ESCAPE '!'`, { [`m${i}`]: `% ${w}%` })));
      });
      const seen = found.map((f) => f.id);
      if (seen.length) query.andWhere('o.id NOT IN (:...seen)', { seen });
      found.push(...(await query.orderBy('o.nameKey').limit(limit - found.length).getMany()));
    }
    return found.slice(0, limit).map(organisationOption);
  }

  /** The active organisation with this id, or null (unknown, requested, declined or merged). */
  async findActive(id: number): Promise<OrganisationOption | null> {
    if (!Number.isSafeInteger(id) || id < 1) return null;
    const row = await this.activeQuery().andWhere('o.id = :id', { id }).getOne();
    return row ? organisationOption(row) : null;
  }

  /** Organisations by id, whatever their status (for naming them on things they shared); unknown ids are left out. */
  async describe(ids: readonly number[]): Promise<Map<number, OrganisationOption>> {
    const wanted = [...new Set(ids.filter((id) => Number.isSafeInteger(id) && id > 0))];
    if (!wanted.length) return new Map();
    const rows = await this.organisations.find({ where: { id: In(wanted) }, select: { id: true, name: true, type: true, region: true, odsCode: true } });
    return new Map(rows.map((o) => [o.id, organisationOption(o)]));
  }

  /** Whether the organisation can be joined (it is active), read in the caller's transaction. */
  async isActive(tx: EntityManager, id: number): Promise<boolean> {
    return Number.isSafeInteger(id) && id > 0 && (await tx.getRepository(Organisation).exists({ where: { id, status: 'active' } }));
  }

  /** Active organisations whose name (whatever the case and spacing) or ODS code is exactly the text. */
  async exactMatches(text: string): Promise<OrganisationOption[]> {
    const key = organisationNameKey(text);
    const ods = odsCandidate(text);
    const query = this.activeQuery().andWhere(new Brackets((b) => (ods ? b.where('o.nameKey = :key', { key }).orWhere('o.odsCode = :ods', { ods }) : b.where('o.nameKey = :key', { key }))));
    return (await query.orderBy('o.nameKey').getMany()).map(organisationOption);
  }

  /**
   * The organisation a name means for an account that could not choose from a list (the API, tests): the active one
   * of that name or ODS code, else a request for one of that name.
   */
  async named(tx: EntityManager, name: string, requestedById: number): Promise<number> {
    const exact = await this.exactMatchesIn(tx, name);
    if (exact.length === 1) return exact[0].id;
    return this.request(tx, { name, type: null, region: null }, requestedById);
  }

  /**
   * Asks for a new organisation (`requested`, for an administrator to approve), inside the caller's transaction; the
   * one of that name is reused when it exists (active, or asked for by someone else). A merged one leads to the one
   * it was merged into; a declined name is refused.
   */
  async request(tx: EntityManager, input: { name: string; type: string | null; region: string | null }, requestedById: number): Promise<number> {
    const name = tidyOrganisationName(input.name);
    const nameKey = organisationNameKey(name);
    const errors: Record<string, string> = {};
    if (input.type && !isOrganisationType(input.type)) errors.organisationType = 'Choose the type of organisation from the list';
    if (input.region && !isRegion(input.region)) errors.organisationRegion = 'Choose the region from the list';
    if (Object.keys(errors).length) throw new ValidationFailed(errors);
    const repository = tx.getRepository(Organisation);
    // Locked (a gap lock when there is none yet, on MySQL), so two people asking for one name at once make one row.
    const existing = await this.uow.lockForUpdate(tx, Organisation, { nameKey });
    if (existing) {
      if (existing.status === 'active' || existing.status === 'requested') return existing.id;
      if (existing.status === 'merged' && existing.mergedIntoId) {
        const into = await repository.findOne({ where: { id: existing.mergedIntoId }, select: { id: true, status: true } });
        if (into && (into.status === 'active' || into.status === 'requested')) return into.id;
      }
      throw new ValidationFailed({ organisation: DECLINED_ORGANISATION_MESSAGE });
    }
    const result = await repository.insert({
      name,
      nameKey,
      type: (input.type as OrganisationType | null) ?? 'other',
      region: (input.region as Region | null) ?? null,
      odsCode: null,
      status: 'requested',
      mergedIntoId: null,
      requestedById,
      createdAt: this.clock.now(),
    });
    return Number(result.identifiers[0].id);
  }

  typeOptions(selected?: string) {
    return Object.entries(ORGANISATION_TYPES).map(([value, text]) => ({ value, text, selected: value === selected }));
  }

  regionOptions(selected?: string) {
    return Object.entries(REGIONS).map(([value, text]) => ({ value, text, selected: value === selected }));
  }

  private async exactMatchesIn(tx: EntityManager, text: string): Promise<Array<{ id: number }>> {
    const key = organisationNameKey(text);
    const ods = odsCandidate(text);
    const query = tx
      .getRepository(Organisation)
      .createQueryBuilder('o')
      .select(['o.id'])
      .where('o.status = :active', { active: 'active' })
      .andWhere(new Brackets((b) => (ods ? b.where('o.nameKey = :key', { key }).orWhere('o.odsCode = :ods', { ods }) : b.where('o.nameKey = :key', { key }))));
    return query.getMany();
  }

  private activeQuery(): SelectQueryBuilder<Organisation> {
    return this.organisations.createQueryBuilder('o').select(['o.id', 'o.name', 'o.nameKey', 'o.type', 'o.region', 'o.odsCode']).where('o.status = :active', { active: 'active' });
  }

  /**
   * Names starting with the key, as a range on the (status, name_key) index. MySQL uses the index for LIKE 'x%'; SQLite
   * only under a case-insensitive collation, so there it is the same range written out: name_key is lower case and
   * compared byte by byte (UTF-8 byte order is code point order), from the key up to the key with its last
   * character's successor.
   */
  private startsWith(query: SelectQueryBuilder<Organisation>, key: string): SelectQueryBuilder<Organisation> {
    if (!this.sqlite) return query.andWhere(`o.nameKey LIKE :prefix ESCAPE '!'`, { prefix: `${likeEscape(key)}%` });
    const chars = [...key];
    const last = chars.pop()!.codePointAt(0)!;
    const upper = chars.join('') + String.fromCodePoint(last + 1);
    return query.andWhere('o.nameKey >= :lower AND o.nameKey < :upper', { lower: key, upper });
  }
}

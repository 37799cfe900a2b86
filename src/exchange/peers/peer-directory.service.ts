import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, DataSource, In, Repository, SelectQueryBuilder } from 'typeorm';
import { MembershipsService } from '../../organisations/memberships.service';
import { ORGANISATION_TYPES, REGIONS, type OrganisationType, type Region } from '../../organisations/organisation-kinds';
import { PeerProfile, PeerProfileSystem, PeerProfileTopic } from '../entities/peer.entities';
import { ExchangeVocabulary, type SystemOption } from '../exchange-vocabulary';

/** Profiles a page of /peers (and of the API) shows. */
export const PEERS_PAGE_SIZE = 20;
/** Words of a name search that are matched (the rest are ignored). */
const MAX_WORDS = 6;

export const NO_MEMBERSHIP_MESSAGE =
  'Only members of an organisation can list a peer profile or contact other peers. Join your organisation (or wait for its managers to accept you) on Your organisations, then come back.';

/** An organisation a person is an active member of, as peers see it. */
export interface PeerOrganisation {
  id: number;
  name: string;
  type: OrganisationType;
  typeLabel: string;
  region: Region | null;
  regionLabel: string | null;
}

/** A listed profile with everything /peers shows of it (never an e-mail address). */
export interface PeerCard {
  userId: number;
  name: string;
  jobRole: string;
  organisations: PeerOrganisation[];
  bio: string;
  systems: SystemOption[];
  topics: Array<{ id: number; slug: string; name: string }>;
  openToContact: boolean;
}

export interface PeerFilters {
  system?: string;
  topic?: string;
  region?: string;
  organisationType?: string;
  q?: string;
  page?: number;
}

export interface PeerPage {
  items: PeerCard[];
  total: number;
  page: number;
  pages: number;
}

/** The account facts the relay shows of a person (name, job role, organisations), their address for its own use only. */
export interface PeerPerson {
  userId: number;
  name: string;
  email: string;
  jobRole: string;
  deactivated: boolean;
  organisations: PeerOrganisation[];
}

/** '!' escapes LIKE's wildcards: a backslash would mean different things to MySQL and SQLite. */
const likeEscape = (text: string) => text.replace(/[!%_]/g, (m) => `!${m}`);

/** "NHS trust, North East and Yorkshire" style labels on an organisation row read by table name. */
function peerOrganisation(row: { id: unknown; name: unknown; type: unknown; region: unknown }): PeerOrganisation {
  const type = String(row.type) as OrganisationType;
  const region = row.region ? (String(row.region) as Region) : null;
  return { id: Number(row.id), name: String(row.name), type, typeLabel: ORGANISATION_TYPES[type] ?? ORGANISATION_TYPES.other, region, regionLabel: region ? (REGIONS[region] ?? null) : null };
}

/** The active-membership condition on a person (`alias`.user_id), for an EXISTS: an active member of a live organisation. */
const ACTIVE_MEMBER = (userColumn: string, extra = '') =>
  `EXISTS (SELECT 1 FROM organisation_memberships pm INNER JOIN organisations po ON po.id = pm.organisation_id WHERE pm.user_id = ${userColumn} AND pm.status = 'active' AND po.status = 'active'${extra})`;

/**
 * Who peers are: listed profiles of people who are active members of an organisation (and whose account is not
 * deactivated), found by the systems they have worked with, the topics they can help with, and the region and type
 * of their organisations. Name and job role come from the account, organisations from active memberships; the
 * accounts and organisations tables are read by name (their modules own them). A page costs five queries whatever
 * its size: the page, its count, and its people's systems, topics and organisations.
 */
@Injectable()
export class PeerDirectory {
  constructor(
    private readonly dataSource: DataSource,
    @InjectRepository(PeerProfile) private readonly profiles: Repository<PeerProfile>,
    @InjectRepository(PeerProfileSystem) private readonly profileSystems: Repository<PeerProfileSystem>,
    @InjectRepository(PeerProfileTopic) private readonly profileTopics: Repository<PeerProfileTopic>,
    private readonly vocabulary: ExchangeVocabulary,
    private readonly memberships: MembershipsService,
  ) {}

  /** Whether the person is an active member of a live organisation: what listing a profile and contacting need. */
  async hasActiveMembership(userId: number): Promise<boolean> {
    return (await this.memberships.membershipsOf(userId)).some((m) => m.status === 'active' && m.organisationStatus === 'active');
  }

  /** One page of listed profiles matching the filters, most recently updated first. Unknown slugs match nobody. */
  async search(filters: PeerFilters): Promise<PeerPage> {
    const page = Math.max(1, filters.page ?? 1);
    const query = await this.filtered(filters);
    if (!query) return { items: [], total: 0, page, pages: 1 };
    const counted = await query.clone().select('COUNT(*)', 'n').getRawOne<{ n: unknown }>();
    const total = Number(counted?.n ?? 0);
    const rows = await query
      .select('p.user_id', 'userId')
      .orderBy('p.updated_at', 'DESC')
      .addOrderBy('p.id', 'DESC')
      .offset((page - 1) * PEERS_PAGE_SIZE)
      .limit(PEERS_PAGE_SIZE)
      .getRawMany<{ userId: unknown }>();
    const items = await this.cards(rows.map((r) => Number(r.userId)));
    return { items, total, page, pages: Math.max(1, Math.ceil(total / PEERS_PAGE_SIZE)) };
  }

  /** A listed profile by its person's id, or null (unknown, not listed, no active membership, deactivated). */
  async listed(userId: number): Promise<(PeerCard & { updatedAt: Date }) | null> {
    if (!Number.isSafeInteger(userId) || userId < 1) return null;
    const profile = await this.profiles.findOne({ where: { userId, listed: true }, select: { id: true, userId: true, updatedAt: true } });
    if (!profile) return null;
    const visible = await this.base().andWhere('p.user_id = :userId', { userId }).select('p.user_id', 'userId').getRawOne();
    if (!visible) return null;
    const [card] = await this.cards([userId]);
    return card ? { ...card, updatedAt: profile.updatedAt } : null;
  }

  /** The account facts of people (for the relay's pages and e-mails); unknown ids are left out. Two queries. */
  async people(userIds: readonly number[]): Promise<Map<number, PeerPerson>> {
    const ids = [...new Set(userIds)].filter((id) => Number.isSafeInteger(id) && id > 0);
    if (!ids.length) return new Map();
    const [accounts, organisations] = await Promise.all([
      this.dataSource
        .createQueryBuilder()
        .from('users', 'u')
        .select('u.id', 'id')
        .addSelect('u.name', 'name')
        .addSelect('u.email', 'email')
        .addSelect('u.job_role', 'jobRole')
        .addSelect('u.deactivated_at', 'deactivatedAt')
        .where('u.id IN (:...ids)', { ids })
        .getRawMany<{ id: unknown; name: string; email: string; jobRole: string | null; deactivatedAt: unknown }>(),
      this.activeOrganisations(ids),
    ]);
    return new Map(
      accounts.map((a) => {
        const id = Number(a.id);
        return [id, { userId: id, name: a.name, email: a.email, jobRole: a.jobRole ?? '', deactivated: a.deactivatedAt !== null && a.deactivatedAt !== undefined, organisations: organisations.get(id) ?? [] }];
      }),
    );
  }

  /** The person's profile row, listed or not (their own page, the relay's checks). */
  profileOf(userId: number): Promise<PeerProfile | null> {
    return this.profiles.findOne({ where: { userId } });
  }

  /** The active organisations of each person, by name (one query). */
  async activeOrganisations(userIds: readonly number[]): Promise<Map<number, PeerOrganisation[]>> {
    const result = new Map<number, PeerOrganisation[]>();
    if (!userIds.length) return result;
    const rows = await this.dataSource
      .createQueryBuilder()
      .from('organisation_memberships', 'm')
      .innerJoin('organisations', 'o', 'o.id = m.organisation_id')
      .select('m.user_id', 'userId')
      .addSelect('o.id', 'id')
      .addSelect('o.name', 'name')
      .addSelect('o.type', 'type')
      .addSelect('o.region', 'region')
      .where('m.user_id IN (:...userIds)', { userIds: [...userIds] })
      .andWhere("m.status = 'active' AND o.status = 'active'")
      .orderBy('o.name_key', 'ASC')
      .getRawMany<{ userId: unknown; id: unknown; name: unknown; type: unknown; region: unknown }>();
    for (const row of rows) {
      const userId = Number(row.userId);
      result.set(userId, [...(result.get(userId) ?? []), peerOrganisation(row)]);
    }
    return result;
  }

  /** The cards of these people, in the order given: one query each for accounts, systems, topics and organisations. */
  private async cards(userIds: number[]): Promise<PeerCard[]> {
    if (!userIds.length) return [];
    const [rows, systemRows, topicRows, organisations, topics] = await Promise.all([
      this.dataSource
        .createQueryBuilder()
        .from('peer_profiles', 'p')
        .innerJoin('users', 'u', 'u.id = p.user_id')
        .select('p.user_id', 'userId')
        .addSelect('p.bio', 'bio')
        .addSelect('p.open_to_contact', 'openToContact')
        .addSelect('u.name', 'name')
        .addSelect('u.job_role', 'jobRole')
        .where('p.user_id IN (:...userIds)', { userIds })
        .getRawMany<{ userId: unknown; bio: string; openToContact: unknown; name: string; jobRole: string | null }>(),
      this.profileSystems
        .createQueryBuilder('ps')
        .innerJoin('exchange_systems', 's', 's.id = ps.system_id')
        .select('ps.user_id', 'userId')
        .addSelect('s.id', 'id')
        .where('ps.user_id IN (:...userIds)', { userIds })
        .orderBy('s.name', 'ASC')
        .addOrderBy('s.supplier', 'ASC')
        .getRawMany<{ userId: unknown; id: unknown }>(),
      this.profileTopics.find({ where: { userId: In(userIds) }, select: { userId: true, topicId: true } }),
      this.activeOrganisations(userIds),
      this.vocabulary.topics(),
    ]);
    const systems = await this.vocabulary.systemsById(systemRows.map((r) => Number(r.id)));
    const systemsOf = new Map<number, SystemOption[]>();
    for (const row of systemRows) {
      const system = systems.get(Number(row.id));
      if (system) systemsOf.set(Number(row.userId), [...(systemsOf.get(Number(row.userId)) ?? []), system]);
    }
    const topicIdsOf = new Map<number, Set<number>>();
    for (const row of topicRows) topicIdsOf.set(row.userId, (topicIdsOf.get(row.userId) ?? new Set()).add(row.topicId));
    const byUser = new Map(rows.map((r) => [Number(r.userId), r]));
    return userIds.flatMap((userId) => {
      const row = byUser.get(userId);
      if (!row) return [];
      const mine = topicIdsOf.get(userId) ?? new Set<number>();
      return [
        {
          userId,
          name: row.name,
          jobRole: row.jobRole ?? '',
          organisations: organisations.get(userId) ?? [],
          bio: row.bio ?? '',
          systems: systemsOf.get(userId) ?? [],
          topics: topics.filter((t) => mine.has(t.id)),
          openToContact: !!Number(row.openToContact),
        },
      ];
    });
  }

  /** Listed profiles of live accounts that are active members of a live organisation. */
  private base(): SelectQueryBuilder<object> {
    return this.dataSource
      .createQueryBuilder()
      .from('peer_profiles', 'p')
      .innerJoin('users', 'u', 'u.id = p.user_id AND u.deactivated_at IS NULL')
      .where('p.listed = :listed', { listed: true })
      .andWhere(ACTIVE_MEMBER('p.user_id'));
  }

  /** The base with the filters; null when a slug names nothing (so nobody matches). */
  private async filtered(filters: PeerFilters): Promise<SelectQueryBuilder<object> | null> {
    const query = this.base();
    if (filters.system) {
      const system = await this.vocabulary.systemBySlug(filters.system);
      if (!system) return null;
      query.innerJoin('peer_profile_systems', 'fs', 'fs.user_id = p.user_id AND fs.system_id = :systemId', { systemId: system.id });
    }
    if (filters.topic) {
      const topic = (await this.vocabulary.topics()).find((t) => t.slug === filters.topic);
      if (!topic) return null;
      query.innerJoin('peer_profile_topics', 'ft', 'ft.user_id = p.user_id AND ft.topic_id = :topicId', { topicId: topic.id });
    }
    if (filters.region || filters.organisationType) {
      const extra = `${filters.region ? ' AND po.region = :region' : ''}${filters.organisationType ? ' AND po.type = :organisationType' : ''}`;
      query.andWhere(ACTIVE_MEMBER('p.user_id', extra), { region: filters.region, organisationType: filters.organisationType });
    }
    const words = (filters.q ?? '')
      .trim()
      .toLowerCase()
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, MAX_WORDS);
    words.forEach((word, i) => {
      const w = likeEscape(word);
      const start = `w${i}s`;
      const inner = `w${i}m`;
      query.andWhere(
        new Brackets((b) =>
          b
            .where(`u.name LIKE :${start} ESCAPE '!'`)
            .orWhere(`u.name LIKE :${inner} ESCAPE '!'`)
            .orWhere(ACTIVE_MEMBER('p.user_id', ` AND (po.name_key LIKE :${start} ESCAPE '!' OR po.name_key LIKE :${inner} ESCAPE '!')`)),
        ),
        { [start]: `${w}%`, [inner]: `% ${w}%` },
      );
    });
    return query;
  }
}

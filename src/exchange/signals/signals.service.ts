import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import type { CurrentUser } from '../../accounts/identity';
import { Clock } from '../../common/clock';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../../common/errors';
import { londonFields } from '../../common/london-time';
import { renderMarkdown } from '../../common/markdown';
import { isUniqueViolation } from '../../database/errors';
import { UnitOfWork } from '../../database/unit-of-work';
import { MembershipsService } from '../../organisations/memberships.service';
import { ORGANISATION_TYPES, REGIONS, type OrganisationType, type Region } from '../../organisations/organisation-kinds';
import { ExchangeAccess } from '../contributions/exchange-access';
import { ExchangeFile } from '../entities/exchange-file.entity';
import { ExchangeItem } from '../entities/exchange-item.entity';
import { ExchangeAdoption, ExchangeHelpfulVote, ExchangeSave } from '../entities/exchange-signals.entity';
import { EXCHANGE_KINDS, type ExchangeKind } from '../exchange-kinds';
import { ADOPTION_NOTE_MAX_LENGTH, CHOOSE_ORGANISATION, NOTE_TOO_LONG } from './signals.dto';

/** The same words (and the same 404) as the item page gives for an unknown slug or an item its viewer may not see. */
export const NO_SUCH_ITEM = 'There is no case study, tool or hack at this address';
export const NOT_A_MEMBER =
  'Only members of an organisation can record that it adopted this. Ask to join your organisation on Your organisations; once it has accepted you, come back here.';
export const NOT_YOUR_ORGANISATION = 'You can record or withdraw an adoption only for an organisation you are an active member of.';
export const OWN_ORGANISATION = 'Your organisation shared this, so it cannot adopt it: an adoption records another organisation taking it up.';
export const OWN_ITEM_HELPFUL = 'This is your own contribution, so you cannot mark it helpful.';
export const NOT_A_MEMBER_CODE = 'not_a_member';

/** Adoptions the item page shows under "Adopted by" (newest first), with a link to all of them. */
export const PANEL_ADOPTIONS = 5;
/** Rows per page of "My saved" and of an item's adoptions. */
export const SAVED_PER_PAGE = 20;
export const ADOPTIONS_PER_PAGE = 20;
/** The most months the usage page's chart shows (the latest ones). */
export const USAGE_CHART_MONTHS = 24;

export interface SignalCounts {
  helpful: number;
  saves: number;
  adoptions: number;
  downloads: number;
}

export interface AdoptionView {
  organisationId: number;
  organisationName: string;
  note: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One organisation that adopted an item, as its pages show it. */
export interface AdopterView extends AdoptionView {
  organisationType: OrganisationType;
  typeLabel: string;
  region: Region | null;
  regionLabel: string | null;
  noteHtml: string | null;
}

/** An organisation the person may record an adoption for, and its adoption of this item if it has one. */
export interface AdoptingOrganisation {
  id: number;
  name: string;
  adoption: { note: string | null; createdAt: Date } | null;
}

export type AdoptionOutcome = 'created' | 'updated' | 'unchanged';

/** What the item page's signals panel shows (views/partials/exchange/signals-panel.hbs). */
export interface SignalsPanel {
  slug: string;
  counts: SignalCounts;
  /** The counts in words: "3 people found this helpful". */
  countTexts: { helpful: string; saves: string; adoptions: string; downloads: string | null };
  signedIn: boolean;
  signInHref: string;
  notice: string | null;
  viewer: {
    helpful: boolean;
    saved: boolean;
    /** False for the author (one does not vote for one's own). */
    mayMarkHelpful: boolean;
    /** The viewer's organisations that adopted it (active memberships), with their notes. */
    adoptedBy: Array<{ organisationId: number; organisationName: string; changeHref: string }>;
    /** Whether the viewer has an organisation that could still record an adoption. */
    mayAdopt: boolean;
    isMember: boolean;
    usageHref: string | null;
  } | null;
  adopters: AdopterView[];
  moreAdopters: boolean;
  allAdoptersHref: string;
  adoptionHref: string;
  savedHref: string;
}

export interface SavedCard {
  slug: string;
  kind: ExchangeKind;
  kindLabel: string;
  title: string;
  summary: string;
  organisationName: string;
  publishedAt: Date | null;
  savedAt: Date;
  counts: SignalCounts;
}

export interface Paged<T> {
  items: T[];
  total: number;
  page: number;
  pages: number;
}

export interface UsageReport {
  item: ExchangeItem;
  counts: SignalCounts;
  toolVersions: Array<{ version: number | null; fileName: string; uploadedAt: Date; downloads: number }>;
  attachments: Array<{ fileName: string; uploadedAt: Date; downloads: number }>;
  adopters: AdopterView[];
  months: Array<{ key: string; label: string; adoptions: number }>;
  /** Adoptions before the chart's first month (when the item is older than USAGE_CHART_MONTHS). */
  adoptionsBeforeChart: number;
}

/** The success banners a redirect after a signal asks for (`?signal=…`). */
export const SIGNAL_NOTICES: Record<string, string> = {
  helpful: 'You marked this as helpful. Thank you: it helps others find what works.',
  unhelpful: 'You no longer mark this as helpful.',
  saved: 'Saved. You can find it again in My saved.',
  unsaved: 'Removed from My saved.',
  adopted: 'Your organisation’s adoption is recorded. It now shows under “Adopted by”.',
  adoption_updated: 'The note on your organisation’s adoption is updated.',
  adoption_unchanged: 'Your organisation’s adoption was already recorded with that note, so nothing changed.',
  adoption_withdrawn: 'Your organisation’s adoption is withdrawn.',
};

const MONTH_LABELS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A slug that could name an item: lower-case ASCII letters, digits and hyphens. Anything else names nothing. */
export const isSlug = (slug: unknown): slug is string => typeof slug === 'string' && /^[a-z0-9-]{1,120}$/.test(slug);

const plural = (n: number, one: string, many: string) => `${n.toLocaleString('en-GB')} ${n === 1 ? one : many}`;

export const countsOf = (item: Pick<ExchangeItem, 'helpfulCount' | 'saveCount' | 'adoptionCount' | 'downloadCount'>): SignalCounts => ({
  helpful: Number(item.helpfulCount),
  saves: Number(item.saveCount),
  adoptions: Number(item.adoptionCount),
  downloads: Number(item.downloadCount),
});

/** A note as stored: null when empty. */
export function normaliseNote(note: string | null | undefined): string | null {
  if (typeof note !== 'string') return null;
  const text = note.replace(/\r\n?/g, '\n');
  if (!text.trim()) return null;
  if (text.length > ADOPTION_NOTE_MAX_LENGTH) throw new ValidationFailed({ note: NOTE_TOO_LONG }, NOTE_TOO_LONG);
  return text;
}

type OrganisationRow = { id: number; name: string; type: OrganisationType; region: Region | null };

function adopterView(row: ExchangeAdoption): AdopterView {
  const o = row.organisation as OrganisationRow;
  return {
    organisationId: row.organisationId,
    organisationName: o.name,
    organisationType: o.type,
    typeLabel: ORGANISATION_TYPES[o.type] ?? ORGANISATION_TYPES.other,
    region: o.region,
    regionLabel: o.region ? (REGIONS[o.region] ?? null) : null,
    note: row.note,
    noteHtml: row.note ? renderMarkdown(row.note, { demoteHeadings: true }) : null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** "2026-03" of a moment, in London. */
const londonMonthKey = (moment: Date) => londonFields(moment).date.slice(0, 7);

/**
 * The peer signals on published items: "helpful" (one per person), saves for later (one per person, "My saved") and
 * adoptions (one per organisation, recorded by one of its active members, with an optional note). Each change writes
 * its row and moves the item's counter (`UPDATE … SET c = c + 1`) in one transaction, after locking the item's row, so
 * concurrent requests take turns and the counters always equal the rows. Saying the same thing twice changes
 * nothing: the unique index refuses the second row, and the refusal is the answer "it was already so".
 */
@Injectable()
export class SignalsService {
  constructor(
    @InjectRepository(ExchangeItem) private readonly items: Repository<ExchangeItem>,
    @InjectRepository(ExchangeAdoption) private readonly adoptions: Repository<ExchangeAdoption>,
    @InjectRepository(ExchangeSave) private readonly saves: Repository<ExchangeSave>,
    @InjectRepository(ExchangeFile) private readonly files: Repository<ExchangeFile>,
    private readonly dataSource: DataSource,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly memberships: MembershipsService,
    private readonly access: ExchangeAccess,
  ) {}

  // ---- Reading items ------------------------------------------------------------------------------------------

  /** The published item with this slug; NotFound for anything else (unknown, draft, under review, withdrawn). */
  async published(slug: string): Promise<ExchangeItem> {
    const item = isSlug(slug) ? await this.items.findOne({ where: { slug } }) : null;
    if (!item || item.status !== 'published') throw new NotFound(NO_SUCH_ITEM);
    return item;
  }

  // ---- Helpful -----------------------------------------------------------------------------------------------

  /** Marks the item helpful for the person: `created` false when they had already. Not for its own author. */
  async markHelpful(user: CurrentUser, slug: string): Promise<{ created: boolean; counts: SignalCounts; item: ExchangeItem }> {
    return this.change(slug, async (tx, item) => {
      if (item.authorId === user.id) throw new Conflict(OWN_ITEM_HELPFUL);
      const created = await this.insertOnce(tx, ExchangeHelpfulVote, { itemId: item.id, userId: user.id, createdAt: this.clock.now() });
      if (created) await tx.getRepository(ExchangeItem).increment({ id: item.id }, 'helpfulCount', 1);
      return { created };
    });
  }

  /** Takes the person's "helpful" back: `removed` false when there was none. */
  async unmarkHelpful(user: CurrentUser, slug: string): Promise<{ removed: boolean; counts: SignalCounts; item: ExchangeItem }> {
    return this.change(slug, async (tx, item) => {
      const removed = ((await tx.getRepository(ExchangeHelpfulVote).delete({ itemId: item.id, userId: user.id })).affected ?? 0) > 0;
      if (removed) await tx.getRepository(ExchangeItem).decrement({ id: item.id }, 'helpfulCount', 1);
      return { removed };
    });
  }

  // ---- Saves -------------------------------------------------------------------------------------------------

  async save(user: CurrentUser, slug: string): Promise<{ created: boolean; counts: SignalCounts; item: ExchangeItem }> {
    return this.change(slug, async (tx, item) => {
      const created = await this.insertOnce(tx, ExchangeSave, { itemId: item.id, userId: user.id, createdAt: this.clock.now() });
      if (created) await tx.getRepository(ExchangeItem).increment({ id: item.id }, 'saveCount', 1);
      return { created };
    });
  }

  async unsave(user: CurrentUser, slug: string): Promise<{ removed: boolean; counts: SignalCounts; item: ExchangeItem }> {
    return this.change(slug, async (tx, item) => {
      const removed = ((await tx.getRepository(ExchangeSave).delete({ itemId: item.id, userId: user.id })).affected ?? 0) > 0;
      if (removed) await tx.getRepository(ExchangeItem).decrement({ id: item.id }, 'saveCount', 1);
      return { removed };
    });
  }

  /** The person's saved items that are published now, the most recently saved first. */
  async saved(userId: number, page = 1): Promise<Paged<SavedCard>> {
    const query = () =>
      this.saves
        .createQueryBuilder('s')
        .innerJoin('s.item', 'i')
        .innerJoin('i.organisation', 'o')
        .where('s.userId = :userId', { userId })
        .andWhere('i.status = :published', { published: 'published' });
    const total = await query().getCount();
    const pages = Math.max(1, Math.ceil(total / SAVED_PER_PAGE));
    const current = Math.min(Math.max(1, page), pages);
    const rows = await query()
      .select(['s.id', 's.createdAt', 'i.id', 'i.slug', 'i.kind', 'i.title', 'i.summary', 'i.publishedAt', 'i.helpfulCount', 'i.saveCount', 'i.adoptionCount', 'i.downloadCount', 'o.id', 'o.name'])
      .orderBy('s.createdAt', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .offset((current - 1) * SAVED_PER_PAGE)
      .limit(SAVED_PER_PAGE)
      .getMany();
    return {
      items: rows.map((s) => {
        const i = s.item!;
        return {
          slug: i.slug,
          kind: i.kind,
          kindLabel: EXCHANGE_KINDS[i.kind] ?? i.kind,
          title: i.title,
          summary: i.summary,
          organisationName: (i.organisation as { name: string }).name,
          publishedAt: i.publishedAt,
          savedAt: s.createdAt,
          counts: countsOf(i),
        };
      }),
      total,
      page: current,
      pages,
    };
  }

  // ---- Adoptions ---------------------------------------------------------------------------------------------

  /**
   * The organisations the person could record an adoption of this item for: those they are an active member of (and
   * that are active themselves), except the one that shared it; each with its adoption if it has one. `isMember`:
   * whether they are an active member of any organisation at all.
   */
  async adoptingOrganisations(userId: number, item: ExchangeItem): Promise<{ isMember: boolean; organisations: AdoptingOrganisation[] }> {
    const memberships = (await this.memberships.membershipsOf(userId)).filter((m) => m.status === 'active' && m.organisationStatus === 'active');
    const eligible = memberships.filter((m) => m.organisationId !== item.organisationId);
    const existing = eligible.length
      ? await this.adoptions.find({ where: eligible.map((m) => ({ itemId: item.id, organisationId: m.organisationId })), select: { id: true, organisationId: true, note: true, createdAt: true } })
      : [];
    const byOrganisation = new Map(existing.map((a) => [a.organisationId, a]));
    return {
      isMember: memberships.length > 0,
      organisations: eligible.map((m) => {
        const adoption = byOrganisation.get(m.organisationId);
        return { id: m.organisationId, name: m.organisationName, adoption: adoption ? { note: adoption.note, createdAt: adoption.createdAt } : null };
      }),
    };
  }

  /**
   * Records that one of the person's organisations adopted the item, with an optional note. Recording it again
   * replaces the note (the person who changed it becomes its recorder); the same note again changes nothing. The
   * organisation is the one given, which must be one the person is an active member of; without one, their only
   * organisation (when they belong to several, they must say which).
   */
  async adopt(user: CurrentUser, slug: string, input: { organisationId?: number; note?: string | null }): Promise<{ outcome: AdoptionOutcome; adoption: AdoptionView; counts: SignalCounts; item: ExchangeItem }> {
    const note = normaliseNote(input.note);
    const organisationId = await this.adoptingOrganisationOf(user, await this.published(slug), input.organisationId);
    return this.change(slug, async (tx, item) => {
      if (organisationId === item.organisationId) throw new Conflict(OWN_ORGANISATION);
      const at = this.clock.now();
      const rows = tx.getRepository(ExchangeAdoption);
      let outcome: AdoptionOutcome = 'created';
      if (await this.insertOnce(tx, ExchangeAdoption, { itemId: item.id, organisationId, recordedById: user.id, note, createdAt: at, updatedAt: at })) {
        await tx.getRepository(ExchangeItem).increment({ id: item.id }, 'adoptionCount', 1);
      } else {
        const existing = await rows.findOneByOrFail({ itemId: item.id, organisationId });
        outcome = existing.note === note ? 'unchanged' : 'updated';
        if (outcome === 'updated') await rows.update({ id: existing.id }, { note, recordedById: user.id, updatedAt: at });
      }
      const row = await rows.createQueryBuilder('a').innerJoin('a.organisation', 'o').addSelect(['o.id', 'o.name']).where({ itemId: item.id, organisationId }).getOneOrFail();
      return { outcome, adoption: { organisationId, organisationName: (row.organisation as { name: string }).name, note: row.note, createdAt: row.createdAt, updatedAt: row.updatedAt } };
    });
  }

  /** Withdraws an organisation's adoption: any of its active members may. `removed` false when there was none. */
  async withdrawAdoption(user: CurrentUser, slug: string, organisationId: number): Promise<{ removed: boolean; counts: SignalCounts; item: ExchangeItem }> {
    await this.published(slug);
    const member = (await this.memberships.membershipsOf(user.id)).some((m) => m.organisationId === organisationId && m.status === 'active');
    if (!member) throw new Forbidden(NOT_YOUR_ORGANISATION);
    return this.change(slug, async (tx, item) => {
      const removed = ((await tx.getRepository(ExchangeAdoption).delete({ itemId: item.id, organisationId })).affected ?? 0) > 0;
      if (removed) await tx.getRepository(ExchangeItem).decrement({ id: item.id }, 'adoptionCount', 1);
      return { removed };
    });
  }

  /** The organisations that adopted the item, newest first, a page at a time. */
  async adopters(item: ExchangeItem, page = 1): Promise<Paged<AdopterView>> {
    const total = await this.adoptions.count({ where: { itemId: item.id } });
    const pages = Math.max(1, Math.ceil(total / ADOPTIONS_PER_PAGE));
    const current = Math.min(Math.max(1, page), pages);
    const rows = await this.adopterQuery(item.id)
      .offset((current - 1) * ADOPTIONS_PER_PAGE)
      .limit(ADOPTIONS_PER_PAGE)
      .getMany();
    return { items: rows.map(adopterView), total, page: current, pages };
  }

  // ---- The item page's panel ---------------------------------------------------------------------------------

  /**
   * Everything the signals panel shows, in two queries: the latest adopters, and (for a signed-in viewer) one row per
   * active membership saying whether they marked it helpful, saved it, and whether each organisation adopted it.
   */
  async panel(item: ExchangeItem, viewer: CurrentUser | null, signal?: string | null): Promise<SignalsPanel> {
    const slug = encodeURIComponent(item.slug);
    const [latest, state] = await Promise.all([item.adoptionCount > 0 ? this.adopterQuery(item.id).limit(PANEL_ADOPTIONS).getMany() : Promise.resolve([]), viewer ? this.viewerState(item, viewer) : Promise.resolve(null)]);
    const counts = state?.counts ?? countsOf(item);
    const adopters = latest.map(adopterView);
    return {
      slug: item.slug,
      counts,
      countTexts: {
        helpful: `${plural(counts.helpful, 'person', 'people')} found this helpful`,
        saves: `Saved by ${plural(counts.saves, 'person', 'people')}`,
        adoptions: `Adopted by ${plural(counts.adoptions, 'organisation', 'organisations')}`,
        downloads: item.kind === 'tool' ? `Downloaded ${plural(counts.downloads, 'time', 'times')}` : null,
      },
      signedIn: !!viewer,
      signInHref: `/sign-in?next=${encodeURIComponent(`/exchange/${item.slug}`)}`,
      notice: signal && Object.hasOwn(SIGNAL_NOTICES, signal) ? SIGNAL_NOTICES[signal] : null,
      viewer: viewer && state ? state.viewer : null,
      adopters,
      moreAdopters: counts.adoptions > adopters.length,
      allAdoptersHref: `/exchange/${slug}/adoptions`,
      adoptionHref: `/exchange/${slug}/adoption`,
      savedHref: '/exchange/saved',
    };
  }

  private async viewerState(item: ExchangeItem, viewer: CurrentUser): Promise<{ counts: SignalCounts; viewer: NonNullable<SignalsPanel['viewer']> }> {
    // The memberships table is the organisations module's; it is read here by name (as the admin search does), in the
    // same query as the viewer's own signals, rather than once per organisation.
    const rows = await this.dataSource
      .createQueryBuilder()
      .select('i.helpful_count', 'helpfulCount')
      .addSelect('i.save_count', 'saveCount')
      .addSelect('i.adoption_count', 'adoptionCount')
      .addSelect('i.download_count', 'downloadCount')
      .addSelect('v.id', 'voteId')
      .addSelect('s.id', 'saveId')
      .addSelect('m.organisation_id', 'organisationId')
      .addSelect('m.is_manager', 'isManager')
      .addSelect('o.name', 'organisationName')
      .addSelect('o.status', 'organisationStatus')
      .addSelect('a.id', 'adoptionId')
      .from('exchange_items', 'i')
      .leftJoin('exchange_helpful_votes', 'v', 'v.item_id = i.id AND v.user_id = :userId')
      .leftJoin('exchange_saves', 's', 's.item_id = i.id AND s.user_id = :userId')
      .leftJoin('organisation_memberships', 'm', 'm.user_id = :userId AND m.status = :active')
      .leftJoin('organisations', 'o', 'o.id = m.organisation_id')
      .leftJoin('exchange_adoptions', 'a', 'a.item_id = i.id AND a.organisation_id = m.organisation_id')
      .where('i.id = :itemId')
      .orderBy('o.name_key', 'ASC')
      .setParameters({ userId: viewer.id, itemId: item.id, active: 'active' })
      .getRawMany<{
        helpfulCount: number | string;
        saveCount: number | string;
        adoptionCount: number | string;
        downloadCount: number | string;
        voteId: number | null;
        saveId: number | null;
        organisationId: number | string | null;
        isManager: number | boolean | string | null;
        organisationName: string | null;
        organisationStatus: string | null;
        adoptionId: number | null;
      }>();
    const first = rows[0];
    const counts = first ? { helpful: Number(first.helpfulCount), saves: Number(first.saveCount), adoptions: Number(first.adoptionCount), downloads: Number(first.downloadCount) } : countsOf(item);
    const memberships = rows.filter((r) => r.organisationId !== null).map((r) => ({ ...r, organisationId: Number(r.organisationId), isManager: r.isManager === true || Number(r.isManager) === 1 }));
    const live = memberships.filter((m) => m.organisationStatus === 'active');
    const slug = encodeURIComponent(item.slug);
    const manager = memberships.some((m) => m.organisationId === item.organisationId && m.isManager);
    const mayReadUsage = viewer.role === 'admin' || viewer.role === 'moderator' || item.authorId === viewer.id || manager;
    return {
      counts,
      viewer: {
        helpful: !!first?.voteId,
        saved: !!first?.saveId,
        mayMarkHelpful: item.authorId !== viewer.id,
        adoptedBy: memberships
          .filter((m) => m.adoptionId !== null)
          .map((m) => ({ organisationId: m.organisationId, organisationName: m.organisationName ?? '', changeHref: `/exchange/${slug}/adoption?organisationId=${m.organisationId}` })),
        mayAdopt: live.some((m) => m.organisationId !== item.organisationId && m.adoptionId === null),
        isMember: live.length > 0,
        usageHref: mayReadUsage ? `/exchange/${slug}/usage` : null,
      },
    };
  }

  // ---- Usage, for authors ------------------------------------------------------------------------------------

  /** Whether the viewer may see how the item is used: its author, its organisation's active managers, moderators and admins. */
  mayReadUsage(viewer: CurrentUser, item: Pick<ExchangeItem, 'authorId' | 'organisationId'>): Promise<boolean> {
    // The same people who may see its unpublished work (contributions' rule, one place for it).
    return this.access.maySeeUnpublished(viewer, item);
  }

  /** How the item is used: its signals, downloads per file, the adopting organisations and adoptions per month. */
  async usage(viewer: CurrentUser, slug: string): Promise<UsageReport> {
    const item = isSlug(slug) ? await this.items.findOne({ where: { slug } }) : null;
    if (!item || !(await this.mayReadUsage(viewer, item))) throw new NotFound(NO_SUCH_ITEM);
    const [files, adoptionRows] = await Promise.all([
      this.files.find({ where: { itemId: item.id }, select: { id: true, role: true, version: true, fileName: true, createdAt: true, downloadCount: true }, order: { role: 'DESC', version: 'ASC', id: 'ASC' } }),
      this.adopterQuery(item.id).getMany(),
    ]);
    const adopters = adoptionRows.map(adopterView);
    const { months, before } = this.adoptionMonths(item, adopters);
    return {
      item,
      counts: countsOf(item),
      toolVersions: files.filter((f) => f.role === 'tool').map((f) => ({ version: f.version, fileName: f.fileName, uploadedAt: f.createdAt, downloads: Number(f.downloadCount) })),
      attachments: files.filter((f) => f.role === 'attachment').map((f) => ({ fileName: f.fileName, uploadedAt: f.createdAt, downloads: Number(f.downloadCount) })),
      adopters,
      months,
      adoptionsBeforeChart: before,
    };
  }

  /** London months from the item's first publishing (or first adoption) to now, the latest USAGE_CHART_MONTHS of them. */
  private adoptionMonths(item: ExchangeItem, adopters: AdopterView[]): { months: UsageReport['months']; before: number } {
    const now = this.clock.now();
    const starts = [item.firstPublishedAt, ...adopters.map((a) => a.createdAt)].filter((d): d is Date => !!d).map((d) => d.getTime());
    const startKey = londonMonthKey(new Date(starts.length ? Math.min(...starts) : now.getTime()));
    const endKey = londonMonthKey(now);
    const index = (key: string) => Number(key.slice(0, 4)) * 12 + Number(key.slice(5, 7)) - 1;
    const last = index(endKey);
    const first = Math.max(Math.min(index(startKey), last), last - USAGE_CHART_MONTHS + 1);
    const byMonth = new Map<number, number>();
    let before = 0;
    for (const a of adopters) {
      const at = index(londonMonthKey(a.createdAt));
      if (at < first) before++;
      else byMonth.set(at, (byMonth.get(at) ?? 0) + 1);
    }
    const months: UsageReport['months'] = [];
    for (let i = first; i <= last; i++) {
      const year = Math.floor(i / 12);
      const month = (i % 12) + 1;
      months.push({ key: `${year}-${String(month).padStart(2, '0')}`, label: `${MONTH_LABELS[month - 1]} ${year}`, adoptions: byMonth.get(i) ?? 0 });
    }
    return { months, before };
  }

  // ---- Shared steps ------------------------------------------------------------------------------------------

  /**
   * Runs one change to an item's signals in a transaction that first locks the item's row (so that writers to one
   * item take turns on MySQL/MariaDB, and none waits on another's lock while holding one it needs), refusing anything
   * that is not published; then reads the counters as the change left them.
   */
  private change<T extends object>(slug: string, work: (tx: EntityManager, item: ExchangeItem) => Promise<T>): Promise<T & { counts: SignalCounts; item: ExchangeItem }> {
    if (!isSlug(slug)) return Promise.reject(new NotFound(NO_SUCH_ITEM));
    return this.uow.run(async (tx) => {
      const item = await this.uow.lockForUpdate(tx, ExchangeItem, { slug });
      if (!item || item.status !== 'published') throw new NotFound(NO_SUCH_ITEM);
      const result = await work(tx, item);
      const fresh = await tx.getRepository(ExchangeItem).findOneOrFail({ where: { id: item.id }, select: { id: true, helpfulCount: true, saveCount: true, adoptionCount: true, downloadCount: true } });
      const counts = countsOf(fresh);
      // (Only the counters of `fresh` were read: the rest of its fields are unset.)
      return { ...result, counts, item: Object.assign(item, { helpfulCount: counts.helpful, saveCount: counts.saves, adoptionCount: counts.adoptions, downloadCount: counts.downloads }) };
    });
  }

  /** Inserts the row unless its unique index already holds one like it: true when it was inserted. */
  private async insertOnce<E extends object>(tx: EntityManager, entity: new () => E, values: Partial<E>): Promise<boolean> {
    try {
      await tx.getRepository(entity).insert(values as never);
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** Which organisation an adoption is for: the one asked for (if the person is an active member), or their only one. */
  private async adoptingOrganisationOf(user: CurrentUser, item: ExchangeItem, asked: number | undefined): Promise<number> {
    const memberships = (await this.memberships.membershipsOf(user.id)).filter((m) => m.status === 'active' && m.organisationStatus === 'active');
    if (!memberships.length) throw new Forbidden(NOT_A_MEMBER, NOT_A_MEMBER_CODE);
    if (asked === undefined) {
      if (memberships.length > 1) throw new ValidationFailed({ organisationId: CHOOSE_ORGANISATION }, CHOOSE_ORGANISATION);
      if (memberships[0].organisationId === item.organisationId) throw new Conflict(OWN_ORGANISATION);
      return memberships[0].organisationId;
    }
    if (!memberships.some((m) => m.organisationId === asked)) throw new Forbidden(NOT_YOUR_ORGANISATION);
    if (asked === item.organisationId) throw new Conflict(OWN_ORGANISATION);
    return asked;
  }

  private adopterQuery(itemId: number) {
    return this.adoptions
      .createQueryBuilder('a')
      .innerJoin('a.organisation', 'o')
      .select(['a.id', 'a.itemId', 'a.organisationId', 'a.note', 'a.createdAt', 'a.updatedAt', 'o.id', 'o.name', 'o.type', 'o.region'])
      .where('a.itemId = :itemId', { itemId })
      .orderBy('a.createdAt', 'DESC')
      .addOrderBy('a.id', 'DESC');
  }
}

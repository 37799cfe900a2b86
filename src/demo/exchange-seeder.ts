import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { DataSource, In, type EntityManager } from 'typeorm';
import { AccountsService, DEMO_ADMIN_EMAIL, DEMO_AUTHOR_EMAIL } from '../accounts/accounts.service';
import { EmailVerification } from '../accounts/email-verification';
import { passwordProblem } from '../accounts/password-policy';
import { UserAdminService } from '../accounts/user-admin.service';
import { CatalogueService } from '../catalogue/catalogue.service';
import { PROJECT_ROOT } from '../common/paths';
import { slugify } from '../common/slug';
import { isUniqueViolation } from '../database/errors';
import { UnitOfWork } from '../database/unit-of-work';
import { hackSummary, keyFiguresJson, type KeyFigure } from '../exchange/contributions/contribution-rules';
import { ExchangeFile } from '../exchange/entities/exchange-file.entity';
import { ExchangeItem } from '../exchange/entities/exchange-item.entity';
import { ExchangeRevisionFile } from '../exchange/entities/exchange-revision-file.entity';
import { ExchangeRevision } from '../exchange/entities/exchange-revision.entity';
import { ExchangeAdoption, ExchangeHelpfulVote, ExchangeSave } from '../exchange/entities/exchange-signals.entity';
import { ExchangeSystem } from '../exchange/entities/exchange-system.entity';
import { PeerProfile, PeerProfileSystem, PeerProfileTopic } from '../exchange/entities/peer.entities';
import { REVIEW_CHECKS, type CareSetting, type ExchangeKind, type RevisionStatus, type ToolLicence, type ToolType } from '../exchange/exchange-kinds';
import { ExchangeVocabulary } from '../exchange/exchange-vocabulary';
import { idListJson, projectPublishedRevision, type ProjectionNames } from '../exchange/search-projection';
import { seedStartingSystems } from '../exchange/starting-systems';
import { FILE_KINDS, requireContent } from '../storage/content-check';
import { FileStorage } from '../storage/file-storage';
import { DEMO_FILE_GENERATORS, type DemoFile } from './exchange-files';
import { DEMO_HISTORY_DAYS, DEMO_LEARNER_EMAIL, DEMO_MANAGER_EMAIL, DEMO_ORGANISATIONS, type DemoHistory } from './organisation-seeder';

/**
 * The demo exchange, made at the first start after the demo organisations: six case studies, four tools and six hacks
 * written for this project (src/demo/content/exchange/items/*.json), shared by the three demo organisations' staff over
 * the past year, reviewed and published, then adopted, found helpful and saved by the others; one tool in its second
 * version; a newer revision of a case study waiting in the moderators' queue and a hack returned to its author with
 * feedback; five peer profiles (peers.json). And the demo moderator, Ruth Adebayo of the GP federation, whom the
 * administrator appoints (her password is printed with the other demo accounts), so the queue has someone to work it.
 *
 * Items are published as a moderator's decision publishes them: the revision marked published, the one before it
 * superseded, then the shared search projection (projectPublishedRevision with ExchangeVocabulary.namesFor) fills the
 * item's searchable columns and facet rows. Signals are written with their rows and the counters raised by as many, in
 * one transaction. The tools' files are generated (exchange-files.ts) and stored through FileStorage with the same
 * content check as uploads. Dates are moments of the demo story (DemoHistory), never before the people involved joined.
 *
 * Safe at every start: an item is known by its slug (its title and a suffix made from its key), a profile by its
 * person, the moderator by her address; what exists is left alone. The moderators' list of systems is filled with the
 * starting list only when it is empty (starting-systems.ts), as on every install.
 */

export const DEMO_EXCHANGE_DIR = join(PROJECT_ROOT, 'src', 'demo', 'content', 'exchange');
export const DEMO_MODERATOR_EMAIL = 'ruth.adebayo@riverside.demo.peer-academy.local';
const DEMO_MODERATOR = { name: 'Ruth Adebayo', jobRole: 'Clinical governance lead', organisation: 'federation' as const, joined: 405 };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

type OrgKey = (typeof DEMO_ORGANISATIONS)[number]['key'];

/** One revision as written in the item's JSON; a later revision keeps every field of the one before it unless it says otherwise. */
export interface RevisionDefinition {
  /** Where it ends: `superseded` was published, then replaced by a later one. */
  status: Extract<RevisionStatus, 'published' | 'superseded' | 'submitted' | 'returned'>;
  /** Days ago it was started, submitted and decided (published or returned). */
  created: number;
  submitted: number;
  decided?: number;
  title?: string;
  summary?: string;
  careSetting?: CareSetting | null;
  context?: string;
  actions?: string;
  results?: string;
  keyFigures?: KeyFigure[];
  lessons?: string;
  differently?: string;
  purpose?: string;
  howToUse?: string;
  toolType?: ToolType;
  licence?: ToolLicence;
  tip?: string;
  /** Topic names (the catalogue's), system slugs (the starting list's) and partner organisations. */
  topics?: string[];
  systems?: string[];
  partners?: OrgKey[];
  /** A tool's file for this revision: a new version. */
  file?: { generator: string };
  changeNote?: string;
  /** The moderator's feedback, on a returned revision. */
  feedback?: string;
}

export interface ItemDefinition {
  key: string;
  kind: ExchangeKind;
  organisation: OrgKey;
  author: string;
  revisions: RevisionDefinition[];
  /** Supporting files, in every revision. */
  attachments?: Array<{ generator: string }>;
  /** Downloads so far, of each tool version and each attachment in order. */
  downloads?: { tool?: number[]; attachments?: number[] };
  /** Person (e-mail) → days ago. */
  helpful?: Record<string, number>;
  saves?: Record<string, number>;
  adoptions?: Array<{ organisation: OrgKey; by: string; day: number; note?: string }>;
}

export interface PeerDefinition {
  email: string;
  day: number;
  bio: string;
  openToContact: boolean;
  systems: string[];
  topics: string[];
}

export interface DemoModeratorCredentials {
  role: 'moderator';
  email: string;
  password: string;
}

/** The item definitions, oldest first (by when their first revision was started). */
export function demoExchangeItems(dir = DEMO_EXCHANGE_DIR): ItemDefinition[] {
  const itemsDir = join(dir, 'items');
  return readdirSync(itemsDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(itemsDir, f), 'utf8')) as ItemDefinition)
    .sort((a, b) => b.revisions[0].created - a.revisions[0].created);
}

export function demoPeers(dir = DEMO_EXCHANGE_DIR): PeerDefinition[] {
  return JSON.parse(readFileSync(join(dir, 'peers.json'), 'utf8')) as PeerDefinition[];
}

/** Each revision with the fields it inherits from the ones before it. */
export function resolvedRevisions(item: ItemDefinition): RevisionDefinition[] {
  const resolved: RevisionDefinition[] = [];
  for (const revision of item.revisions) {
    const previous = resolved.at(-1);
    // What belongs to one revision alone is not inherited.
    const inherited = previous ? { ...previous, file: undefined, changeNote: undefined, feedback: undefined, decided: undefined } : {};
    resolved.push({ ...inherited, ...revision });
  }
  return resolved;
}

/** The item's slug: from its title, with a suffix made from its key (so it is the same at every start). */
export function demoItemSlug(item: ItemDefinition): string {
  const suffix = createHash('sha256').update(`peer-academy-demo-exchange:${item.key}`).digest('hex').slice(0, 6);
  return `${slugify(item.revisions[0].title ?? item.key, 100)}-${suffix}`;
}

interface Person {
  id: number;
  joinedAt: Date;
}

/** What the demo exchange needs to exist already: people, organisations, topics and systems, read once. */
interface Vocabulary {
  people: Map<string, Person>;
  organisations: Map<OrgKey, number>;
  topics: Map<string, number>;
  systems: Map<string, number>;
}

/**
 * Creates what the demo exchange lacks. Returns the demo moderator's credentials when it appointed her (to print once
 * with the other demo accounts).
 */
export async function seedDemoExchange(app: INestApplicationContext, history: DemoHistory): Promise<DemoModeratorCredentials[]> {
  const logger = new Logger('DemoExchange');
  const db = app.get(DataSource);
  const accounts = app.get(AccountsService);

  // What the story builds on: the demo accounts (and courses) were made at its beginning.
  const floor = await db
    .createQueryBuilder()
    .from('users', 'u')
    .select('MAX(u.created_at)', 'latest')
    .where('u.email IN (:...emails)', { emails: [DEMO_ADMIN_EMAIL, DEMO_AUTHOR_EMAIL, DEMO_MANAGER_EMAIL, DEMO_LEARNER_EMAIL] })
    .getRawOne<{ latest: Date | string | null }>();
  if (!floor?.latest) return [];
  history.notBefore(asDate(floor.latest));
  const moment = (daysAgo: number, minutes: number) => history.moment(daysAgo, minutes);

  // The moderators' list starts as on any install, on the story's first day.
  await seedStartingSystems(db, moment(DEMO_HISTORY_DAYS, 8 * 60 + 5));

  const adminId = await accounts.userIdByEmail(DEMO_ADMIN_EMAIL);
  const admin = adminId ? await accounts.currentUser(adminId) : null;
  const organisations = await organisationIds(db);
  if (!admin || organisations.size < DEMO_ORGANISATIONS.length) {
    logger.warn('The demo organisations are not all there: no demo exchange made');
    return [];
  }

  const credentials: DemoModeratorCredentials[] = [];
  let moderatorId = await accounts.userIdByEmail(DEMO_MODERATOR_EMAIL);
  if (!moderatorId) {
    // She signs up naming the federation, opens her verification link (joining on its domain), and the administrator
    // appoints her moderator the next morning.
    history.goTo(moment(DEMO_MODERATOR.joined, 9 * 60 + 20));
    const password = randomPassword({ email: DEMO_MODERATOR_EMAIL, name: DEMO_MODERATOR.name });
    const user = await accounts.register({ email: DEMO_MODERATOR_EMAIL, name: DEMO_MODERATOR.name, jobRole: DEMO_MODERATOR.jobRole, password, organisation: { kind: 'existing', organisationId: organisations.get(DEMO_MODERATOR.organisation)! } });
    history.advance(6 * MINUTE);
    const verification = app.get(EmailVerification);
    const link = new URL(verification.link(user).url);
    const { outcome } = await verification.verify(Object.fromEntries(link.searchParams), null);
    if (outcome !== 'verified' && outcome !== 'already-verified') throw new Error(`Demo moderator: verification ${outcome}`);
    history.goTo(moment(DEMO_MODERATOR.joined - 1, 10 * 60));
    await app.get(UserAdminService).changeRole({ id: admin.id, name: admin.name }, user.id, 'moderator');
    moderatorId = user.id;
    credentials.push({ role: 'moderator', email: DEMO_MODERATOR_EMAIL, password });
  }

  const items = demoExchangeItems();
  const peers = demoPeers();
  const vocabulary = await readVocabulary(app, items, peers, organisations);
  const seeder = new ExchangeStory(app, vocabulary, moment, { moderatorId, adminId: admin.id });
  let created = 0;
  for (const item of items) if (await seeder.item(item)) created++;
  let profiles = 0;
  for (const peer of peers) if (await seeder.profile(peer)) profiles++;
  if (created || profiles) logger.log(`Created ${created} demo exchange items and ${profiles} peer profiles`);
  return credentials;
}

async function organisationIds(db: DataSource): Promise<Map<OrgKey, number>> {
  const rows = await db
    .createQueryBuilder()
    .from('organisations', 'o')
    .select(['o.id AS id', 'o.name AS name'])
    .where('o.name IN (:...names)', { names: DEMO_ORGANISATIONS.map((o) => o.name) })
    .andWhere("o.status = 'active'")
    .getRawMany<{ id: number | string; name: string }>();
  const byName = new Map(rows.map((r) => [r.name, Number(r.id)]));
  return new Map(DEMO_ORGANISATIONS.filter((o) => byName.has(o.name)).map((o) => [o.key, byName.get(o.name)!]));
}

async function readVocabulary(app: INestApplicationContext, items: ItemDefinition[], peers: PeerDefinition[], organisations: Map<OrgKey, number>): Promise<Vocabulary> {
  const db = app.get(DataSource);
  const revisions = items.flatMap((i) => i.revisions);
  const emails = new Set([
    ...items.flatMap((i) => [i.author, ...Object.keys(i.helpful ?? {}), ...Object.keys(i.saves ?? {}), ...(i.adoptions ?? []).map((a) => a.by)]),
    ...peers.map((p) => p.email),
  ]);
  const userRows = await db
    .createQueryBuilder()
    .from('users', 'u')
    .select(['u.id AS id', 'u.email AS email', 'u.created_at AS createdAt'])
    .where('u.email IN (:...emails)', { emails: [...emails] })
    .getRawMany<{ id: number | string; email: string; createdAt: Date | string }>();
  const people = new Map(userRows.map((r) => [r.email, { id: Number(r.id), joinedAt: asDate(r.createdAt) }]));

  const catalogue = app.get(CatalogueService);
  const topics = new Map<string, number>();
  for (const name of new Set([...revisions.flatMap((r) => r.topics ?? []), ...peers.flatMap((p) => p.topics)])) {
    const topic = await catalogue.topicBySlug(slugify(name, 80));
    if (topic) topics.set(name, topic.id);
  }
  const systemSlugs = [...new Set([...revisions.flatMap((r) => r.systems ?? []), ...peers.flatMap((p) => p.systems)])];
  const systemRows = systemSlugs.length ? await db.getRepository(ExchangeSystem).find({ where: { slug: In(systemSlugs) }, select: { id: true, slug: true } }) : [];
  return { people, organisations, topics, systems: new Map(systemRows.map((s) => [s.slug, s.id])) };
}

/** Everything one item's transaction writes, worked out before it begins (nothing in it reads outside it). */
interface ItemPlan {
  definition: ItemDefinition;
  slug: string;
  author: Person;
  organisationId: number;
  revisions: RevisionDefinition[];
  dates: Array<{ created: Date; submitted: Date; decided: Date | null }>;
  lists: Array<Pick<ExchangeRevision, 'topicIds' | 'systemIds' | 'partnerOrganisationIds'>>;
  names: ProjectionNames[];
  toolFiles: Array<DemoFile | null>;
  attachmentFiles: DemoFile[];
}

/** Writes one demo item at a time, each in its own transaction. */
class ExchangeStory {
  private readonly db: DataSource;
  private readonly uow: UnitOfWork;
  private readonly storage: FileStorage;
  private readonly names: ExchangeVocabulary;

  constructor(
    app: INestApplicationContext,
    private readonly vocabulary: Vocabulary,
    private readonly moment: (daysAgo: number, minutes: number) => Date,
    private readonly deciders: { moderatorId: number; adminId: number },
  ) {
    this.db = app.get(DataSource);
    this.uow = app.get(UnitOfWork, { strict: false });
    this.storage = app.get(FileStorage);
    this.names = app.get(ExchangeVocabulary, { strict: false });
  }

  /** A moment `daysAgo`, but never before `after` (someone joining, an item being published) nor in the future. */
  private at(daysAgo: number, minutes: number, ...after: Array<Date | null | undefined>): Date {
    const latest = Math.max(this.moment(daysAgo, minutes).getTime(), ...after.filter((d): d is Date => !!d).map((d) => d.getTime() + HOUR));
    // moment(0, a whole day) is the story's end: a minute before it was told.
    return new Date(Math.min(latest, this.moment(0, 24 * 60).getTime()));
  }

  /** Creates the item unless it exists; returns whether it did. */
  async item(definition: ItemDefinition): Promise<boolean> {
    const slug = demoItemSlug(definition);
    const author = this.vocabulary.people.get(definition.author);
    const organisationId = this.vocabulary.organisations.get(definition.organisation);
    if (!author || !organisationId || (await this.db.getRepository(ExchangeItem).exists({ where: { slug } }))) return false;
    const revisions = resolvedRevisions(definition);
    // Each step after the one before it: started, submitted, decided, and the next revision after that.
    const dates: Array<{ created: Date; submitted: Date; decided: Date | null }> = [];
    for (const r of revisions) {
      const previous = dates.at(-1);
      const created = this.at(r.created, 9 * 60 + 40, author.joinedAt, previous?.decided ?? previous?.submitted);
      const submitted = this.at(r.submitted, 15 * 60 + 20, created);
      dates.push({ created, submitted, decided: r.decided === undefined ? null : this.at(r.decided, 11 * 60 + 5, submitted) });
    }
    // The revisions' lists and the names they stand for, and the files, all made before the transaction.
    const lists = revisions.map((r) => ({
      topicIds: idListJson((r.topics ?? []).flatMap((name) => this.vocabulary.topics.get(name) ?? [])),
      systemIds: idListJson((r.systems ?? []).flatMap((slug) => this.vocabulary.systems.get(slug) ?? [])),
      partnerOrganisationIds: idListJson((r.partners ?? []).flatMap((key) => this.vocabulary.organisations.get(key) ?? [])),
    }));
    const names = await Promise.all(lists.map((l) => this.names.namesFor(l as ExchangeRevision, organisationId)));
    const toolFiles = await Promise.all(revisions.map((r, i) => (r.file ? generate(r.file.generator, dates[i].created) : null)));
    const attachments = await Promise.all((definition.attachments ?? []).map((a) => generate(a.generator, dates[0].created)));
    // The files stored, by every attempt of the transaction (one the database chose to run again wrote its own).
    const written: string[] = [];
    try {
      const itemId = await this.uow.run((tx) => this.write(tx, { definition, slug, author, organisationId, revisions, dates, lists, names, toolFiles, attachmentFiles: attachments }, written));
      await Promise.all(written.filter((key) => !key.startsWith(`exchange/${itemId}/`)).map((key) => this.storage.remove(key)));
      return true;
    } catch (err) {
      await Promise.all(written.map((key) => this.storage.remove(key)));
      // Another process seeding at the same moment made it first.
      if (isUniqueViolation(err) && (await this.db.getRepository(ExchangeItem).exists({ where: { slug } }))) return false;
      throw err;
    }
  }

  private async write(tx: EntityManager, plan: ItemPlan, written: string[]): Promise<number> {
    const { definition, slug, author, organisationId, revisions, dates, lists, names, toolFiles, attachmentFiles } = plan;
    const items = tx.getRepository(ExchangeItem);
    const createdAt = dates[0].created;
    const itemId = Number((await items.insert({ slug, kind: definition.kind, status: 'draft', authorId: author.id, organisationId, createdAt, updatedAt: createdAt })).identifiers[0].id);
    let item = await items.findOneByOrFail({ id: itemId });

    const store = async (file: DemoFile, role: 'tool' | 'attachment', version: number | null, at: Date, downloads: number) => {
      const extension = file.fileName.split('.').pop()!;
      const key = `exchange/${itemId}/${role}-${version ?? 'file'}-${createHash('sha256').update(file.bytes).digest('hex').slice(0, 16)}.${extension}`;
      written.push(key);
      const stored = await this.storage.put(key, Readable.from([file.bytes]), { inspect: requireContent(FILE_KINDS[extension]) });
      const files = tx.getRepository(ExchangeFile);
      const id = Number(
        (await files.insert({ itemId, role, version, storageKey: key, fileName: file.fileName, contentType: file.contentType, bytes: stored.bytes, sha256: stored.sha256, uploadedById: author.id, downloadCount: downloads, createdAt: at })).identifiers[0].id,
      );
      if (downloads) await items.increment({ id: itemId }, 'downloadCount', downloads);
      return id;
    };
    const attachmentIds: number[] = [];
    for (const [i, file] of attachmentFiles.entries()) attachmentIds.push(await store(file, 'attachment', null, createdAt, definition.downloads?.attachments?.[i] ?? 0));

    const revisionRepo = tx.getRepository(ExchangeRevision);
    let publishedId: number | null = null;
    let latestId = 0;
    let version = 0;
    let toolFileId: number | null = null;
    let updatedAt = createdAt;
    for (const [n, r] of revisions.entries()) {
      const when = dates[n];
      if (toolFiles[n]) toolFileId = await store(toolFiles[n]!, 'tool', ++version, when.created, definition.downloads?.tool?.[version - 1] ?? 0);
      const decided = r.status !== 'submitted';
      const decidedById = decided ? (definition.organisation === DEMO_MODERATOR.organisation ? this.deciders.adminId : this.deciders.moderatorId) : null;
      const published = r.status === 'published' || r.status === 'superseded';
      const values = {
        itemId,
        number: n + 1,
        status: published ? 'published' : r.status,
        authorId: author.id,
        title: r.title ?? '',
        summary: definition.kind === 'hack' ? hackSummary(r.tip ?? null) : (r.summary ?? ''),
        careSetting: r.careSetting ?? null,
        context: r.context ?? null,
        actions: r.actions ?? null,
        results: r.results ?? null,
        keyFigures: keyFiguresJson(r.keyFigures ?? []),
        lessons: r.lessons ?? null,
        differently: r.differently ?? null,
        purpose: r.purpose ?? null,
        howToUse: r.howToUse ?? null,
        toolType: definition.kind === 'tool' ? (r.toolType ?? null) : null,
        licence: definition.kind === 'tool' ? (r.licence ?? null) : null,
        toolFileId: definition.kind === 'tool' ? toolFileId : null,
        tip: definition.kind === 'hack' ? (r.tip ?? null) : null,
        ...lists[n],
        changeNote: r.changeNote ?? null,
        submittedAt: when.submitted,
        decidedAt: decided ? when.decided : null,
        decidedById,
        feedback: r.status === 'returned' ? (r.feedback ?? null) : null,
        checklist: published ? REVIEW_CHECKS.join(',') : null,
        createdAt: when.created,
        updatedAt: when.decided ?? when.submitted,
      } satisfies Partial<ExchangeRevision>;
      const revision = { ...values, id: Number((await revisionRepo.insert(values)).identifiers[0].id) } as ExchangeRevision;
      latestId = revision.id;
      updatedAt = when.decided ?? when.submitted;
      if (attachmentIds.length) await tx.getRepository(ExchangeRevisionFile).insert(attachmentIds.map((fileId, position) => ({ revisionId: revision.id, fileId, position })));
      if (published) {
        if (publishedId) await revisionRepo.update({ id: publishedId }, { status: 'superseded', updatedAt: when.decided! });
        await projectPublishedRevision(tx, item, revision, names[n], when.decided!);
        publishedId = revision.id;
        item = await items.findOneByOrFail({ id: itemId });
      } else if (!publishedId) {
        await items.update({ id: itemId }, { status: r.status === 'returned' ? 'returned' : 'submitted' });
      }
    }
    await items.update({ id: itemId }, { latestRevisionId: latestId, updatedAt });
    if (publishedId) await this.signals(tx, item, definition);
    return itemId;
  }

  /** The helpful votes, saves and adoptions, each after the item was first published and after its person joined. */
  private async signals(tx: EntityManager, item: ExchangeItem, definition: ItemDefinition): Promise<void> {
    const published = item.firstPublishedAt!;
    const people = this.vocabulary.people;
    const rows = (signals: Record<string, number> | undefined, offset: number) =>
      Object.entries(signals ?? {}).flatMap(([email, day], i) => {
        const person = people.get(email);
        return person ? [{ itemId: item.id, userId: person.id, createdAt: this.at(day, 10 * 60 + ((i * 37 + offset) % 480), published, person.joinedAt) }] : [];
      });
    const helpful = rows(definition.helpful, 0);
    const saves = rows(definition.saves, 11);
    const adoptions = (definition.adoptions ?? []).flatMap((a, i) => {
      const person = people.get(a.by);
      const organisationId = this.vocabulary.organisations.get(a.organisation);
      if (!person || !organisationId || organisationId === item.organisationId) return [];
      const at = this.at(a.day, 13 * 60 + i * 23, published, person.joinedAt);
      return [{ itemId: item.id, organisationId, recordedById: person.id, note: a.note ?? null, createdAt: at, updatedAt: at }];
    });
    const items = tx.getRepository(ExchangeItem);
    if (helpful.length) {
      await tx.getRepository(ExchangeHelpfulVote).insert(helpful);
      await items.increment({ id: item.id }, 'helpfulCount', helpful.length);
    }
    if (saves.length) {
      await tx.getRepository(ExchangeSave).insert(saves);
      await items.increment({ id: item.id }, 'saveCount', saves.length);
    }
    if (adoptions.length) {
      await tx.getRepository(ExchangeAdoption).insert(adoptions);
      await items.increment({ id: item.id }, 'adoptionCount', adoptions.length);
    }
  }

  /** Creates the person's listed peer profile unless they have one; returns whether it did. */
  async profile(definition: PeerDefinition): Promise<boolean> {
    const person = this.vocabulary.people.get(definition.email);
    if (!person || (await this.db.getRepository(PeerProfile).exists({ where: { userId: person.id } }))) return false;
    const at = this.at(definition.day, 18 * 60 + 10, person.joinedAt);
    try {
      await this.uow.run(async (tx) => {
        await tx.getRepository(PeerProfile).insert({ userId: person.id, listed: true, bio: definition.bio, openToContact: definition.openToContact, createdAt: at, updatedAt: at });
        const systemIds = [...new Set(definition.systems.flatMap((s) => this.vocabulary.systems.get(s) ?? []))];
        const topicIds = [...new Set(definition.topics.flatMap((t) => this.vocabulary.topics.get(t) ?? []))];
        if (systemIds.length) await tx.getRepository(PeerProfileSystem).insert(systemIds.map((systemId) => ({ userId: person.id, systemId })));
        if (topicIds.length) await tx.getRepository(PeerProfileTopic).insert(topicIds.map((topicId) => ({ userId: person.id, topicId })));
      });
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }
}

async function generate(generator: string, at: Date): Promise<DemoFile> {
  const make = DEMO_FILE_GENERATORS[generator];
  if (!make) throw new Error(`The demo exchange names a file generator that does not exist: ${generator}`);
  return make(at);
}

function randomPassword(person: { email: string; name: string }): string {
  let password: string;
  do password = randomBytes(9).toString('base64url');
  while (passwordProblem(password, person));
  return password;
}

/** Raw rows hold DATETIME as a Date (mysql2) or as text in UTC (SQLite). */
const asDate = (value: Date | string) => (value instanceof Date ? value : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`));

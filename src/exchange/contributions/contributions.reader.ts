import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import type { CurrentUser } from '../../accounts/identity';
import { Clock } from '../../common/clock';
import { NotFound } from '../../common/errors';
import type { OrganisationOption } from '../../common/organisation-joining';
import { OrganisationDirectory } from '../../organisations/organisation-directory.service';
import { FILE_KINDS } from '../../storage/content-check';
import { ExchangeFile } from '../entities/exchange-file.entity';
import { ExchangeItem } from '../entities/exchange-item.entity';
import { ExchangeRevisionFile } from '../entities/exchange-revision-file.entity';
import { ExchangeRevision } from '../entities/exchange-revision.entity';
import { ExchangeVocabulary, type SystemOption } from '../exchange-vocabulary';
import { revisionLists } from '../search-projection';
import { keyFiguresOf, type KeyFigure } from './contribution-rules';
import { ExchangeAccess } from './exchange-access';

/** What a page says for an unknown slug and for anything its viewer may not see: the same words, the same 404. */
export const NO_SUCH_ITEM = 'There is no case study, tool or hack at this address';

/** A stored file as pages and the API describe it. */
export interface FileView {
  id: number;
  fileName: string;
  bytes: number;
  /** "1.2 MB", "340 KB". */
  sizeText: string;
  contentType: string;
  /** "Excel workbook", "PDF". */
  typeLabel: string;
  /** The download route: /exchange/{slug}/files/{id}. */
  url: string;
  /** A tool file's version (1, 2, 3 …); null for attachments. */
  version: number | null;
  /** For a tool version: when it was published (null while it is not yet). */
  publishedAt: Date | null;
  uploadedAt: Date;
}

/** One item as its page and the API show it: the revision the viewer sees and everything it names. */
export interface ItemDetail {
  item: ExchangeItem;
  /** The revision shown: the published one, or (for those who may see it) the latest. */
  revision: ExchangeRevision;
  /** The newest revision, when it is not the one shown (a newer draft or one under review). */
  newer: ExchangeRevision | null;
  /** Whether the viewer may see unpublished work of this item (author, its organisation's managers, moderators, admins). */
  privileged: boolean;
  isAuthor: boolean;
  /** Whether the revision shown is not the public one. */
  showingUnpublished: boolean;
  organisation: OrganisationOption | null;
  partners: OrganisationOption[];
  topics: Array<{ id: number; slug: string; name: string }>;
  systems: SystemOption[];
  keyFigures: KeyFigure[];
  attachments: FileView[];
  /** A tool's file in the revision shown. */
  toolFile: FileView | null;
  /** A tool's versions the viewer may download, newest first (the one shown included). */
  versions: FileView[];
  /** Past its review date: it may be out of date. */
  mayBeOutOfDate: boolean;
}

const KB = 1024;
export function sizeText(bytes: number): string {
  if (bytes < KB) return `${bytes} bytes`;
  if (bytes < KB * KB) return `${Math.max(1, Math.round(bytes / KB))} KB`;
  return `${(bytes / (KB * KB)).toFixed(1).replace(/\.0$/, '')} MB`;
}

export const fileUrl = (slug: string, fileId: number) => `/exchange/${encodeURIComponent(slug)}/files/${fileId}`;

function typeLabelOf(file: Pick<ExchangeFile, 'fileName' | 'contentType'>): string {
  const extension = file.fileName.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  return (extension && FILE_KINDS[extension]?.label) || file.contentType;
}

export function fileView(slug: string, file: ExchangeFile, publishedAt: Date | null = null): FileView {
  return {
    id: file.id,
    fileName: file.fileName,
    bytes: file.bytes,
    sizeText: sizeText(file.bytes),
    contentType: file.contentType,
    typeLabel: typeLabelOf(file),
    url: fileUrl(slug, file.id),
    version: file.version,
    publishedAt,
    uploadedAt: file.createdAt,
  };
}

/** Revisions whose tool file the public may download: the published one and those it replaced. */
const PUBLIC_REVISION_STATUSES = ['published', 'superseded'] as const;

/**
 * Reads items for their page and the API, applying who may see what (ExchangeAccess): the published revision for
 * everyone, the latest (or a never-published item) only for those who may see unpublished work, and a 404 for
 * anyone else, worded as for a slug that does not exist.
 */
@Injectable()
export class ContributionsReader {
  constructor(
    @InjectRepository(ExchangeItem) private readonly items: Repository<ExchangeItem>,
    @InjectRepository(ExchangeRevision) private readonly revisions: Repository<ExchangeRevision>,
    @InjectRepository(ExchangeFile) private readonly files: Repository<ExchangeFile>,
    @InjectRepository(ExchangeRevisionFile) private readonly revisionFiles: Repository<ExchangeRevisionFile>,
    private readonly access: ExchangeAccess,
    private readonly vocabulary: ExchangeVocabulary,
    private readonly organisations: OrganisationDirectory,
    private readonly clock: Clock,
  ) {}

  /** Slug, title and status of an item by id, for its discussion; null if there is none. */
  itemSubject(id: number): Promise<Pick<ExchangeItem, 'id' | 'slug' | 'title' | 'status'> | null> {
    return this.items.findOne({ where: { id }, select: { id: true, slug: true, title: true, status: true } });
  }

  /** The item with this slug, or null. Slugs are lower-case ASCII; anything else names nothing. */
  async bySlug(slug: string): Promise<ExchangeItem | null> {
    if (typeof slug !== 'string' || !/^[a-z0-9-]{1,120}$/.test(slug)) return null;
    return this.items.findOne({ where: { slug } });
  }

  /**
   * The item as the viewer may see it. `latest`: the newest revision rather than the public one (only for those who
   * may see unpublished work; others get the public one). NotFound for an unknown slug and for an item the viewer
   * may not see.
   */
  async detail(viewer: CurrentUser | null, slug: string, options: { latest?: boolean } = {}): Promise<ItemDetail> {
    const { item, privileged } = await this.visible(viewer, slug);
    const published = item.status === 'published' && item.publishedRevisionId !== null;
    const wantedId = !published || (options.latest && privileged) ? item.latestRevisionId : item.publishedRevisionId;
    const ids = [...new Set([wantedId, item.latestRevisionId].filter((id): id is number => id !== null))];
    const rows = ids.length ? await this.revisions.find({ where: { id: In(ids), itemId: item.id } }) : [];
    const revision = rows.find((r) => r.id === wantedId);
    if (!revision) throw new NotFound(NO_SUCH_ITEM);
    const latest = rows.find((r) => r.id === item.latestRevisionId) ?? null;
    const newer = privileged && latest && latest.id !== revision.id ? latest : null;
    return this.describe(item, revision, { privileged, newer, viewer });
  }

  /** The item, if the viewer may see it at all (published, or they may see unpublished work); NotFound otherwise. */
  async visible(viewer: CurrentUser | null, slug: string): Promise<{ item: ExchangeItem; privileged: boolean }> {
    const item = await this.bySlug(slug);
    if (!item) throw new NotFound(NO_SUCH_ITEM);
    const privileged = await this.access.maySeeUnpublished(viewer, item);
    if (item.status !== 'published' && !privileged) throw new NotFound(NO_SUCH_ITEM);
    return { item, privileged };
  }

  /** Everything the revision names, read in a handful of queries (never one per topic, system or file). */
  async describe(item: ExchangeItem, revision: ExchangeRevision, context: { privileged: boolean; newer: ExchangeRevision | null; viewer: CurrentUser | null }): Promise<ItemDetail> {
    const { topicIds, systemIds, partnerOrganisationIds } = revisionLists(revision);
    const [topics, systems, organisations, attachments, tool] = await Promise.all([
      this.vocabulary.topics(),
      this.vocabulary.systemsById(systemIds),
      this.organisations.describe([item.organisationId, ...partnerOrganisationIds]),
      this.attachmentsOf(item.slug, revision.id),
      item.kind === 'tool' ? this.toolVersions(item, revision) : Promise.resolve({ current: null, versions: [] }),
    ]);
    const topicById = new Map(topics.map((t) => [t.id, t]));
    const now = this.clock.now();
    return {
      item,
      revision,
      newer: context.newer,
      privileged: context.privileged,
      isAuthor: !!context.viewer && item.authorId === context.viewer.id,
      showingUnpublished: revision.id !== item.publishedRevisionId || item.status !== 'published',
      organisation: organisations.get(item.organisationId) ?? null,
      partners: partnerOrganisationIds.filter((id) => id !== item.organisationId && organisations.has(id)).map((id) => organisations.get(id)!),
      topics: topicIds.filter((id) => topicById.has(id)).map((id) => topicById.get(id)!),
      systems: systemIds.filter((id) => systems.has(id)).map((id) => systems.get(id)!),
      keyFigures: item.kind === 'case_study' ? keyFiguresOf(revision.keyFigures) : [],
      attachments,
      toolFile: tool.current,
      versions: tool.versions,
      mayBeOutOfDate: item.status === 'published' && !!item.reviewDueAt && now.getTime() >= item.reviewDueAt.getTime(),
    };
  }

  /** The revision's attachments, in their order. */
  async attachmentsOf(slug: string, revisionId: number): Promise<FileView[]> {
    const rows = await this.revisionFiles
      .createQueryBuilder('rf')
      .innerJoinAndSelect('rf.file', 'f')
      .where('rf.revisionId = :revisionId', { revisionId })
      .orderBy('rf.position', 'ASC')
      .addOrderBy('f.id', 'ASC')
      .getMany();
    return rows.map((rf) => fileView(slug, rf.file!));
  }

  /**
   * A tool's versions: the file of every revision that was public (published, or published and since replaced), with
   * the date it was first published, newest first; and the file of the revision shown, which is the current one (for
   * someone looking at a newer revision, it may not be published yet).
   */
  private async toolVersions(item: ExchangeItem, shown: ExchangeRevision): Promise<{ current: FileView | null; versions: FileView[] }> {
    const publicRevisions = await this.revisions.find({ where: { itemId: item.id, status: In([...PUBLIC_REVISION_STATUSES]) }, select: { id: true, toolFileId: true, decidedAt: true, number: true } });
    const firstPublished = new Map<number, Date | null>();
    for (const r of publicRevisions) {
      if (!r.toolFileId) continue;
      const at = r.decidedAt ?? null;
      const known = firstPublished.get(r.toolFileId);
      if (!firstPublished.has(r.toolFileId) || (at && (!known || at < known))) firstPublished.set(r.toolFileId, at);
    }
    const ids = [...new Set([...firstPublished.keys(), ...(shown.toolFileId ? [shown.toolFileId] : [])])];
    const files = ids.length ? await this.files.find({ where: { id: In(ids), itemId: item.id, role: 'tool' } }) : [];
    const views = files.map((f) => fileView(item.slug, f, firstPublished.get(f.id) ?? null)).sort((a, b) => (b.version ?? 0) - (a.version ?? 0) || b.id - a.id);
    return { current: views.find((v) => v.id === shown.toolFileId) ?? null, versions: views };
  }
}

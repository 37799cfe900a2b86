import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import type { CurrentUser } from '../../accounts/identity';
import { claimedKind, safeFileName, storeUpload, type UploadRule } from '../../catalogue/authoring/uploads';
import { Clock } from '../../common/clock';
import { Conflict, DomainError, FieldErrors, Forbidden, NotFound, ValidationFailed } from '../../common/errors';
import type { PendingUpload } from '../../common/multipart';
import { slugify } from '../../common/slug';
import type { AppConfig } from '../../config/config';
import { InjectConfig } from '../../config/config.module';
import { isUniqueViolation } from '../../database/errors';
import { UnitOfWork } from '../../database/unit-of-work';
import type { FileKind } from '../../storage/content-check';
import { FileStorage } from '../../storage/file-storage';
import { ExchangeFile } from '../entities/exchange-file.entity';
import { ExchangeItem } from '../entities/exchange-item.entity';
import { ExchangeRevisionFile } from '../entities/exchange-revision-file.entity';
import { ExchangeRevision } from '../entities/exchange-revision.entity';
import { EXCHANGE_KINDS, type ExchangeKind, type ItemStatus, type RevisionStatus } from '../exchange-kinds';
import { ContributionForms, contentOf, sameContent, type ContributionInput, type RevisionContent } from './contribution-form';
import { kindLower, LIMITS, missingForSubmission } from './contribution-rules';
import { NO_SUCH_ITEM } from './contributions.reader';
import { ExchangeAccess } from './exchange-access';
import { PublishedChanges } from '../published-changes';

/** Words never used as slugs: /exchange/new, /exchange/mine and /exchange/saved are pages. */
export const RESERVED_SLUGS = new Set(['new', 'mine', 'saved']);

/** What a tool's file may be: documents, spreadsheets, presentations, archives, plain text and scripts. */
export const TOOL_FILE_RULE: UploadRule = {
  field: 'file',
  allowed: ['xlsx', 'docx', 'pptx', 'pdf', 'csv', 'txt', 'zip', 'ps1', 'sql', 'sh', 'py'],
  description: 'a spreadsheet (XLSX or CSV), a document (DOCX or PDF), a presentation (PPTX), a ZIP archive, a text file or a script (TXT, PS1, SQL, SH or PY)',
};

/** What an attachment of a case study or a hack may be. */
export const ATTACHMENT_RULE: UploadRule = {
  field: 'file',
  allowed: ['pdf', 'docx', 'xlsx', 'pptx', 'csv', 'txt', 'zip'],
  description: 'a PDF, Word, Excel, PowerPoint, CSV, text or ZIP file',
};

/** The revision states an author may change in place; any other (published, superseded) starts the next revision. */
const IN_PLACE: RevisionStatus[] = ['draft', 'returned'];

export const WAITING_FOR_REVIEW_MESSAGE = 'It is waiting for a moderator to review it, so it cannot be changed now. You can change it again once they have published it or sent it back.';
export const WITHDRAWN_MESSAGE = 'It has been withdrawn, so it can no longer be changed or submitted.';
export const onlyTheAuthor = (kind: ExchangeKind) => `Only the author of this ${kindLower(kind)} can change it.`;

/** What saving a form did. */
export type SaveOutcome = 'saved' | 'revision' | 'unchanged';

/** One row of "My contributions". */
export interface MyContribution {
  slug: string;
  kind: ExchangeKind;
  title: string;
  status: ItemStatus;
  latest: { number: number; status: RevisionStatus };
  reviewDueAt: Date | null;
  updatedAt: Date;
  counts: { helpful: number; adoptions: number; saves: number; downloads: number };
}

/** A file stored for an item before its row is written; removed again if the write fails. */
interface StoredUpload {
  key: string;
  kind: FileKind;
  fileName: string;
  bytes: number;
  sha256: string;
}

/**
 * Writing contributions: members of an organisation create case studies, tools and hacks (drafts that may be
 * incomplete), change them, add and remove attachments, submit them for review and withdraw them. Editing a published
 * item starts its next revision (copied from the published one, attachments included), which is reviewed on its own
 * while the published revision stays up; only one revision at a time is unpublished. Every change locks the item row
 * first, so two at once take turns. Stored files are written before the rows that name them and removed when the
 * write fails; files no revision names any more are removed once the change has committed.
 */
@Injectable()
export class ContributionsService {
  private readonly logger = new Logger('ExchangeContributions');

  constructor(
    @InjectRepository(ExchangeItem) private readonly items: Repository<ExchangeItem>,
    @InjectRepository(ExchangeRevision) private readonly revisions: Repository<ExchangeRevision>,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly storage: FileStorage,
    private readonly access: ExchangeAccess,
    private readonly published: PublishedChanges,
    private readonly forms: ContributionForms,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  // ---------------------------------------------------------------- creating

  /** A new item (a draft, revision 1) from its form; a tool's form carries its file, which it must have. */
  async create(user: CurrentUser, kind: ExchangeKind, body: Record<string, unknown>, upload: PendingUpload | null): Promise<ExchangeItem> {
    const organisations = await this.access.requireSharingOrganisations(user.id);
    const errors: FieldErrors = {};
    const input = await this.collect(errors, () => this.forms.parse(kind, body, { organisations, existing: null, organisationId: null }));
    const fileKind = kind === 'tool' ? this.collectSync(errors, () => claimedKind(upload?.file ?? null, TOOL_FILE_RULE)) : null;
    if (Object.keys(errors).length || !input) throw new ValidationFailed(errors);
    const item = await this.insertItem(user, kind, input);
    if (kind !== 'tool') return item;
    let stored: StoredUpload | null = null;
    try {
      stored = await this.store(item.id, upload!, fileKind!, TOOL_FILE_RULE);
      const file = stored;
      await this.uow.run(async (tx) => {
        const row = await this.insertFile(tx, item.id, 'tool', file, user.id, 1);
        await tx.getRepository(ExchangeRevision).update({ id: item.latestRevisionId! }, { toolFileId: row.id });
      });
      return item;
    } catch (err) {
      // Without its file the tool was never made: nothing of it is kept.
      await this.items.delete({ id: item.id }).catch((e: unknown) => this.logger.warn(`Tool ${item.id} left after its upload failed: ${String(e)}`));
      if (stored) await this.storage.remove(stored.key);
      throw err;
    }
  }

  private async insertItem(user: CurrentUser, kind: ExchangeKind, input: ContributionInput): Promise<ExchangeItem> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.uow.run(async (tx) => {
          const now = this.clock.now();
          const items = tx.getRepository(ExchangeItem);
          const inserted = await items.insert({ slug: newSlug(input.content.title, kind), kind, status: 'draft', authorId: user.id, organisationId: input.organisationId!, createdAt: now, updatedAt: now });
          const itemId = Number(inserted.identifiers[0].id);
          const revision = await this.insertRevision(tx, itemId, 1, user.id, input.content, null, null, now);
          await items.update({ id: itemId }, { latestRevisionId: revision.id });
          return items.findOneByOrFail({ id: itemId });
        });
      } catch (err) {
        // Two titles may make one slug and the random part may, rarely, repeat: another suffix.
        if (attempt < 3 && isUniqueViolation(err)) continue;
        throw err;
      }
    }
  }

  // ---------------------------------------------------------------- editing

  /** The item and the revision its edit form changes (the latest), for its author; with why they may not, if so. */
  async forEditing(user: CurrentUser, slug: string): Promise<{ item: ExchangeItem; revision: ExchangeRevision; published: ExchangeRevision | null }> {
    const item = await this.authorsItem(user, slug);
    const ids = [...new Set([item.latestRevisionId, item.publishedRevisionId].filter((id): id is number => id !== null))];
    const rows = await this.revisions.find({ where: { id: In(ids), itemId: item.id } });
    const revision = rows.find((r) => r.id === item.latestRevisionId);
    if (!revision) throw new NotFound(NO_SUCH_ITEM);
    return { item, revision, published: rows.find((r) => r.id === item.publishedRevisionId) ?? null };
  }

  /**
   * Saves the edit form: changes the latest revision in place when it is a draft or was returned, or starts the next
   * revision when the latest is the published one. A form that changes nothing saves nothing (no new revision, no
   * new date). A tool's form may carry a new file: the next version.
   */
  async update(user: CurrentUser, slug: string, body: Record<string, unknown>, upload: PendingUpload | null): Promise<{ item: ExchangeItem; outcome: SaveOutcome }> {
    const { item, revision } = await this.forEditing(user, slug);
    this.assertChangeable(item, revision);
    await this.assertStillMember(user, item);
    const errors: FieldErrors = {};
    const input = await this.collect(errors, () => this.forms.parse(item.kind, body, { organisations: null, existing: revision, organisationId: item.organisationId }));
    const newFile = item.kind === 'tool' && upload?.file?.filename ? upload.file : null;
    const fileKind = newFile ? this.collectSync(errors, () => claimedKind(newFile, TOOL_FILE_RULE)) : null;
    if (Object.keys(errors).length || !input) throw new ValidationFailed(errors);
    const stored = newFile ? await this.store(item.id, upload!, fileKind!, TOOL_FILE_RULE) : null;
    try {
      const { outcome, orphans } = await this.uow.run(async (tx) => {
        const { item: locked, latest } = await this.lockLatest(tx, item.id);
        this.assertChangeable(locked, latest);
        const inPlace = IN_PLACE.includes(latest.status);
        const changeNote = latest.number > 1 || !inPlace ? input.changeNote : null;
        const unchanged = sameContent(contentOf(latest), input.content) && !stored && (!inPlace || (latest.changeNote ?? null) === changeNote);
        if (unchanged) return { outcome: 'unchanged' as const, orphans: [] as string[] };
        const now = this.clock.now();
        const target = inPlace ? latest : await this.startNextRevision(tx, locked, latest, user.id, now);
        await tx.getRepository(ExchangeRevision).update({ id: target.id }, { ...input.content, changeNote, updatedAt: now });
        const orphans = stored ? await this.replaceToolFile(tx, locked, target, stored, user.id) : [];
        await tx.getRepository(ExchangeItem).update({ id: locked.id }, { updatedAt: now });
        return { outcome: inPlace ? ('saved' as const) : ('revision' as const), orphans };
      });
      await this.removeStored(orphans);
      return { item, outcome };
    } catch (err) {
      if (stored) await this.storage.remove(stored.key);
      throw err;
    }
  }

  /**
   * Submits the latest revision for review: every field the kind requires must be filled in (a draft may lack them,
   * a submission may not). Submitting what is already waiting for review changes nothing.
   */
  async submit(user: CurrentUser, slug: string): Promise<ExchangeItem> {
    const { item, revision } = await this.forEditing(user, slug);
    if (item.status === 'withdrawn') throw new Conflict(WITHDRAWN_MESSAGE);
    if (revision.status === 'submitted') return item;
    if (!IN_PLACE.includes(revision.status)) throw new Conflict(`There is nothing new to submit: this ${kindLower(item.kind)} is published as it is. Change it first, and submit the change.`);
    await this.assertStillMember(user, item);
    const missing = missingForSubmission(item.kind, revision);
    if (Object.keys(missing).length) throw new ValidationFailed(missing, `Before you submit this ${kindLower(item.kind)}, fill in what it still lacks`);
    await this.uow.run(async (tx) => {
      const { item: locked, latest } = await this.lockLatest(tx, item.id);
      if (locked.status === 'withdrawn') throw new Conflict(WITHDRAWN_MESSAGE);
      if (latest.status === 'submitted') return;
      if (latest.id !== revision.id || !IN_PLACE.includes(latest.status)) throw new Conflict('It changed while you were submitting it. Check it and submit it again.');
      const now = this.clock.now();
      await tx.getRepository(ExchangeRevision).update({ id: latest.id }, { status: 'submitted', submittedAt: now, updatedAt: now });
      await tx.getRepository(ExchangeItem).update({ id: locked.id }, { ...(locked.publishedRevisionId === null ? { status: 'submitted' as const } : {}), updatedAt: now });
    });
    return item;
  }

  /**
   * Withdraws the item (its author): nobody else sees it from then on. A revision waiting for review leaves the queue
   * (back to a draft), so nothing withdrawn can be published by mistake. Withdrawing twice is once.
   */
  async withdraw(user: CurrentUser, slug: string): Promise<ExchangeItem> {
    const item = await this.authorsItem(user, slug);
    if (item.status === 'withdrawn') return item;
    await this.uow.run(async (tx) => {
      const { item: locked, latest } = await this.lockLatest(tx, item.id);
      if (locked.status === 'withdrawn') return;
      const now = this.clock.now();
      if (latest.status === 'submitted') await tx.getRepository(ExchangeRevision).update({ id: latest.id }, { status: 'draft', submittedAt: null, updatedAt: now });
      await tx.getRepository(ExchangeItem).update({ id: locked.id }, { status: 'withdrawn', updatedAt: now });
    });
    if (item.status === 'published') this.published.changed();
    return { ...item, status: 'withdrawn' };
  }

  // ---------------------------------------------------------------- attachments

  /** Adds one attachment to the latest revision (starting the next revision when the latest is published). */
  async addAttachment(user: CurrentUser, slug: string, upload: PendingUpload): Promise<ExchangeFile> {
    const { item, revision } = await this.forEditing(user, slug);
    if (item.kind === 'tool') throw new NotFound('Tools have no attachments: upload a new version of the tool’s file instead');
    this.assertChangeable(item, revision);
    await this.assertStillMember(user, item);
    const kind = claimedKind(upload.file, ATTACHMENT_RULE);
    if ((await this.attachmentCount(revision.id)) >= LIMITS.attachments) throw new ValidationFailed({ file: `A ${kindLower(item.kind)} can have at most ${LIMITS.attachments} attachments. Remove one first.` });
    const stored = await this.store(item.id, upload, kind, ATTACHMENT_RULE);
    try {
      return await this.uow.run(async (tx) => {
        const { item: locked, latest } = await this.lockLatest(tx, item.id);
        this.assertChangeable(locked, latest);
        const now = this.clock.now();
        const target = IN_PLACE.includes(latest.status) ? latest : await this.startNextRevision(tx, locked, latest, user.id, now);
        const links = tx.getRepository(ExchangeRevisionFile);
        const existing = await links.find({ where: { revisionId: target.id }, select: { id: true, position: true } });
        if (existing.length >= LIMITS.attachments) throw new ValidationFailed({ file: `A ${kindLower(item.kind)} can have at most ${LIMITS.attachments} attachments. Remove one first.` });
        const file = await this.insertFile(tx, item.id, 'attachment', stored, user.id, null);
        await links.insert({ revisionId: target.id, fileId: file.id, position: Math.max(0, ...existing.map((e) => e.position)) + 1 });
        await tx.getRepository(ExchangeRevision).update({ id: target.id }, { updatedAt: now });
        await tx.getRepository(ExchangeItem).update({ id: locked.id }, { updatedAt: now });
        return file;
      });
    } catch (err) {
      await this.storage.remove(stored.key);
      throw err;
    }
  }

  /** Removes an attachment from the latest revision; its stored file goes once no revision names it. */
  async removeAttachment(user: CurrentUser, slug: string, fileId: number): Promise<void> {
    const { item, revision } = await this.forEditing(user, slug);
    this.assertChangeable(item, revision);
    await this.assertStillMember(user, item);
    const orphans = await this.uow.run(async (tx) => {
      const { item: locked, latest } = await this.lockLatest(tx, item.id);
      this.assertChangeable(locked, latest);
      const links = tx.getRepository(ExchangeRevisionFile);
      if (!(await links.exists({ where: { revisionId: latest.id, fileId } }))) throw new NotFound('That file is not attached to it');
      const now = this.clock.now();
      const target = IN_PLACE.includes(latest.status) ? latest : await this.startNextRevision(tx, locked, latest, user.id, now);
      await links.delete({ revisionId: target.id, fileId });
      await tx.getRepository(ExchangeRevision).update({ id: target.id }, { updatedAt: now });
      await tx.getRepository(ExchangeItem).update({ id: locked.id }, { updatedAt: now });
      return this.deleteUnusedFiles(tx, locked.id, [fileId]);
    });
    await this.removeStored(orphans);
  }

  // ---------------------------------------------------------------- lists

  /** The author's contributions, most recently changed first, with their latest revision's state. */
  async mine(userId: number): Promise<MyContribution[]> {
    const items = await this.items.find({
      where: { authorId: userId },
      select: { id: true, slug: true, kind: true, status: true, latestRevisionId: true, reviewDueAt: true, updatedAt: true, helpfulCount: true, adoptionCount: true, saveCount: true, downloadCount: true },
      order: { updatedAt: 'DESC', id: 'DESC' },
      take: 500,
    });
    const latestIds = items.map((i) => i.latestRevisionId).filter((id): id is number => id !== null);
    const revisions = latestIds.length ? await this.revisions.find({ where: { id: In(latestIds) }, select: { id: true, title: true, number: true, status: true } }) : [];
    const byId = new Map(revisions.map((r) => [r.id, r]));
    return items
      .filter((i) => i.latestRevisionId !== null && byId.has(i.latestRevisionId))
      .map((i) => {
        const latest = byId.get(i.latestRevisionId!)!;
        return {
          slug: i.slug,
          kind: i.kind,
          title: latest.title,
          status: i.status,
          latest: { number: latest.number, status: latest.status },
          reviewDueAt: i.reviewDueAt,
          updatedAt: i.updatedAt,
          counts: { helpful: i.helpfulCount, adoptions: i.adoptionCount, saves: i.saveCount, downloads: i.downloadCount },
        };
      });
  }

  // ---------------------------------------------------------------- the parts

  /** The item, for its author; NotFound for anyone who may not see it, Forbidden for those who may but did not write it. */
  async authorsItem(user: CurrentUser, slug: string): Promise<ExchangeItem> {
    const item = typeof slug === 'string' && /^[a-z0-9-]{1,120}$/.test(slug) ? await this.items.findOne({ where: { slug } }) : null;
    if (!item) throw new NotFound(NO_SUCH_ITEM);
    if (item.authorId === user.id) return item;
    if (await this.access.maySeeUnpublished(user, item)) throw new Forbidden(onlyTheAuthor(item.kind));
    if (item.status === 'published') throw new Forbidden(onlyTheAuthor(item.kind));
    throw new NotFound(NO_SUCH_ITEM);
  }

  private assertChangeable(item: ExchangeItem, latest: ExchangeRevision): void {
    if (item.status === 'withdrawn') throw new Conflict(WITHDRAWN_MESSAGE);
    if (latest.status === 'submitted') throw new Conflict(WAITING_FOR_REVIEW_MESSAGE);
  }

  /** What is shared is the organisation's: someone who has left it no longer changes what it shares. */
  private async assertStillMember(user: CurrentUser, item: ExchangeItem): Promise<void> {
    const organisations = await this.access.sharingOrganisations(user.id);
    if (!organisations.some((o) => o.id === item.organisationId)) {
      throw new Forbidden(`You are no longer an active member of the organisation that shares this ${kindLower(item.kind)}, so you cannot change or submit it. You can still withdraw it.`);
    }
  }

  /** Locks the item row (so changes to one item take turns) and reads its latest revision. */
  private async lockLatest(tx: EntityManager, itemId: number): Promise<{ item: ExchangeItem; latest: ExchangeRevision }> {
    const item = await this.uow.lockForUpdate(tx, ExchangeItem, { id: itemId });
    if (!item || item.latestRevisionId === null) throw new NotFound(NO_SUCH_ITEM);
    const latest = await tx.getRepository(ExchangeRevision).findOneByOrFail({ id: item.latestRevisionId });
    return { item, latest };
  }

  private async insertRevision(tx: EntityManager, itemId: number, number: number, authorId: number, content: RevisionContent, changeNote: string | null, toolFileId: number | null, now: Date): Promise<ExchangeRevision> {
    const revisions = tx.getRepository(ExchangeRevision);
    const result = await revisions.insert({
      itemId,
      number,
      status: 'draft',
      authorId,
      ...content,
      toolFileId,
      changeNote,
      submittedAt: null,
      decidedAt: null,
      decidedById: null,
      feedback: null,
      checklist: null,
      createdAt: now,
      updatedAt: now,
    });
    return revisions.findOneByOrFail({ id: Number(result.identifiers[0].id) });
  }

  /** Revision n+1, a copy of the published one (its attachments too), now the item's latest; the item stays published. */
  private async startNextRevision(tx: EntityManager, item: ExchangeItem, from: ExchangeRevision, authorId: number, now: Date): Promise<ExchangeRevision> {
    const last = await tx.getRepository(ExchangeRevision).createQueryBuilder('r').select('MAX(r.number)', 'n').where('r.itemId = :itemId', { itemId: item.id }).getRawOne<{ n: number | string | null }>();
    const next = await this.insertRevision(tx, item.id, Number(last?.n ?? from.number) + 1, authorId, contentOf(from), null, from.toolFileId, now);
    const links = tx.getRepository(ExchangeRevisionFile);
    const attached = await links.find({ where: { revisionId: from.id }, order: { position: 'ASC', id: 'ASC' } });
    if (attached.length) await links.insert(attached.map((a) => ({ revisionId: next.id, fileId: a.fileId, position: a.position })));
    await tx.getRepository(ExchangeItem).update({ id: item.id }, { latestRevisionId: next.id, updatedAt: now });
    return next;
  }

  /**
   * Makes the stored upload the revision's tool file, the next version. A file this revision had uploaded itself
   * (never published, named by no other revision) is replaced rather than kept, and its version number reused, so
   * the versions are the ones people could download.
   */
  private async replaceToolFile(tx: EntityManager, item: ExchangeItem, revision: ExchangeRevision, stored: StoredUpload, userId: number): Promise<string[]> {
    const previous = revision.toolFileId;
    await tx.getRepository(ExchangeRevision).update({ id: revision.id }, { toolFileId: null });
    const orphans = previous ? await this.deleteUnusedFiles(tx, item.id, [previous]) : [];
    const last = await tx.getRepository(ExchangeFile).createQueryBuilder('f').select('MAX(f.version)', 'v').where('f.itemId = :itemId AND f.role = :role', { itemId: item.id, role: 'tool' }).getRawOne<{ v: number | string | null }>();
    const file = await this.insertFile(tx, item.id, 'tool', stored, userId, Number(last?.v ?? 0) + 1);
    await tx.getRepository(ExchangeRevision).update({ id: revision.id }, { toolFileId: file.id });
    return orphans;
  }

  /** Deletes those of the files that no revision names any more (as an attachment or its tool file); their storage keys. */
  private async deleteUnusedFiles(tx: EntityManager, itemId: number, fileIds: number[]): Promise<string[]> {
    if (!fileIds.length) return [];
    const linked = await tx.getRepository(ExchangeRevisionFile).find({ where: { fileId: In(fileIds) }, select: { id: true, fileId: true } });
    const asTool = await tx.getRepository(ExchangeRevision).find({ where: { itemId, toolFileId: In(fileIds) }, select: { id: true, toolFileId: true } });
    const used = new Set([...linked.map((l) => l.fileId), ...asTool.map((r) => r.toolFileId)]);
    const unused = fileIds.filter((id) => !used.has(id));
    if (!unused.length) return [];
    const files = await tx.getRepository(ExchangeFile).find({ where: { id: In(unused), itemId }, select: { id: true, storageKey: true } });
    if (files.length) await tx.getRepository(ExchangeFile).delete({ id: In(files.map((f) => f.id)) });
    return files.map((f) => f.storageKey);
  }

  private async insertFile(tx: EntityManager, itemId: number, role: ExchangeFile['role'], stored: StoredUpload, userId: number, version: number | null): Promise<ExchangeFile> {
    const files = tx.getRepository(ExchangeFile);
    const result = await files.insert({
      itemId,
      role,
      version,
      storageKey: stored.key,
      fileName: stored.fileName,
      contentType: stored.kind.mimeType,
      bytes: stored.bytes,
      sha256: stored.sha256,
      uploadedById: userId,
      downloadCount: 0,
      createdAt: this.clock.now(),
    });
    return files.findOneByOrFail({ id: Number(result.identifiers[0].id) });
  }

  /** Streams the upload into storage under exchange/{itemId}/{uuid}.{ext}, size-limited and content-checked. */
  private async store(itemId: number, upload: PendingUpload, kind: FileKind, rule: UploadRule): Promise<StoredUpload> {
    const key = `exchange/${itemId}/${randomUUID()}.${kind.extension}`;
    const stored = await storeUpload(this.storage, upload.file!, key, kind, rule, this.config.uploads.maxBytes);
    return { key, kind, fileName: safeFileName(upload.file!.filename, kind.extension), bytes: stored.bytes, sha256: stored.sha256 };
  }

  private async attachmentCount(revisionId: number): Promise<number> {
    return this.revisions.manager.getRepository(ExchangeRevisionFile).countBy({ revisionId });
  }

  /** Removes stored files after the change that let go of them has committed; a failure only leaves a file behind. */
  async removeStored(keys: string[]): Promise<void> {
    for (const key of keys) await this.storage.remove(key).catch((err: unknown) => this.logger.warn(`Stored file ${key} not removed: ${String(err)}`));
  }

  private async collect<T>(errors: FieldErrors, work: () => Promise<T>): Promise<T | null> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'invalid' && Object.keys(err.fieldErrors).length) {
        Object.assign(errors, err.fieldErrors);
        return null;
      }
      throw err;
    }
  }

  private collectSync<T>(errors: FieldErrors, work: () => T): T | null {
    try {
      return work();
    } catch (err) {
      if (err instanceof DomainError && err.kind === 'invalid' && Object.keys(err.fieldErrors).length) {
        Object.assign(errors, err.fieldErrors);
        return null;
      }
      throw err;
    }
  }
}

/** A slug from the title and a random part, never one of the pages' words. */
export function newSlug(title: string, kind: ExchangeKind): string {
  const base = slugify(title, 100) || slugify(EXCHANGE_KINDS[kind], 20);
  const slug = `${base}-${randomBytes(4).toString('hex').slice(0, 6)}`;
  return RESERVED_SLUGS.has(slug) ? `${kind}-${slug}` : slug;
}


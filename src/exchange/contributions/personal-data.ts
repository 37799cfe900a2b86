import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { PersonalDataRegistry } from '../../common/personal-data';
import { OrganisationDirectory } from '../../organisations/organisation-directory.service';
import { FileStorage } from '../../storage/file-storage';
import { ExchangeFile } from '../entities/exchange-file.entity';
import { ExchangeItem } from '../entities/exchange-item.entity';
import { ExchangeRevisionFile } from '../entities/exchange-revision-file.entity';
import { ExchangeRevision } from '../entities/exchange-revision.entity';
import { revisionLists } from '../search-projection';
import { keyFiguresOf } from './contribution-rules';

const UNPUBLISHED = ['draft', 'submitted', 'returned'];

/**
 * The exchange contributions a person wrote: their items, every revision of them (what they wrote, the moderators'
 * feedback on it) and the files they uploaded. Erasing deletes what was never published (with its stored files,
 * once the deletion has committed) and an unpublished revision they were writing of a published item (nobody could
 * finish it); what was published stays, as its organisation's, with the author's name taken off (authorId null).
 */
@Injectable()
export class ContributionsPersonalData implements OnModuleInit {
  private readonly logger = new Logger('ExchangeContributions');

  constructor(
    private readonly registry: PersonalDataRegistry,
    private readonly directory: OrganisationDirectory,
    private readonly storage: FileStorage,
    @InjectRepository(ExchangeItem) private readonly items: Repository<ExchangeItem>,
    @InjectRepository(ExchangeRevision) private readonly revisions: Repository<ExchangeRevision>,
    @InjectRepository(ExchangeFile) private readonly files: Repository<ExchangeFile>,
  ) {}

  onModuleInit(): void {
    this.registry.register({
      name: 'exchangeContributions',
      description: 'The case studies, tools and hacks you shared on the exchange: every revision you wrote, the moderators’ feedback on them, and the files you uploaded',
      export: (userId) => this.export(userId),
      erase: async (tx, userId) => {
        const items = await tx.getRepository(ExchangeItem).find({ where: { authorId: userId }, select: { id: true, publishedRevisionId: true, firstPublishedAt: true, latestRevisionId: true } });
        const neverPublished = items.filter((i) => i.publishedRevisionId === null && i.firstPublishedAt === null).map((i) => i.id);
        const kept = items.filter((i) => !neverPublished.includes(i.id));
        const keys: string[] = [];
        if (neverPublished.length) {
          const stored = await tx.getRepository(ExchangeFile).find({ where: { itemId: In(neverPublished) }, select: { id: true, storageKey: true } });
          keys.push(...stored.map((f) => f.storageKey));
          await tx.getRepository(ExchangeItem).delete({ id: In(neverPublished) });
        }
        // A newer revision they had not got published: nobody else may finish it, so it goes with its own files.
        let unfinished = 0;
        for (const item of kept) {
          if (item.latestRevisionId === null || item.latestRevisionId === item.publishedRevisionId || item.publishedRevisionId === null) continue;
          const latest = await tx.getRepository(ExchangeRevision).findOne({ where: { id: item.latestRevisionId }, select: { id: true, status: true, toolFileId: true } });
          if (!latest || !UNPUBLISHED.includes(latest.status)) continue;
          const linked = await tx.getRepository(ExchangeRevisionFile).find({ where: { revisionId: latest.id }, select: { id: true, fileId: true } });
          const candidates = [...new Set([...linked.map((l) => l.fileId), ...(latest.toolFileId ? [latest.toolFileId] : [])])];
          await tx.getRepository(ExchangeItem).update({ id: item.id }, { latestRevisionId: item.publishedRevisionId });
          await tx.getRepository(ExchangeRevision).delete({ id: latest.id });
          unfinished++;
          if (!candidates.length) continue;
          const stillLinked = await tx.getRepository(ExchangeRevisionFile).find({ where: { fileId: In(candidates) }, select: { id: true, fileId: true } });
          const asTool = await tx.getRepository(ExchangeRevision).find({ where: { itemId: item.id, toolFileId: In(candidates) }, select: { id: true, toolFileId: true } });
          const used = new Set([...stillLinked.map((l) => l.fileId), ...asTool.map((r) => r.toolFileId)]);
          const unused = candidates.filter((id) => !used.has(id));
          if (!unused.length) continue;
          const stored = await tx.getRepository(ExchangeFile).find({ where: { id: In(unused) }, select: { id: true, storageKey: true } });
          keys.push(...stored.map((f) => f.storageKey));
          await tx.getRepository(ExchangeFile).delete({ id: In(unused) });
        }
        const anonymisedItems = (await tx.getRepository(ExchangeItem).update({ authorId: userId }, { authorId: null })).affected ?? 0;
        const anonymisedRevisions = (await tx.getRepository(ExchangeRevision).update({ authorId: userId }, { authorId: null })).affected ?? 0;
        await tx.getRepository(ExchangeFile).update({ uploadedById: userId }, { uploadedById: null });
        return {
          counts: { exchangeItemsDeleted: neverPublished.length, exchangeRevisionsDeleted: unfinished, exchangeItemsKeptForTheirOrganisation: anonymisedItems, exchangeRevisionsAnonymised: anonymisedRevisions },
          afterCommit: async () => {
            for (const key of keys) await this.storage.remove(key).catch((err: unknown) => this.logger.warn(`Stored file ${key} not removed after an account deletion: ${String(err)}`));
          },
        };
      },
    });
  }

  private async export(userId: number) {
    const items = await this.items.find({ where: { authorId: userId }, order: { id: 'ASC' } });
    const itemIds = items.map((i) => i.id);
    const [revisions, files, organisations] = await Promise.all([
      this.revisions.find({ where: [{ authorId: userId }, ...(itemIds.length ? [{ itemId: In(itemIds) }] : [])], order: { itemId: 'ASC', number: 'ASC' } }),
      this.files.find({ where: [{ uploadedById: userId }, ...(itemIds.length ? [{ itemId: In(itemIds) }] : [])], order: { id: 'ASC' } }),
      this.directory.describe(items.map((i) => i.organisationId)),
    ]);
    const otherItemIds = [...new Set([...revisions.map((r) => r.itemId), ...files.map((f) => f.itemId)])].filter((id) => !itemIds.includes(id));
    const others = otherItemIds.length ? await this.items.find({ where: { id: In(otherItemIds) }, select: { id: true, slug: true, kind: true, status: true, organisationId: true, createdAt: true, firstPublishedAt: true } }) : [];
    return [...items, ...others].map((item) => ({
      slug: item.slug,
      kind: item.kind,
      status: item.status,
      author: item.authorId === userId,
      organisation: organisations.has(item.organisationId) ? { id: item.organisationId, name: organisations.get(item.organisationId)!.name } : { id: item.organisationId },
      createdAt: item.createdAt,
      firstPublishedAt: item.firstPublishedAt,
      revisions: revisions
        .filter((r) => r.itemId === item.id)
        .map((r) => {
          const lists = revisionLists(r);
          return {
            number: r.number,
            status: r.status,
            title: r.title,
            summary: r.summary,
            careSetting: r.careSetting,
            sections: { context: r.context, actions: r.actions, results: r.results, lessons: r.lessons, differently: r.differently, purpose: r.purpose, howToUse: r.howToUse, tip: r.tip },
            keyFigures: keyFiguresOf(r.keyFigures),
            toolType: r.toolType,
            licence: r.licence,
            topicIds: lists.topicIds,
            systemIds: lists.systemIds,
            partnerOrganisationIds: lists.partnerOrganisationIds,
            changeNote: r.changeNote,
            moderatorFeedback: r.feedback,
            submittedAt: r.submittedAt,
            decidedAt: r.decidedAt,
            createdAt: r.createdAt,
            updatedAt: r.updatedAt,
          };
        }),
      files: files
        .filter((f) => f.itemId === item.id && (f.uploadedById === userId || item.authorId === userId))
        .map((f) => ({ id: f.id, role: f.role, version: f.version, fileName: f.fileName, contentType: f.contentType, bytes: f.bytes, sha256: f.sha256, uploadedAt: f.createdAt })),
    }));
  }
}

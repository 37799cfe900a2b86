import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import type { CurrentUser } from '../../accounts/identity';
import { NotFound } from '../../common/errors';
import { UnitOfWork } from '../../database/unit-of-work';
import { ExchangeFile } from '../entities/exchange-file.entity';
import { ExchangeItem } from '../entities/exchange-item.entity';
import { ExchangeRevisionFile } from '../entities/exchange-revision-file.entity';
import { ExchangeRevision } from '../entities/exchange-revision.entity';
import { ContributionsReader } from './contributions.reader';

export const NO_SUCH_FILE = 'There is no such file for this item';

/**
 * Downloads of an item's files. The public may download the files of the published revision (its attachments, and a
 * tool's file with every earlier version that was published); files of work not yet published only those who may see
 * it. A download of a public file counts, on the file and on the item, in one transaction with UPDATE … + 1, so
 * downloads at the same moment are all counted.
 */
@Injectable()
export class ExchangeDownloads {
  constructor(
    private readonly reader: ContributionsReader,
    private readonly uow: UnitOfWork,
    @InjectRepository(ExchangeFile) private readonly files: Repository<ExchangeFile>,
    @InjectRepository(ExchangeRevisionFile) private readonly revisionFiles: Repository<ExchangeRevisionFile>,
    @InjectRepository(ExchangeRevision) private readonly revisions: Repository<ExchangeRevision>,
  ) {}

  /** The file, if the viewer may download it; `isPublic`: it belongs to what the public sees (so it counts). */
  async fileFor(viewer: CurrentUser | null, slug: string, fileId: number): Promise<{ item: ExchangeItem; file: ExchangeFile; isPublic: boolean }> {
    const { item, privileged } = await this.reader.visible(viewer, slug);
    const file = Number.isSafeInteger(fileId) && fileId > 0 ? await this.files.findOne({ where: { id: fileId, itemId: item.id } }) : null;
    if (!file) throw new NotFound(NO_SUCH_FILE);
    const isPublic = item.status === 'published' && (await this.isPublic(item, file));
    if (!isPublic && !privileged) throw new NotFound(NO_SUCH_FILE);
    return { item, file, isPublic };
  }

  /** Counts one download of the file, on the file and on its item. */
  async count(file: Pick<ExchangeFile, 'id' | 'itemId'>): Promise<void> {
    await this.uow.run(async (tx) => {
      await tx.getRepository(ExchangeFile).increment({ id: file.id }, 'downloadCount', 1);
      await tx.getRepository(ExchangeItem).increment({ id: file.itemId }, 'downloadCount', 1);
    });
  }

  private async isPublic(item: ExchangeItem, file: ExchangeFile): Promise<boolean> {
    if (!item.publishedRevisionId) return false;
    if (file.role === 'attachment') return this.revisionFiles.exists({ where: { revisionId: item.publishedRevisionId, fileId: file.id } });
    return this.revisions.exists({ where: { itemId: item.id, toolFileId: file.id, status: In(['published', 'superseded']) } });
  }
}

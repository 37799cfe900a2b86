import { Controller, Get, Param, ParseIntPipe, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../accounts/identity';
import { NotFound } from '../../common/errors';
import { safeFileName } from '../../catalogue/authoring/uploads';
import { FileStorage } from '../../storage/file-storage';
import { parseRange, serveFile } from '../../storage/serve-file';
import { ContributionsReader } from './contributions.reader';
import { ExchangeDownloads, NO_SUCH_FILE } from './downloads';
import { SignalsService } from '../signals/signals.service';
import { RelatedService } from '../search/related.service';
import { PeerDirectory } from '../peers/peer-directory.service';
import type { CurrentUser } from '../../accounts/identity';
import type { ItemDetail } from './contributions.reader';
import { itemPageView } from './item-view';

const fileId = new ParseIntPipe({ exceptionFactory: () => new NotFound(NO_SUCH_FILE) });

/** The success banners a redirect after a change asks for (`?notice=…`). */
export const ITEM_NOTICES: Record<string, string> = {
  created: 'Your draft has been saved. Check it, add anything missing, then submit it for review.',
  saved: 'Your changes have been saved.',
  unchanged: 'Nothing had changed, so nothing was saved.',
  revision: 'Your changes have been saved as a new revision. The published revision stays up until a moderator publishes this one.',
  submitted: 'Submitted for review. A moderator will check it and publish it or send it back with feedback.',
  withdrawn: 'It has been withdrawn: nobody else can see it any more.',
  'review-confirmed': 'Thank you: it is marked as still current. Its author will be asked again in 24 months.',
};

/**
 * An exchange item's page and its files: the published revision for everyone (anonymous visitors too), laid out as the
 * NHS writes case studies; for those who may see unpublished work, its state and the latest revision
 * (?revision=latest). Anything the viewer may not see is the same 404 as a slug that does not exist.
 */
@ApiExcludeController()
@Controller('exchange')
export class ItemPagesController {
  constructor(
    private readonly reader: ContributionsReader,
    private readonly downloads: ExchangeDownloads,
    private readonly storage: FileStorage,
    private readonly signals: SignalsService,
    private readonly related: RelatedService,
    private readonly peers: PeerDirectory,
  ) {}

  @Public()
  @Get(':slug')
  async item(@Param('slug') slug: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query('revision') revision?: string, @Query('notice') notice?: string, @Query('signal') signal?: string) {
    const viewer = request.identity?.user ?? null;
    const detail = await this.reader.detail(viewer, slug, { latest: revision === 'latest' });
    return reply.view('exchange/item', {
      ...itemPageView(detail),
      notice: typeof notice === 'string' ? ITEM_NOTICES[notice] : undefined,
      // The peer signals (signals part): counts, the viewer's own, and who adopted it; published items only.
      signals: detail.item.status === 'published' ? await this.signals.panel(detail.item, viewer, typeof signal === 'string' ? signal : null) : null,
      // Courses and webinars on its topics (search part); published items only.
      related: detail.item.status === 'published' ? await this.related.panelFor(detail.item.id) : null,
      sharedBy: await this.sharedBy(viewer, detail),
      moderator: moderatorActions(viewer, detail),
    });
  }

  /**
   * Who shared it, for signed-in members (peers are personal data, as on /peers): their name and job role, and their
   * peer profile to contact them through when they listed one. Nothing once their account is gone.
   */
  private async sharedBy(viewer: CurrentUser | null, detail: ItemDetail) {
    const authorId = detail.item.authorId;
    if (!viewer || !authorId || detail.isAuthor || detail.item.status !== 'published') return null;
    const profile = await this.peers.listed(authorId);
    if (profile) return { name: profile.name, jobRole: profile.jobRole, profileHref: `/peers/${authorId}`, openToContact: profile.openToContact };
    const person = (await this.peers.people([authorId])).get(authorId);
    return person && !person.deactivated ? { name: person.name, jobRole: person.jobRole, profileHref: null, openToContact: false } : null;
  }

  @Public()
  @Get(':slug/files/:fileId')
  async file(@Param('slug') slug: string, @Param('fileId', fileId) id: number, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const { file, isPublic } = await this.downloads.fileFor(request.identity?.user ?? null, slug, id);
    const extension = file.fileName.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1] ?? 'bin';
    // A download counts once: a resumed download (a range past the first byte) is the same download going on.
    const range = parseRange(request.headers.range, file.bytes);
    if (isPublic && (range === null || (range !== 'unsatisfiable' && range.start === 0)) && (await this.storage.size(file.storageKey)) !== null) await this.downloads.count(file);
    return serveFile(this.storage, file.storageKey, request, reply, { contentType: file.contentType, downloadName: safeFileName(file.fileName, extension) });
  }
}

/** A moderator's ways in from the item page: the revision waiting for them, and taking the item down. */
function moderatorActions(viewer: CurrentUser | null, detail: ItemDetail) {
  if (!viewer || (viewer.role !== 'moderator' && viewer.role !== 'admin')) return null;
  const latest = detail.newer ?? detail.revision;
  return {
    reviewHref: latest.status === 'submitted' ? `/moderation/exchange/${latest.id}` : null,
    withdrawHref: detail.item.status !== 'withdrawn' ? `/moderation/exchange/items/${detail.item.id}/withdraw` : null,
  };
}

import { Controller, Get, Param, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public } from '../../accounts/identity';
import type { OrganisationOption } from '../../common/organisation-joining';
import { ApiOptionalBearer, ApiProblems } from '../../common/openapi';
import { ContributionsReader, type FileView, type ItemDetail } from './contributions.reader';
import { ExchangeItemResponse } from './contributions.responses';
import { sectionsOf } from './item-view';

const organisationOf = (o: OrganisationOption) => ({ id: o.id, name: o.name, type: o.type, region: o.region });
const fileOf = (f: FileView) => ({ id: f.id, fileName: f.fileName, bytes: f.bytes, contentType: f.contentType, url: f.url });

/** An item as the API gives it: the same revision and the same rules as its page. */
export function itemResponse(detail: ItemDetail): ExchangeItemResponse {
  const { item, revision } = detail;
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    slug: item.slug,
    kind: item.kind,
    status: item.status,
    revision: revision.number,
    revisionStatus: revision.status,
    title: revision.title,
    summary: revision.summary,
    organisation: detail.organisation ? organisationOf(detail.organisation) : { id: item.organisationId, name: '', type: 'other', region: null },
    partnerOrganisations: detail.partners.map(organisationOf),
    careSetting: revision.careSetting,
    sections: sectionsOf(item.kind, revision)
      .filter((s) => s.markdown.trim())
      .map(({ field, heading, markdown, html }) => ({ field, heading, markdown, html })),
    keyFigures: detail.keyFigures,
    systems: detail.systems.map((s) => ({ slug: s.slug, name: s.name, supplier: s.supplier })),
    topics: detail.topics.map((t) => ({ slug: t.slug, name: t.name })),
    files: item.kind === 'tool' ? (detail.toolFile ? [fileOf(detail.toolFile)] : []) : detail.attachments.map(fileOf),
    tool:
      item.kind === 'tool'
        ? {
            type: revision.toolType,
            licence: revision.licence,
            versions: detail.versions.map((v) => ({ ...fileOf(v), version: v.version ?? 0, publishedAt: iso(v.publishedAt), current: v.id === detail.toolFile?.id })),
          }
        : null,
    publishedAt: detail.showingUnpublished ? null : iso(item.publishedAt),
    reviewDueAt: iso(item.reviewDueAt),
    mayBeOutOfDate: detail.mayBeOutOfDate,
    counts: { helpful: item.helpfulCount, adoptions: item.adoptionCount, saves: item.saveCount, downloads: item.downloadCount },
  };
}

@ApiTags('exchange')
@Controller('api/v1/exchange')
export class ContributionsApiController {
  constructor(private readonly reader: ContributionsReader) {}

  @Public()
  @Get(':slug')
  @ApiOptionalBearer()
  @ApiOperation({
    operationId: 'getExchangeItem',
    summary: 'One published case study, tool or hack: its organisations, sections (Markdown and HTML), key figures, systems, topics, files, tool versions, review date and counts',
    description:
      'Anyone may read a published item. An item that is not published (a draft, one under review or returned, one withdrawn) answers 404, as a slug that does not exist, except to its author, the active managers of its organisation, moderators and administrators, who get its latest revision.',
  })
  @ApiOkResponse({ type: ExchangeItemResponse })
  @ApiProblems({ 404: 'No item has that slug, or it is not published and the caller may not see it' })
  async item(@Param('slug') slug: string, @Req() request: FastifyRequest): Promise<ExchangeItemResponse> {
    return itemResponse(await this.reader.detail(request.identity?.user ?? null, slug));
  }
}

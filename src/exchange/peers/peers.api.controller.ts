import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/openapi';
import { PEERS_PAGE_SIZE, PeerDirectory, type PeerCard } from './peer-directory.service';
import { PeerSearchQueryDto } from './peers.dto';
import { PeerListResponse, type PeerResponse } from './peers.responses';

/** A card as the API gives it: the fields the issue names, and never an address. */
export function peerResponse(card: PeerCard): PeerResponse {
  return {
    userId: card.userId,
    name: card.name,
    jobRole: card.jobRole,
    organisations: card.organisations.map((o) => ({ id: o.id, name: o.name, type: o.type, region: o.region })),
    bio: card.bio,
    systems: card.systems.map((s) => ({ slug: s.slug, name: s.name, supplier: s.supplier })),
    topics: card.topics.map((t) => ({ slug: t.slug, name: t.name })),
    openToContact: card.openToContact,
  };
}

@ApiTags('peers')
@ApiBearerAuth()
@Controller('api/v1/peers')
export class PeersApiController {
  constructor(private readonly directory: PeerDirectory) {}

  @Get()
  @ApiOperation({
    operationId: 'listPeers',
    summary: `Listed peer profiles ("who else runs X?"), most recently updated first, ${PEERS_PAGE_SIZE} a page: filter by system, topic, the region or type of their organisations, and words of their name or organisation's name. Signed-in callers only (it is personal data); no e-mail addresses`,
  })
  @ApiOkResponse({ type: PeerListResponse })
  @ApiProblems({ 400: 'A filter is not valid (a malformed slug, an unknown region or organisation type, a page out of range)' })
  async list(@Query() query: PeerSearchQueryDto): Promise<PeerListResponse> {
    const result = await this.directory.search(query);
    return { ...result, items: result.items.map(peerResponse) };
  }
}

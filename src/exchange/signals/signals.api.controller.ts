import { Body, Controller, Delete, HttpCode, Param, ParseIntPipe, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { NotFound } from '../../common/errors';
import { ApiProblems } from '../../common/openapi';
import { AdoptionApiDto } from './signals.dto';
import { ExchangeAdoptionResponse, ExchangeHelpfulResponse, ExchangeSaveResponse } from './signals.responses';
import { SignalsService } from './signals.service';

const organisationId = new ParseIntPipe({ exceptionFactory: () => new NotFound('There is no organisation with that id') });
const NOT_PUBLISHED = 'No published case study, tool or hack has that slug';

/**
 * The peer signals for API clients: "helpful", saves and adoptions of published items. Each POST is idempotent (201
 * when it made the signal, 200 when it was already there) and each DELETE too (200 either way); every answer carries
 * the item's counts after the change.
 */
@ApiTags('exchange')
@ApiBearerAuth()
@Controller('api/v1/exchange')
export class SignalsApiController {
  constructor(private readonly signals: SignalsService) {}

  @Post(':slug/helpful')
  @HttpCode(201)
  @ApiOperation({ operationId: 'markExchangeItemHelpful', summary: 'Mark a published item helpful (one per person, idempotent): 201 when marked now, 200 when the caller already had' })
  @ApiCreatedResponse({ type: ExchangeHelpfulResponse, description: 'Marked helpful' })
  @ApiOkResponse({ type: ExchangeHelpfulResponse, description: 'The caller had already marked it helpful: nothing changed' })
  @ApiProblems({ 404: NOT_PUBLISHED, 409: 'The caller is its author' })
  async markHelpful(@SignedInUser() user: CurrentUser, @Param('slug') slug: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<ExchangeHelpfulResponse> {
    const { created, counts, item } = await this.signals.markHelpful(user, slug);
    if (!created) reply.status(200);
    return { slug: item.slug, helpful: true, counts };
  }

  @Delete(':slug/helpful')
  @HttpCode(200)
  @ApiOperation({ operationId: 'unmarkExchangeItemHelpful', summary: 'Take back the caller’s “helpful” (idempotent: 200 whether or not there was one)' })
  @ApiOkResponse({ type: ExchangeHelpfulResponse })
  @ApiProblems({ 404: NOT_PUBLISHED })
  async unmarkHelpful(@SignedInUser() user: CurrentUser, @Param('slug') slug: string): Promise<ExchangeHelpfulResponse> {
    const { counts, item } = await this.signals.unmarkHelpful(user, slug);
    return { slug: item.slug, helpful: false, counts };
  }

  @Post(':slug/saves')
  @HttpCode(201)
  @ApiOperation({ operationId: 'saveExchangeItem', summary: 'Save a published item to the caller’s My saved (idempotent): 201 when saved now, 200 when it already was' })
  @ApiCreatedResponse({ type: ExchangeSaveResponse, description: 'Saved' })
  @ApiOkResponse({ type: ExchangeSaveResponse, description: 'Already saved: nothing changed' })
  @ApiProblems({ 404: NOT_PUBLISHED })
  async save(@SignedInUser() user: CurrentUser, @Param('slug') slug: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<ExchangeSaveResponse> {
    const { created, counts, item } = await this.signals.save(user, slug);
    if (!created) reply.status(200);
    return { slug: item.slug, saved: true, counts };
  }

  @Delete(':slug/saves')
  @HttpCode(200)
  @ApiOperation({ operationId: 'unsaveExchangeItem', summary: 'Remove a published item from the caller’s My saved (idempotent: 200 whether or not it was there)' })
  @ApiOkResponse({ type: ExchangeSaveResponse })
  @ApiProblems({ 404: NOT_PUBLISHED })
  async unsave(@SignedInUser() user: CurrentUser, @Param('slug') slug: string): Promise<ExchangeSaveResponse> {
    const { counts, item } = await this.signals.unsave(user, slug);
    return { slug: item.slug, saved: false, counts };
  }

  @Post(':slug/adoptions')
  @HttpCode(201)
  @ApiOperation({
    operationId: 'recordExchangeAdoption',
    summary: 'Record that one of the caller’s organisations adopted a published item (one per organisation, idempotent): 201 when recorded now, 200 when it already was (a different note replaces the old one)',
    description:
      'The organisation must be one the caller is an active member of, and not the one that shared the item. `organisationId` may be left out when the caller is an active member of exactly one organisation.',
  })
  @ApiCreatedResponse({ type: ExchangeAdoptionResponse, description: 'Recorded' })
  @ApiOkResponse({ type: ExchangeAdoptionResponse, description: 'The organisation had already adopted it: its note is now the one sent (unchanged if the same)' })
  @ApiProblems({
    400: '`organisationId` is missing while the caller is an active member of several organisations, or the note is longer than 500 characters',
    403: 'The caller is an active member of no organisation (`not_a_member`), or not of the one named',
    404: NOT_PUBLISHED,
    409: 'The organisation named is the one that shared the item',
  })
  async adopt(@SignedInUser() user: CurrentUser, @Param('slug') slug: string, @Body() input: AdoptionApiDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<ExchangeAdoptionResponse> {
    const { outcome, adoption, counts, item } = await this.signals.adopt(user, slug, { organisationId: input.organisationId, note: input.note });
    if (outcome !== 'created') reply.status(200);
    return { slug: item.slug, organisationId: adoption.organisationId, adopted: true, adoption, counts };
  }

  @Delete(':slug/adoptions/:organisationId')
  @HttpCode(200)
  @ApiOperation({ operationId: 'withdrawExchangeAdoption', summary: 'Withdraw an organisation’s adoption (any of its active members may; idempotent: 200 whether or not there was one)' })
  @ApiOkResponse({ type: ExchangeAdoptionResponse })
  @ApiProblems({ 403: 'The caller is not an active member of that organisation', 404: NOT_PUBLISHED })
  async withdraw(@SignedInUser() user: CurrentUser, @Param('slug') slug: string, @Param('organisationId', organisationId) id: number): Promise<ExchangeAdoptionResponse> {
    const { counts, item } = await this.signals.withdrawAdoption(user, slug, id);
    return { slug: item.slug, organisationId: id, adopted: false, adoption: null, counts };
  }
}

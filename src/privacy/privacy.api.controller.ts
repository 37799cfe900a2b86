import { Controller, Get, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../accounts/identity';
import { ApiProblems } from '../common/openapi';
import { PersonalDataResponse } from './privacy.dto';
import { DOWNLOADS_PER_HOUR, PrivacyService } from './privacy.service';

@ApiTags('auth')
@ApiBearerAuth()
@Controller('api/v1/me')
export class PrivacyApiController {
  constructor(private readonly privacy: PrivacyService) {}

  @Get('data')
  @ApiOperation({
    operationId: 'downloadMyData',
    summary: 'Everything the academy holds about the caller, as one JSON document (UK GDPR right of access)',
    description: `The same document as "Download my data" on the account page, streamed. At most ${DOWNLOADS_PER_HOUR} per hour, counted with the page's downloads.`,
  })
  @ApiOkResponse({ type: PersonalDataResponse })
  @ApiProblems({ 429: `More than ${DOWNLOADS_PER_HOUR} downloads in an hour: wait for Retry-After` })
  async data(@SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const document = await this.privacy.download(user);
    return reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-store').send(document);
  }
}

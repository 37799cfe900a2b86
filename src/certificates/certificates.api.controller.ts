import { Controller, Get, Param, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Public, SignedInUser, type CurrentUser } from '../accounts/identity';
import { ApiProblems } from '../common/openapi';
import { ReadableCrossOrigin } from '../common/security-headers';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import type { Certificate } from './certificate.entity';
import { cpdHours } from '../catalogue/catalogue.service';
import { CertificateResponse, CertificateVerificationResponse } from './certificates.responses';
import { CertificatesService } from './certificates.service';
import { VerificationThrottle } from './verification-throttle';

@ApiTags('certificates')
@Controller('api/v1')
export class CertificatesApiController {
  constructor(
    private readonly certificates: CertificatesService,
    private readonly throttle: VerificationThrottle,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Get('certificates')
  @ApiBearerAuth()
  @ApiOperation({ operationId: 'listCertificates', summary: "The caller's certificates: code, subject, dates, CPD hours, download URL, Open Badge URL (badgeUrl) and status" })
  @ApiOkResponse({ type: [CertificateResponse] })
  async mine(@SignedInUser() user: CurrentUser) {
    return (await this.certificates.listFor(user.id)).map((c) => ({
      ...this.publicFields(c),
      issuedAt: c.issuedAt,
      downloadUrl: `${this.config.publicUrl}${this.certificates.downloadPath(c.code)}`,
    }));
  }

  @Public()
  @ReadableCrossOrigin()
  @Get('verify/:code')
  @ApiOperation({ operationId: 'verifyCertificate', summary: 'Verify a certificate by its code (public, throttled): holder, subject, date, CPD hours and status' })
  @ApiOkResponse({ type: CertificateVerificationResponse })
  @ApiProblems({
    404: 'No certificate has that code: a problem (application/problem+json) whose detail is "No certificate has that code. Check it and try again.", the same for a code that cannot be one',
    429: 'Too many verifications from this address in the last minute (unknown codes count too); see Retry-After',
  })
  async verify(@Param('code') code: string, @Req() request: FastifyRequest) {
    await this.throttle.hit(request.ip);
    return this.publicFields(await this.certificates.verify(code));
  }

  /** What anyone holding the code may see: no e-mail address, organisation or account id. */
  private publicFields(c: Certificate) {
    return {
      code: c.code,
      status: c.status,
      holderName: c.holderName,
      subject: { type: c.subjectType, id: c.subjectId, title: c.subjectTitle },
      achievedAt: c.achievedAt,
      cpdHours: cpdHours(c.cpdMinutes),
      revokedAt: c.revokedAt,
      revokedReason: c.revokedReason,
      verifyUrl: this.certificates.verifyUrl(c.code),
      /** Its Open Badges 2.0 assertion (hosted verification); a revoked one answers 410 with `revoked: true`. */
      badgeUrl: this.certificates.badgeUrl(c.code),
    };
  }
}

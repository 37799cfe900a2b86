import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccountsService } from '../accounts/accounts.service';
import { Public } from '../accounts/identity';
import { hashedRecipient } from './badge-recipient';
import { cpdHours } from '../catalogue/catalogue.service';
import { NotFound } from '../common/errors';
import { ReadableCrossOrigin } from '../common/security-headers';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { contentDisposition } from '../storage/serve-file';
import { bakeBadgePng, renderBadgePng } from './badge-image';
import { Certificate, SUBJECT_TYPES, SubjectType } from './certificate.entity';
import { CertificatesService } from './certificates.service';
import { VerificationThrottle } from './verification-throttle';

const CONTEXT = 'https://w3id.org/openbadges/v2';
const LD_JSON = 'application/ld+json; charset=utf-8';
const NO_BADGE = 'There is no badge at this address';

/**
 * Open Badges 2.0 hosted verification: every certificate is an Assertion at a stable URL, pointing to its
 * BadgeClass (the course or webinar) and the Issuer (the academy). The recipient's e-mail is hashed with the
 * certificate's own stored salt, so the public document does not reveal it. The baked badge (a PNG of the badge with
 * the assertion's URL in its `openbadges` iTXt chunk) is what a holder uploads to a backpack.
 *
 * Every document and image here is public and the same for everyone, so other sites may read and embed them
 * (ReadableCrossOrigin). Looking up a certificate (its assertion or baked badge) or a badge class counts against the
 * verification throttle, found or not, like /verify: codes cannot be walked through here either.
 */
@ApiExcludeController()
@Public()
@Controller('badges')
export class BadgesController {
  constructor(
    private readonly certificates: CertificatesService,
    private readonly accounts: AccountsService,
    private readonly throttle: VerificationThrottle,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Get('assertions/:code')
  @ReadableCrossOrigin()
  async assertion(@Param('code') code: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.throttle.hit(request.ip);
    const certificate = await this.certificates.verify(code);
    if (certificate.status === 'revoked') return this.revoked(certificate, reply);
    const holder = await this.accounts.currentUser(certificate.userId);
    if (!holder) throw new NotFound('No certificate has that code. Check it and try again.');
    const salt = certificate.recipientSalt;
    return reply.header('content-type', LD_JSON).send({
      '@context': CONTEXT,
      type: 'Assertion',
      id: this.certificates.badgeUrl(certificate.code),
      recipient: { type: 'email', hashed: true, salt, identity: certificate.recipientIdentity ?? hashedRecipient(holder.email, salt) },
      badge: this.badgeClassUrl(certificate.subjectType, certificate.subjectId),
      image: `${this.config.publicUrl}${this.certificates.bakedBadgePath(certificate.code)}`,
      verification: { type: 'hosted' },
      issuedOn: certificate.issuedAt.toISOString(),
      evidence: this.certificates.verifyUrl(certificate.code),
    });
  }

  /** The baked badge: the badge image, with this certificate's CPD hours, and its assertion's URL baked in. */
  @Get('assertions/:code/badge.png')
  @ReadableCrossOrigin()
  async bakedBadge(@Param('code') code: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.throttle.hit(request.ip);
    const certificate = await this.certificates.verify(code);
    if (certificate.status === 'revoked') return this.revoked(certificate, reply);
    const image = renderBadgePng({ cpdHours: cpdHours(certificate.cpdMinutes), academyName: this.config.academyName });
    const name = `Badge ${certificate.subjectTitle.replace(/[\\/:*?"<>|]+/g, ' ').slice(0, 80)} ${certificate.code}.png`;
    return reply
      .header('content-type', 'image/png')
      .header('content-disposition', contentDisposition(name))
      .header('cache-control', 'public, max-age=3600')
      .send(bakeBadgePng(image, this.certificates.badgeUrl(certificate.code)));
  }

  @Get('classes/:id')
  @ReadableCrossOrigin()
  async badgeClass(@Param('id') idParam: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.throttle.hit(request.ip);
    const { type, id, subject } = await this.subjectOf(idParam);
    return reply.header('content-type', LD_JSON).send({
      '@context': CONTEXT,
      type: 'BadgeClass',
      id: this.badgeClassUrl(type, id),
      name: subject.title,
      description: subject.description,
      image: `${this.badgeClassUrl(type, id)}/image.png`,
      criteria: { id: subject.url, narrative: subject.criteria },
      issuer: `${this.config.publicUrl}/badges/issuer`,
    });
  }

  /**
   * The badge class's image, unbaked, with the subject's CPD hours. Not throttled: sites that display badges embed
   * it, many to a page, and it names a course or webinar, nobody's certificate.
   */
  @Get('classes/:id/image.png')
  @ReadableCrossOrigin()
  async badgeClassImage(@Param('id') idParam: string, @Res() reply: FastifyReply) {
    const { subject } = await this.subjectOf(idParam);
    return reply
      .header('content-type', 'image/png')
      .header('cache-control', 'public, max-age=3600')
      .send(renderBadgePng({ cpdHours: cpdHours(subject.cpdMinutes), academyName: this.config.academyName }));
  }

  @Get('issuer')
  @ReadableCrossOrigin()
  issuer(@Res() reply: FastifyReply) {
    return reply.header('content-type', LD_JSON).send({
      '@context': CONTEXT,
      type: 'Issuer',
      id: `${this.config.publicUrl}/badges/issuer`,
      name: this.config.academyName,
      url: this.config.publicUrl,
      email: this.config.mail.from.match(/<([^>]+)>/)?.[1] ?? this.config.mail.from,
    });
  }

  /** A revoked assertion, as Open Badges 2.0 hosted verification says: 410 Gone, `revoked: true` and the reason. */
  private revoked(certificate: Certificate, reply: FastifyReply) {
    return reply
      .status(410)
      .header('content-type', LD_JSON)
      .send({ '@context': CONTEXT, id: this.certificates.badgeUrl(certificate.code), revoked: true, revocationReason: certificate.revokedReason });
  }

  private async subjectOf(idParam: string) {
    const match = /^(course|webinar)-(\d{1,9})$/.exec(idParam);
    if (!match || !SUBJECT_TYPES.includes(match[1] as SubjectType)) throw new NotFound(NO_BADGE);
    const type = match[1] as SubjectType;
    const id = Number(match[2]);
    const subject = await this.certificates.subjectSummary(type, id);
    if (!subject) throw new NotFound(NO_BADGE);
    return { type, id, subject };
  }

  private badgeClassUrl(type: SubjectType, id: number): string {
    return `${this.config.publicUrl}/badges/classes/${type}-${id}`;
  }
}

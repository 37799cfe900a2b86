import { createHash, createHmac } from 'node:crypto';
import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AccountsService } from '../accounts/accounts.service';
import { Public } from '../accounts/identity';
import { NotFound } from '../common/errors';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { SUBJECT_TYPES, SubjectType } from './certificate.entity';
import { CertificatesService } from './certificates.service';

const CONTEXT = 'https://w3id.org/openbadges/v2';
const LD_JSON = 'application/ld+json; charset=utf-8';

/**
 * Open Badges 2.0 hosted verification: every certificate is an Assertion at a stable URL, pointing to its
 * BadgeClass (the course or webinar) and the Issuer (the academy). The recipient's e-mail is hashed with a
 * per-assertion salt, so the public document does not reveal it.
 */
@ApiExcludeController()
@Public()
@Controller('badges')
export class BadgesController {
  constructor(
    private readonly certificates: CertificatesService,
    private readonly accounts: AccountsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Get('assertions/:code')
  async assertion(@Param('code') code: string, @Res() reply: FastifyReply) {
    const certificate = await this.certificates.verify(code);
    const id = `${this.config.publicUrl}/badges/assertions/${certificate.code}`;
    if (certificate.status === 'revoked') {
      return reply.status(410).header('content-type', LD_JSON).send({ '@context': CONTEXT, id, revoked: true, revocationReason: certificate.revokedReason });
    }
    const holder = await this.accounts.currentUser(certificate.userId);
    if (!holder) throw new NotFound('No certificate has that code. Check it and try again.');
    const salt = createHmac('sha256', this.config.session.secret).update(`badge-salt:${certificate.code}`).digest('hex').slice(0, 16);
    return reply.header('content-type', LD_JSON).send({
      '@context': CONTEXT,
      type: 'Assertion',
      id,
      recipient: { type: 'email', hashed: true, salt, identity: `sha256$${createHash('sha256').update(holder.email + salt).digest('hex')}` },
      badge: this.badgeClassUrl(certificate.subjectType, certificate.subjectId),
      verification: { type: 'hosted' },
      issuedOn: certificate.issuedAt.toISOString(),
      evidence: this.certificates.verifyUrl(certificate.code),
    });
  }

  @Get('classes/:id')
  async badgeClass(@Param('id') idParam: string, @Res() reply: FastifyReply) {
    const match = /^(course|webinar)-(\d{1,9})$/.exec(idParam);
    if (!match || !SUBJECT_TYPES.includes(match[1] as SubjectType)) throw new NotFound('There is no badge at this address');
    const subject = await this.certificates.subjectSummary(match[1] as SubjectType, Number(match[2]));
    if (!subject) throw new NotFound('There is no badge at this address');
    return reply.header('content-type', LD_JSON).send({
      '@context': CONTEXT,
      type: 'BadgeClass',
      id: this.badgeClassUrl(match[1] as SubjectType, Number(match[2])),
      name: subject.title,
      description: subject.description,
      image: `${this.config.publicUrl}/public/badge.svg`,
      criteria: { id: subject.url, narrative: subject.criteria },
      issuer: `${this.config.publicUrl}/badges/issuer`,
    });
  }

  @Get('issuer')
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

  private badgeClassUrl(type: SubjectType, id: number): string {
    return `${this.config.publicUrl}/badges/classes/${type}-${id}`;
  }
}

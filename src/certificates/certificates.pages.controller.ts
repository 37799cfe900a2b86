import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public, Roles, SignedInUser, type CurrentUser } from '../accounts/identity';
import { csvDocument } from '../common/csv';
import { NotFound, ValidationFailed } from '../common/errors';
import { FileStorage } from '../storage/file-storage';
import { serveFile } from '../storage/serve-file';
import type { Certificate, SubjectType } from './certificate.entity';
import { cpdHours } from '../catalogue/catalogue.service';
import { londonDate, londonIsoDate, londonYear } from '../common/london-time';
import { CertificatesService } from './certificates.service';
import { VerificationThrottle } from './verification-throttle';
import { normaliseCode } from './verification-code';

const SUBJECT_LABELS: Record<SubjectType, string> = { course: 'Course', webinar: 'Webinar' };

/** "My certificates", downloads, public verification and the admin's revoke and re-issue. */
@ApiExcludeController()
@Controller()
export class CertificatesPagesController {
  constructor(
    private readonly certificates: CertificatesService,
    private readonly storage: FileStorage,
    private readonly throttle: VerificationThrottle,
  ) {}

  @Get('my-certificates')
  async mine(@SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const list = await this.certificates.listFor(user.id);
    const years = cpdByYear(list.filter((c) => c.status === 'valid'));
    const most = Math.max(1, ...years.map((y) => y.hours));
    return reply.view('certificates/mine', {
      pageTitle: 'My certificates',
      certificates: list.map((c) => this.view(c)),
      years: years.map((y) => ({ ...y, percent: Math.round((y.hours / most) * 100) })),
      totalHours: cpdHours(list.filter((c) => c.status === 'valid').reduce((sum, c) => sum + c.cpdMinutes, 0)),
    });
  }

  /** The CPD record as CSV, for appraisal and revalidation portfolios. */
  @Get('my-certificates/cpd.csv')
  async cpdCsv(@SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const list = (await this.certificates.listFor(user.id)).filter((c) => c.status === 'valid');
    const rows = [
      ['Date', 'Activity', 'Type', 'CPD hours', 'Certificate code', 'Verify at'],
      ...list.map((c) => [londonIsoDate(c.achievedAt), c.subjectTitle, SUBJECT_LABELS[c.subjectType], String(cpdHours(c.cpdMinutes)), c.code, this.certificates.verifyUrl(c.code)]),
    ];
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="cpd-record.csv"')
      .send(csvDocument(rows));
  }

  @Get('certificates/:file')
  async download(@Param('file') file: string, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (!file.endsWith('.pdf')) throw new NotFound('There is no certificate at this address');
    const { certificate } = await this.certificates.openForViewer(file.slice(0, -4), user);
    const name = `Certificate ${certificate.subjectTitle.replace(/[\\/:*?"<>|]+/g, ' ').slice(0, 80)} ${certificate.code}.pdf`;
    return serveFile(this.storage, certificate.fileKey, request, reply, { contentType: 'application/pdf', downloadName: name });
  }

  @Public()
  @Get('verify')
  async verifyForm(@Query('code') code: string | undefined, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (code === undefined) return reply.view('certificates/verify-form', { pageTitle: 'Check a certificate' });
    const normalised = normaliseCode(code);
    if (!normalised) {
      await this.throttle.hit(request.ip);
      reply.status(400);
      return reply.view('certificates/verify-form', {
        pageTitle: 'Check a certificate',
        code,
        errors: { code: 'Enter the code as it is printed on the certificate, like 7KQM-R4XD-9TWC' },
        errorList: [{ href: '#code', text: 'Enter the code as it is printed on the certificate, like 7KQM-R4XD-9TWC' }],
      });
    }
    return reply.redirect(`/verify/${normalised}`, 303);
  }

  @Public()
  @Get('verify/:code')
  async verify(@Param('code') code: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    // Every look-up counts, found or not, so codes cannot be guessed by trying them.
    await this.throttle.hit(request.ip);
    try {
      const certificate = await this.certificates.verify(code);
      return reply.view('certificates/verify', { pageTitle: `Certificate ${certificate.code}`, certificate: this.view(certificate) });
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      // Said plainly, with the form to try again; the same answer whether the code was well formed or not.
      const normalised = normaliseCode(code);
      return reply.status(404).view('certificates/verify-form', { pageTitle: 'No certificate has that code', notFound: { code: normalised }, code: normalised ?? '' });
    }
  }

  @Roles('admin')
  @Get('admin/certificates')
  async adminList(@Query('q') q: string | undefined, @Res() reply: FastifyReply) {
    const query = (q ?? '').trim().slice(0, 254);
    const found = await this.certificates.search(query);
    return reply.view('certificates/admin', { pageTitle: 'Certificates', q: query, certificates: found.map((c) => this.view(c)) });
  }

  @Roles('admin')
  @Post('admin/certificates/:code/revoke')
  async revoke(@Param('code') code: string, @Body() body: { reason?: string }, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    const reason = String(body?.reason ?? '').trim();
    if (reason.length < 3 || reason.length > 500) throw new ValidationFailed({ reason: 'Give a reason of 3 to 500 characters' }, 'Give a reason of 3 to 500 characters');
    await this.certificates.revoke(code, reason, admin);
    return reply.redirect(`/verify/${normaliseCode(code)}`, 303);
  }

  @Roles('admin')
  @Post('admin/certificates/:code/reissue')
  async reissue(@Param('code') code: string, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    const fresh = await this.certificates.reissue(code, admin);
    return reply.redirect(`/verify/${fresh.code}`, 303);
  }

  private view(c: Certificate) {
    return {
      code: c.code,
      subjectTitle: c.subjectTitle,
      subjectLabel: SUBJECT_LABELS[c.subjectType],
      holderName: c.holderName,
      achievedOn: londonDate(c.achievedAt),
      cpdHours: cpdHours(c.cpdMinutes),
      valid: c.status === 'valid',
      revokedOn: c.revokedAt ? londonDate(c.revokedAt) : null,
      revokedReason: c.revokedReason,
      downloadPath: this.certificates.downloadPath(c.code),
      verifyPath: `/verify/${c.code}`,
      badgeUrl: this.certificates.badgeUrl(c.code),
      badgeImagePath: this.certificates.bakedBadgePath(c.code),
    };
  }
}

/** CPD hours per calendar year (Europe/London), newest year first. */
function cpdByYear(list: Certificate[]): Array<{ year: string; hours: number; count: number }> {
  const years = new Map<string, { minutes: number; count: number }>();
  for (const c of list) {
    const year = londonYear(c.achievedAt);
    const entry = years.get(year) ?? { minutes: 0, count: 0 };
    entry.minutes += c.cpdMinutes;
    entry.count++;
    years.set(year, entry);
  }
  return [...years].sort(([a], [b]) => b.localeCompare(a)).map(([year, e]) => ({ year, hours: cpdHours(e.minutes), count: e.count }));
}

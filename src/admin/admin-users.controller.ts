import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles, SignedInUser, type CurrentUser } from '../accounts/identity';
import { ROLE_LABELS } from '../accounts/roles';
import { isRole, isUserStatus, UserAdminService, USER_STATUSES, type PersonSummary } from '../accounts/user-admin.service';
import { CertificatesService } from '../certificates/certificates.service';
import { DomainError, FieldErrors } from '../common/errors';
import { errorView, formErrors } from '../common/forms';
import { LearningService } from '../learning/learning.service';
import { OrganisationAdminService } from '../organisations/organisation-admin.service';
import { idOf, options, pageNumber, pagingLinks, positiveId, text } from './admin-pages';

const userId = idOf('person');

const NOTICES: Record<string, string> = {
  'role-changed': 'The role has been changed.',
  'role-unchanged': 'That was already their role: nothing changed.',
  deactivated: 'The account is deactivated. Every session and API token it had has ended, and it cannot sign in.',
  reactivated: 'The account is active again. They can sign in with their password, or reset it.',
  'reset-sent': 'A password reset link has been e-mailed to them.',
};

const ACCOUNT_STATE: Record<string, { text: string; colour: string }> = {
  active: { text: 'Active', colour: 'green' },
  unverified: { text: 'E-mail not verified', colour: 'yellow' },
  deactivated: { text: 'Deactivated', colour: 'red' },
};

const stateOf = (p: PersonSummary) => (p.deactivatedAt ? ACCOUNT_STATE.deactivated : p.emailVerifiedAt ? ACCOUNT_STATE.active : ACCOUNT_STATE.unverified);

/** Administration of people: find them, see their learning, change their role, deactivate them, send a reset link. */
@ApiExcludeController()
@Roles('admin')
@Controller('admin/users')
export class AdminUsersController {
  constructor(
    private readonly users: UserAdminService,
    private readonly organisations: OrganisationAdminService,
    private readonly learning: LearningService,
    private readonly certificates: CertificatesService,
  ) {}

  @Get()
  async list(@Query() query: Record<string, unknown>, @Res() reply: FastifyReply) {
    const q = text(query.q).trim().slice(0, 100);
    const role = isRole(query.role) ? query.role : undefined;
    const status = isUserStatus(query.status) ? query.status : undefined;
    const organisationId = positiveId(query.organisation) ?? undefined;
    const organisationName = organisationId ? await this.organisations.nameOf(organisationId) : null;
    const result = await this.users.search({ q, role, status, organisationId, page: pageNumber(query.page) });
    const memberships = await this.organisations.membershipsOf(result.people.map((p) => p.id));
    const filtered = !!(q || role || status || organisationId);
    return reply.view('admin/users', {
      pageTitle: 'People',
      q,
      organisationId,
      organisationName: organisationId ? (organisationName ?? `organisation ${organisationId}`) : null,
      roles: options(ROLE_LABELS, role),
      statuses: options(USER_STATUSES, status),
      filtered,
      people: result.people.map((p) => ({
        ...p,
        roleLabel: ROLE_LABELS[p.role],
        state: stateOf(p),
        organisations: (memberships.get(p.id) ?? []).filter((m) => m.status === 'active' || m.status === 'pending'),
      })),
      page: result.page,
      ...pagingLinks('/admin/users', { q, role, status, organisation: organisationId }, result.page, result.hasNext, 'people'),
    });
  }

  @Get(':userId')
  async person(@Param('userId', userId) id: number, @Query('notice') notice: string | undefined, @Res() reply: FastifyReply) {
    return this.renderPerson(reply, id, { notice: notice ? NOTICES[notice] : undefined });
  }

  @Post(':userId/role')
  async changeRole(@Param('userId', userId) id: number, @Body() body: Record<string, unknown>, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    try {
      const changed = await this.users.changeRole(admin, id, text(body?.role));
      return reply.redirect(`/admin/users/${id}?notice=${changed ? 'role-changed' : 'role-unchanged'}`, 303);
    } catch (err) {
      return this.refused(reply, id, err, ['role']);
    }
  }

  @Get(':userId/deactivate')
  async confirmDeactivate(@Param('userId', userId) id: number, @Res() reply: FastifyReply) {
    const person = await this.users.person(id);
    return reply.view('admin/user-deactivate', { pageTitle: `Deactivate ${person.name}?`, person, roleLabel: ROLE_LABELS[person.role] });
  }

  @Post(':userId/deactivate')
  async deactivate(@Param('userId', userId) id: number, @Body() body: Record<string, unknown>, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    try {
      await this.users.deactivate(admin, id, text(body?.reason));
      return reply.redirect(`/admin/users/${id}?notice=deactivated`, 303);
    } catch (err) {
      const errors = formErrors(err);
      const person = await this.users.person(id);
      return reply
        .status(statusOf(err))
        .view('admin/user-deactivate', { pageTitle: `Error: Deactivate ${person.name}?`, person, roleLabel: ROLE_LABELS[person.role], reason: text(body?.reason), ...errorView(errors) });
    }
  }

  @Post(':userId/reactivate')
  async reactivate(@Param('userId', userId) id: number, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    try {
      await this.users.reactivate(admin, id);
      return reply.redirect(`/admin/users/${id}?notice=reactivated`, 303);
    } catch (err) {
      return this.refused(reply, id, err, ['confirm']);
    }
  }

  @Post(':userId/password-reset')
  async passwordReset(@Param('userId', userId) id: number, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    try {
      await this.users.sendPasswordReset(admin, id);
      return reply.redirect(`/admin/users/${id}?notice=reset-sent`, 303);
    } catch (err) {
      return this.refused(reply, id, err, ['reset']);
    }
  }

  /** The person's page again, with why the change was refused. */
  private async refused(reply: FastifyReply, id: number, err: unknown, order: string[]) {
    const errors: FieldErrors = formErrors(err);
    return this.renderPerson(reply, id, { ...errorView(errors, order), titlePrefix: 'Error: ' }, statusOf(err));
  }

  private async renderPerson(reply: FastifyReply, id: number, extra: Record<string, unknown>, status = 200) {
    const person = await this.users.person(id);
    const [memberships, enrolments, certificates] = await Promise.all([this.organisations.membershipsOf([id]), this.learning.listFor(id), this.certificates.listFor(id)]);
    return reply.status(status).view('admin/user', {
      pageTitle: `${extra.titlePrefix ?? ''}${person.name}`,
      person,
      state: stateOf(person),
      roleLabel: ROLE_LABELS[person.role],
      roles: options(ROLE_LABELS, person.role),
      memberships: memberships.get(id) ?? [],
      enrolments: enrolments.map((e) => ({ ...e, completed: e.status === 'completed' })),
      certificates: certificates.map((c) => ({
        code: c.code,
        title: c.subjectTitle,
        kind: c.subjectType === 'course' ? 'Course' : 'Webinar',
        achievedAt: c.achievedAt,
        valid: c.status === 'valid',
        revokedAt: c.revokedAt,
        downloadPath: this.certificates.downloadPath(c.code),
        verifyPath: `/verify/${c.code}`,
      })),
      ...extra,
    });
  }
}

const statusOf = (err: unknown) => (err instanceof DomainError && err.kind === 'conflict' ? 409 : 400);

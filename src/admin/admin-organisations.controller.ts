import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles, SignedInUser, type CurrentUser } from '../accounts/identity';
import { DomainError } from '../common/errors';
import { errorView, formErrors } from '../common/forms';
import {
  isOrganisationStatus,
  MembershipNeeded,
  ORGANISATION_STATUS_LABELS,
  OrganisationAdminService,
  type OrganisationDetail,
  type OrganisationInput,
} from '../organisations/organisation-admin.service';
import { isOrganisationType, ORGANISATION_TYPES, REGIONS } from '../organisations/organisation-kinds';
import { idOf, options, pageNumber, pagingLinks, positiveId, text } from './admin-pages';

const organisationId = idOf('organisation');
const domainId = idOf('domain');
const userId = idOf('manager');

const FIELDS = ['name', 'type', 'odsCode', 'region'];
const NOTICES: Record<string, string> = {
  created: 'Organisation created. Add its verified e-mail domains and appoint a manager.',
  saved: 'Your changes have been saved.',
  unchanged: 'Nothing was changed.',
  approved: 'Organisation approved. People waiting to join it stay waiting until a manager approves them: appoint one.',
  declined: 'Organisation declined. The requests to join it were declined too.',
  merged: 'The duplicate has been merged into this organisation.',
  'domain-added': 'Domain added.',
  'domain-removed': 'Domain removed. Members who joined through it stay members.',
  'manager-appointed': 'Manager appointed.',
  'manager-removed': 'Manager removed. They stay a member of the organisation.',
};

const STATUS_TAGS: Record<string, string> = { active: 'green', requested: 'yellow', declined: 'red', merged: 'grey' };

/** Administration of organisations: list, create, edit, approve or decline, merge, verified domains, managers. */
@ApiExcludeController()
@Roles('admin')
@Controller('admin/organisations')
export class AdminOrganisationsController {
  constructor(private readonly organisations: OrganisationAdminService) {}

  @Get()
  async list(@Query() query: Record<string, unknown>, @Res() reply: FastifyReply) {
    const q = text(query.q).trim().slice(0, 150);
    const status = isOrganisationStatus(query.status) ? query.status : undefined;
    const type = isOrganisationType(query.type) ? query.type : undefined;
    const [result, requested] = await Promise.all([this.organisations.list({ q, status, type, page: pageNumber(query.page) }), this.organisations.requestedCount()]);
    return reply.view('admin/organisations', {
      pageTitle: 'Organisations',
      q,
      requested,
      statuses: options(ORGANISATION_STATUS_LABELS, status),
      types: options(ORGANISATION_TYPES, type),
      filtered: !!(q || status || type),
      organisations: result.organisations.map((o) => ({ ...o, tag: STATUS_TAGS[o.status] })),
      page: result.page,
      ...pagingLinks('/admin/organisations', { q, status, type }, result.page, result.hasNext, 'organisations'),
    });
  }

  @Get('new')
  newOrganisation(@Res() reply: FastifyReply) {
    return reply.view('admin/organisation-form', { pageTitle: 'Add an organisation', ...this.form({ type: 'nhs_trust' }), action: '/admin/organisations', isNew: true });
  }

  @Post()
  async create(@Body() body: Record<string, unknown>, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    try {
      const created = await this.organisations.create(admin, inputOf(body));
      return reply.redirect(`/admin/organisations/${created.id}?notice=created`, 303);
    } catch (err) {
      const errors = formErrors(err);
      return reply.status(statusOf(err)).view('admin/organisation-form', { pageTitle: 'Error: Add an organisation', ...this.form(inputOf(body)), action: '/admin/organisations', isNew: true, ...errorView(errors, FIELDS) });
    }
  }

  @Get(':organisationId')
  async show(@Param('organisationId', organisationId) id: number, @Query('notice') notice: string | undefined, @Res() reply: FastifyReply) {
    return this.renderOrganisation(reply, id, { notice: notice ? NOTICES[notice] : undefined });
  }

  @Get(':organisationId/edit')
  async edit(@Param('organisationId', organisationId) id: number, @Res() reply: FastifyReply) {
    const o = await this.organisations.forEditing(id);
    return reply.view('admin/organisation-form', { pageTitle: `Edit ${o.name}`, ...this.form({ name: o.name, type: o.type, odsCode: o.odsCode ?? '', region: o.region ?? '' }), action: `/admin/organisations/${id}/edit`, organisation: o });
  }

  @Post(':organisationId/edit')
  async update(@Param('organisationId', organisationId) id: number, @Body() body: Record<string, unknown>, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    try {
      const changed = await this.organisations.update(admin, id, inputOf(body));
      return reply.redirect(`/admin/organisations/${id}?notice=${changed.length ? 'saved' : 'unchanged'}`, 303);
    } catch (err) {
      const errors = formErrors(err);
      const o = await this.organisations.forEditing(id);
      return reply
        .status(statusOf(err))
        .view('admin/organisation-form', { pageTitle: `Error: Edit ${o.name}`, ...this.form(inputOf(body)), action: `/admin/organisations/${id}/edit`, organisation: o, ...errorView(errors, FIELDS) });
    }
  }

  // ---------------------------------------------------------------- requested organisations

  @Post(':organisationId/approve')
  async approve(@Param('organisationId', organisationId) id: number, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    await this.organisations.approve(admin, id);
    return reply.redirect(`/admin/organisations/${id}?notice=approved`, 303);
  }

  @Get(':organisationId/decline')
  async confirmDecline(@Param('organisationId', organisationId) id: number, @Res() reply: FastifyReply) {
    const organisation = await this.organisations.detail(id);
    return reply.view('admin/organisation-decline', { pageTitle: `Decline ${organisation.name}?`, organisation });
  }

  @Post(':organisationId/decline')
  async decline(@Param('organisationId', organisationId) id: number, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    await this.organisations.decline(admin, id);
    return reply.redirect(`/admin/organisations/${id}?notice=declined`, 303);
  }

  // ---------------------------------------------------------------- merging

  @Get(':organisationId/merge')
  async chooseMerge(@Param('organisationId', organisationId) id: number, @Query('q') q: string | undefined, @Res() reply: FastifyReply) {
    const organisation = await this.organisations.detail(id);
    const query = text(q).trim().slice(0, 150);
    const candidates = query ? await this.organisations.mergeCandidates(id, query) : [];
    return reply.view('admin/organisation-merge', { pageTitle: `Merge ${organisation.name} into another organisation`, organisation, q: query, searched: !!query, candidates });
  }

  @Get(':organisationId/merge/confirm')
  async confirmMerge(@Param('organisationId', organisationId) id: number, @Query('into') into: string | undefined, @Res() reply: FastifyReply) {
    try {
      const preview = await this.organisations.mergePreview(id, positiveId(into) ?? NaN);
      return reply.view('admin/organisation-merge-confirm', { pageTitle: `Merge ${preview.duplicate.name} into ${preview.into.name}?`, preview });
    } catch (err) {
      return this.mergeRefused(reply, id, err);
    }
  }

  @Post(':organisationId/merge')
  async merge(@Param('organisationId', organisationId) id: number, @Body() body: Record<string, unknown>, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    const into = positiveId(body?.into) ?? NaN;
    try {
      await this.organisations.merge(admin, id, into);
      return reply.redirect(`/admin/organisations/${into}?notice=merged`, 303);
    } catch (err) {
      return this.mergeRefused(reply, id, err);
    }
  }

  /** The merge page again, saying why (an unknown or unsuitable organisation to merge into). */
  private async mergeRefused(reply: FastifyReply, id: number, err: unknown) {
    const errors = formErrors(err);
    const organisation = await this.organisations.detail(id);
    return reply.status(statusOf(err)).view('admin/organisation-merge', { pageTitle: `Error: Merge ${organisation.name} into another organisation`, organisation, q: '', candidates: [], ...errorView({ q: errors.into ?? Object.values(errors)[0] }) });
  }

  // ---------------------------------------------------------------- verified domains

  @Post(':organisationId/domains')
  async addDomain(@Param('organisationId', organisationId) id: number, @Body() body: Record<string, unknown>, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    try {
      const { activated } = await this.organisations.addDomain(admin, id, text(body?.domain));
      return reply.redirect(`/admin/organisations/${id}?notice=domain-added${activated ? `&activated=${activated}` : ''}`, 303);
    } catch (err) {
      return this.renderOrganisation(reply, id, { values: { domain: text(body?.domain) }, ...errorView(formErrors(err), ['domain']) }, statusOf(err));
    }
  }

  @Get(':organisationId/domains/:domainId/remove')
  async confirmRemoveDomain(@Param('organisationId', organisationId) id: number, @Param('domainId', domainId) domain: number, @Res() reply: FastifyReply) {
    const organisation = await this.organisations.detail(id);
    const row = await this.organisations.domainOf(id, domain);
    return reply.view('admin/organisation-confirm', {
      pageTitle: `Remove the domain ${row.domain}?`,
      organisation,
      heading: `Remove the domain ${row.domain} from ${organisation.name}?`,
      items: [
        `People with an address on ${row.domain} will no longer join ${organisation.name} at once when they verify it: a manager will approve them.`,
        'Members who joined through it stay members.',
      ],
      action: `/admin/organisations/${id}/domains/${row.id}/remove`,
      confirmLabel: 'Yes, remove this domain',
    });
  }

  @Post(':organisationId/domains/:domainId/remove')
  async removeDomain(@Param('organisationId', organisationId) id: number, @Param('domainId', domainId) domain: number, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    await this.organisations.removeDomain(admin, id, domain);
    return reply.redirect(`/admin/organisations/${id}?notice=domain-removed`, 303);
  }

  // ---------------------------------------------------------------- managers

  @Post(':organisationId/managers')
  async appoint(@Param('organisationId', organisationId) id: number, @Body() body: Record<string, unknown>, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    const email = text(body?.email).trim().slice(0, 254);
    try {
      await this.organisations.appointManager(admin, id, email, { addAsMember: body?.addAsMember === 'yes' });
      return reply.redirect(`/admin/organisations/${id}?notice=manager-appointed`, 303);
    } catch (err) {
      if (err instanceof MembershipNeeded) {
        const organisation = await this.organisations.detail(id);
        return reply.status(200).view('admin/organisation-add-member', {
          pageTitle: `Add ${err.person.name} to ${organisation.name}?`,
          organisation,
          person: err.person,
          wasPending: err.membershipStatus === 'pending',
          wasLeft: err.membershipStatus === 'left' || err.membershipStatus === 'declined',
        });
      }
      return this.renderOrganisation(reply, id, { managerValues: { email }, ...errorView(formErrors(err), ['email']) }, statusOf(err));
    }
  }

  @Get(':organisationId/managers/:userId/remove')
  async confirmRemoveManager(@Param('organisationId', organisationId) id: number, @Param('userId', userId) user: number, @Res() reply: FastifyReply) {
    const organisation = await this.organisations.detail(id);
    const manager = await this.organisations.managerOf(id, user);
    return this.renderRemoveManager(reply, organisation, manager);
  }

  @Post(':organisationId/managers/:userId/remove')
  async removeManager(@Param('organisationId', organisationId) id: number, @Param('userId', userId) user: number, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    try {
      await this.organisations.removeManager(admin, id, user);
      return reply.redirect(`/admin/organisations/${id}?notice=manager-removed`, 303);
    } catch (err) {
      const errors = formErrors(err);
      const organisation = await this.organisations.detail(id);
      const manager = await this.organisations.managerOf(id, user);
      return this.renderRemoveManager(reply, organisation, manager, errorView(errors), statusOf(err));
    }
  }

  private renderRemoveManager(reply: FastifyReply, organisation: OrganisationDetail, manager: { userId: number; name: string; email: string }, errors: Record<string, unknown> = {}, status = 200) {
    return reply.status(status).view('admin/organisation-confirm', {
      pageTitle: `${status === 200 ? '' : 'Error: '}Remove ${manager.name} as a manager?`,
      organisation,
      heading: `Remove ${manager.name} as a manager of ${organisation.name}?`,
      items: [
        `${manager.name} will stop seeing the learning of ${organisation.name}’s staff and approving who joins.`,
        'They stay a member of the organisation.',
        'If they manage no other organisation, their role goes back from organisation manager to learner.',
      ],
      action: `/admin/organisations/${organisation.id}/managers/${manager.userId}/remove`,
      confirmLabel: 'Yes, remove this manager',
      ...errors,
    });
  }

  // ---------------------------------------------------------------- views

  private async renderOrganisation(reply: FastifyReply, id: number, extra: Record<string, unknown>, status = 200) {
    const organisation = await this.organisations.detail(id);
    const activated = Number((reply.request.query as Record<string, unknown>)?.activated ?? 0);
    return reply.status(status).view('admin/organisation', {
      pageTitle: `${status === 200 ? '' : 'Error: '}${organisation.name}`,
      organisation,
      tag: STATUS_TAGS[organisation.status],
      live: organisation.status === 'active',
      requested: organisation.status === 'requested',
      merged: organisation.status === 'merged',
      activatedNotice: Number.isSafeInteger(activated) && activated > 0 ? `${activated} ${activated === 1 ? 'person' : 'people'} waiting to join with a verified address on this domain became members.` : null,
      ...extra,
    });
  }

  private form(values: OrganisationInput) {
    return {
      values,
      types: options(ORGANISATION_TYPES, values.type),
      regions: options(REGIONS, values.region),
    };
  }
}

function inputOf(body: Record<string, unknown> | undefined): OrganisationInput {
  return { name: text(body?.name).slice(0, 300), type: text(body?.type), odsCode: text(body?.odsCode).slice(0, 30), region: text(body?.region) };
}

const statusOf = (err: unknown) => (err instanceof DomainError && err.kind === 'conflict' ? 409 : 400);

import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../accounts/identity';
import { DomainError, FieldErrors, NotFound } from '../common/errors';
import { errorView, formErrors } from '../common/forms';
import type { OrganisationPickerView } from '../common/organisation-joining';
import { ManagerScope } from './manager-scope';
import { MembershipsService, NOT_A_MEMBER_MESSAGE, type MembershipOfUser } from './memberships.service';
import { OrganisationPicker } from './organisation-picker';

const PICKER_FIELDS = ['organisation', 'organisationChoice', 'organisationType', 'organisationRegion'];

const STATUS_TAGS: Record<string, { text: string; colour: string }> = {
  active: { text: 'Member', colour: 'green' },
  pending: { text: 'Waiting', colour: 'yellow' },
  left: { text: 'Left', colour: 'grey' },
  declined: { text: 'Declined', colour: 'red' },
};

/** A path id: a positive whole number, or NaN (which every lookup treats as unknown). */
const idOf = (value: string) => (/^[1-9][0-9]{0,9}$/.test(value) ? Number(value) : NaN);

/** What each membership means for the person, in words. */
function describe(m: MembershipOfUser, emailVerified: boolean) {
  let state: string;
  if (m.status === 'active') state = `Managers of ${m.organisationName} can see your progress.`;
  else if (m.status === 'pending' && !emailVerified) state = 'Waiting for you to verify your e-mail address. Until you do, nobody at this organisation can see your progress.';
  else if (m.status === 'pending' && m.organisationStatus === 'requested') state = 'This is a new organisation: an administrator will check it. Until then nobody can see your progress.';
  else if (m.status === 'pending') state = `Waiting for a manager of ${m.organisationName} to accept you. Until then they cannot see your progress.`;
  else if (m.status === 'left') state = 'You left. Its managers can no longer see your progress.';
  else state = 'A manager declined your request. Its managers cannot see your progress.';
  return {
    ...m,
    state,
    tag: STATUS_TAGS[m.status],
    canLeave: m.status === 'active' || m.status === 'pending',
    canRejoin: (m.status === 'left' || m.status === 'declined') && m.organisationStatus === 'active',
    managerList: m.managers.join(', '),
  };
}

/**
 * Joining organisations from the person's side ("Your organisations": each membership and who can see their progress,
 * leaving one, joining another) and the managers' side (the requests waiting for them, approved or declined).
 */
@ApiExcludeController()
@Controller()
export class JoiningPagesController {
  constructor(
    private readonly memberships: MembershipsService,
    private readonly picker: OrganisationPicker,
    private readonly scope: ManagerScope,
  ) {}

  @Get('account/organisations')
  async yours(@SignedInUser() user: CurrentUser, @Res() reply: FastifyReply, @Query('notice') notice?: string, @Query('organisation') organisation?: string) {
    const memberships = await this.memberships.membershipsOf(user.id);
    const about = memberships.find((m) => m.organisationId === idOf(organisation ?? ''));
    return reply.view('organisations/your-organisations', this.yoursView(user, memberships, { notice: this.notice(notice, about, user) }));
  }

  /** "Join another organisation": the same picker as sign-up. */
  @Post('account/organisations')
  async join(@SignedInUser() user: CurrentUser, @Body() body: Record<string, string>, @Res() reply: FastifyReply) {
    const values = { organisation: typeof body?.organisation === 'string' ? body.organisation : '' };
    try {
      const step = await this.picker.resolve({ ...values, organisationChoice: body?.organisationChoice, organisationMatched: body?.organisationMatched, organisationType: body?.organisationType, organisationRegion: body?.organisationRegion });
      if (step.kind === 'choose') return this.showYours(user, reply, Object.keys(step.errors).length ? 400 : 200, { values: { organisation: step.picker.text }, picker: step.picker, errors: step.errors });
      const joined = await this.picker.joinPicked({ id: user.id, email: user.email, verified: user.emailVerified }, step.pick);
      const notice = !joined.changed ? 'already' : joined.status === 'active' ? 'joined' : 'asked';
      return reply.redirect(`/account/organisations?notice=${notice}&organisation=${joined.organisationId}`, 303);
    } catch (err) {
      return this.showYours(user, reply, 400, { values, errors: formErrors(err) });
    }
  }

  @Get('account/organisations/:organisationId/leave')
  async leaveConfirm(@SignedInUser() user: CurrentUser, @Param('organisationId') organisationId: string, @Res() reply: FastifyReply) {
    const membership = await this.leavable(user, organisationId);
    return reply.view('organisations/leave-confirm', { pageTitle: `Leave ${membership.organisationName}`, membership: describe(membership, user.emailVerified) });
  }

  @Post('account/organisations/:organisationId/leave')
  async leave(@SignedInUser() user: CurrentUser, @Param('organisationId') organisationId: string, @Res() reply: FastifyReply) {
    const membership = await this.leavable(user, organisationId);
    try {
      await this.memberships.leave(user, membership.organisationId);
      return reply.redirect(`/account/organisations?notice=left&organisation=${membership.organisationId}`, 303);
    } catch (err) {
      if (!(err instanceof DomainError) || err.kind !== 'conflict') throw err;
      return reply.status(409).view('organisations/leave-confirm', {
        pageTitle: `Error: Leave ${membership.organisationName}`,
        membership: describe(membership, user.emailVerified),
        refused: err.message,
        errorList: [{ href: '#leave', text: err.message }],
      });
    }
  }

  /** The requests to join an organisation the viewer manages (404 for any other). */
  @Get('organisation/:organisationId/requests')
  async requests(@SignedInUser() user: CurrentUser, @Param('organisationId') organisationId: string, @Res() reply: FastifyReply, @Query('decided') decided?: string) {
    return this.showRequests(user, idOf(organisationId), reply, 200, { decided: idOf(decided ?? '') });
  }

  @Post('organisation/:organisationId/requests/:membershipId/approve')
  approve(@SignedInUser() user: CurrentUser, @Param('organisationId') organisationId: string, @Param('membershipId') membershipId: string, @Res() reply: FastifyReply) {
    return this.decide(user, idOf(organisationId), idOf(membershipId), 'approve', reply);
  }

  @Post('organisation/:organisationId/requests/:membershipId/decline')
  decline(@SignedInUser() user: CurrentUser, @Param('organisationId') organisationId: string, @Param('membershipId') membershipId: string, @Res() reply: FastifyReply) {
    return this.decide(user, idOf(organisationId), idOf(membershipId), 'decline', reply);
  }

  private async decide(user: CurrentUser, organisationId: number, membershipId: number, action: 'approve' | 'decline', reply: FastifyReply) {
    try {
      if (action === 'approve') await this.memberships.approve(user, organisationId, membershipId);
      else await this.memberships.decline(user, organisationId, membershipId);
      return reply.redirect(`/organisation/${organisationId}/requests?decided=${membershipId}`, 303);
    } catch (err) {
      if (!(err instanceof DomainError) || err.kind !== 'conflict') throw err;
      return this.showRequests(user, organisationId, reply, 409, { errorList: [{ href: `#request-${membershipId}`, text: err.message }], pageTitle: 'Error: Requests to join' });
    }
  }

  private async showRequests(user: CurrentUser, organisationId: number, reply: FastifyReply, status: number, extra: { decided?: number } & Record<string, unknown>) {
    const organisation = await this.scope.organisationFor(user, organisationId);
    const { decided, ...rest } = extra;
    const [requests, outcome] = await Promise.all([this.memberships.pendingRequests(organisation.id), decided ? this.memberships.decision(organisation.id, decided) : null]);
    const notice = outcome?.status === 'active' ? `${outcome.name} is now a member: you can see their progress.` : outcome?.status === 'declined' ? `You declined ${outcome.name}’s request.` : undefined;
    return reply.status(status).view('organisations/requests', { pageTitle: 'Requests to join', organisation, requests, notice, ...rest });
  }

  /** The person's pending or active membership named in the path; 404 otherwise. */
  private async leavable(user: CurrentUser, organisationId: string): Promise<MembershipOfUser> {
    const membership = await this.memberships.membershipOf(user.id, idOf(organisationId));
    if (!membership || (membership.status !== 'active' && membership.status !== 'pending')) throw new NotFound(NOT_A_MEMBER_MESSAGE);
    return membership;
  }

  private async showYours(user: CurrentUser, reply: FastifyReply, status: number, extra: { values: Record<string, string>; picker?: OrganisationPickerView; errors: FieldErrors }) {
    const memberships = await this.memberships.membershipsOf(user.id);
    const { errors, ...rest } = extra;
    return reply.status(status).view('organisations/your-organisations', this.yoursView(user, memberships, { ...rest, ...errorView(errors, PICKER_FIELDS), pageTitle: status >= 400 ? 'Error: Your organisations' : 'Your organisations' }));
  }

  private yoursView(user: CurrentUser, memberships: MembershipOfUser[], extra: Record<string, unknown>) {
    return { pageTitle: 'Your organisations', user, memberships: memberships.map((m) => describe(m, user.emailVerified)), values: {}, ...extra };
  }

  private notice(notice: string | undefined, about: MembershipOfUser | undefined, user: CurrentUser): string | undefined {
    if (notice === 'verification-sent') return 'We have sent you a new link. Open it to verify your e-mail address.';
    if (notice === 'already-verified') return 'Your e-mail address is already verified.';
    if (!about) return undefined;
    const name = about.organisationName;
    if (notice === 'left') return `You have left ${name}. Its managers can no longer see your progress.`;
    if (notice === 'joined') return `You are now a member of ${name}. Its managers can see your progress.`;
    if (notice === 'asked') {
      if (!user.emailVerified) return `You have asked to join ${name}. Verify your e-mail address first: its managers cannot accept you until you do.`;
      if (about.organisationStatus === 'requested') return `You have asked for a new organisation, ${name}. An administrator will check it.`;
      return `You have asked to join ${name}. We have told its managers; you will be a member when one of them accepts you.`;
    }
    if (notice === 'already') return about.status === 'active' ? `You are already a member of ${name}.` : `You have already asked to join ${name}.`;
    return undefined;
  }
}

import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { idOf, positiveId } from '../../admin/admin-pages';
import { NotFound } from '../../common/errors';
import { parseForm } from '../../common/forms';
import type { DiscussionSpace } from '../entities';
import { CommunitiesQueryDto } from './communities.dto';
import { CommunitiesService, MEMBER_ACTIONS, type JoinOutcome, type LeaveOutcome, type MemberAction, type MemberActionOutcome, type Paged } from './communities.service';
import { ACCESS_LABELS, communityHref, listHref, descriptionExcerpt, memberRow, MEMBERSHIP_LABELS, threadCountLabel } from './community-views';

/** What the list says after joining, leaving or an administrator's change, of the community named. */
const LIST_NOTICES: Record<JoinOutcome | LeaveOutcome | 'created' | 'edited' | 'unchanged', (title: string) => string> = {
  joined: (title) => `You joined ${title}. You will hear about its new threads.`,
  requested: () => 'Your request is waiting for the community’s moderators. You can read its threads once they approve it.',
  already_member: (title) => `You are already a member of ${title}.`,
  already_requested: () => 'Your request is waiting for the community’s moderators. You can read its threads once they approve it.',
  left: (title) => `You left ${title}.`,
  withdrawn: (title) => `You withdrew your request to join ${title}.`,
  not_a_member: (title) => `You are not a member of ${title}.`,
  created: (title) => `${title} is created.`,
  edited: (title) => `Your changes to ${title} are saved.`,
  unchanged: (title) => `Nothing changed: ${title} already had what you saved.`,
};

/** What the members page says after a moderator's decision about a person. */
const MEMBER_NOTICES: Record<MemberAction, Record<MemberActionOutcome, (name: string) => string>> = {
  approve: {
    done: (name) => `${name} is now a member.`,
    unchanged: (name) => `${name} is already a member: another moderator approved them.`,
    gone: (name) => `There is no waiting request from ${name}: they withdrew it, or another moderator declined it.`,
  },
  decline: {
    done: (name) => `You declined ${name}’s request to join.`,
    unchanged: (name) => `${name} is already a member: another moderator approved them first. Remove them if they should not be one.`,
    gone: (name) => `There is no waiting request from ${name}: they withdrew it, or another moderator declined it.`,
  },
  remove: {
    done: (name) => `${name} is no longer a member.`,
    unchanged: (name) => `${name} is not a member.`,
    gone: (name) => `${name} is not a member.`,
  },
  moderator: {
    done: (name) => `${name} is now one of the community’s moderators.`,
    unchanged: (name) => `${name} is already one of its moderators.`,
    gone: (name) => `${name} is not a member: approve them first, then make them a moderator.`,
  },
  member: {
    done: (name) => `${name} is no longer a moderator of the community, and stays a member.`,
    unchanged: (name) => `${name} is not one of its moderators.`,
    gone: (name) => `${name} is not a member.`,
  },
};

const memberNoticeKey = (action: MemberAction, outcome: MemberActionOutcome) => `${action}.${outcome}`;

const pagination = (result: Paged<unknown>, link: (page: number) => string) => ({
  previous: result.page > 1 ? { href: link(result.page - 1), title: `Page ${result.page - 1} of ${result.pages}` } : null,
  next: result.page < result.pages ? { href: link(result.page + 1), title: `Page ${result.page + 1} of ${result.pages}` } : null,
});

const siteModerator = (user: CurrentUser) => user.role === 'admin' || user.role === 'moderator';

/**
 * Communities for people: the list of them with each one's state for the viewer, joining, leaving (or withdrawing a
 * request), and for the community's moderators its members page with their decisions. The community's own page,
 * /communities/{slug}, is the threads part's. Every form works without JavaScript; the service does the checks.
 */
@ApiExcludeController()
@Controller('communities')
export class CommunitiesPagesController {
  constructor(private readonly communities: CommunitiesService) {}

  @Get()
  async list(@SignedInUser() user: CurrentUser, @Query() raw: Record<string, string>, @Res() reply: FastifyReply) {
    const query = await parseForm(CommunitiesQueryDto, raw);
    const result = await this.communities.list(user, query.page ?? 1);
    let notice: { text: string; href: string | null; title: string } | null = null;
    if (query.notice && Object.hasOwn(LIST_NOTICES, query.notice) && query.community) {
      const about = await this.communities.bySlug(query.community).catch(() => null);
      if (about) {
        const text = LIST_NOTICES[query.notice as keyof typeof LIST_NOTICES](about.title);
        const readable = query.notice === 'joined' || query.notice === 'already_member' || query.notice === 'created' || query.notice === 'edited' || query.notice === 'unchanged';
        notice = { text, href: readable ? communityHref(about.slug!) : null, title: about.title };
      }
    }
    return reply.view('discussions/communities/list', {
      pageTitle: result.pages > 1 ? `Communities (page ${result.page} of ${result.pages})` : 'Communities',
      notice,
      result,
      canCreate: user.role === 'admin',
      communities: result.items.map(({ space, membership }) => {
        const href = communityHref(space.slug!);
        return {
          id: space.id,
          slug: space.slug,
          title: space.title,
          href,
          excerptHtml: descriptionExcerpt(space.description),
          open: space.access === 'open',
          accessLabel: ACCESS_LABELS[space.access],
          threadCountLabel: threadCountLabel(space.threadCount),
          membership,
          membershipLabel: membership ? MEMBERSHIP_LABELS[membership] : null,
          joinAction: `${href}/join`,
          leaveAction: `${href}/leave`,
          membersHref: siteModerator(user) || membership === 'moderator' ? `${href}/members` : null,
          editHref: user.role === 'admin' ? `/admin/communities/${space.id}/edit` : null,
        };
      }),
      ...pagination(result, (page) => `/communities?page=${page}`),
    });
  }

  @Post(':slug/join')
  async join(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Body() body: Record<string, string>, @Res() reply: FastifyReply) {
    const { space, outcome } = await this.communities.join(user, slug);
    // From the community's own page, back to it when the person can read it now.
    if (body?.from === 'community' && (outcome === 'joined' || outcome === 'already_member' || space.access === 'open')) return reply.redirect(`${communityHref(space.slug!)}?notice=${outcome}`, 303);
    return reply.redirect(await this.backToList(space, outcome), 303);
  }

  @Post(':slug/leave')
  async leave(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Body() body: Record<string, string>, @Res() reply: FastifyReply) {
    const { space, outcome } = await this.communities.leave(user, slug);
    if (body?.from === 'community' && space.access === 'open') return reply.redirect(`${communityHref(space.slug!)}?notice=${outcome}`, 303);
    return reply.redirect(await this.backToList(space, outcome), 303);
  }

  @Get(':slug/members')
  async members(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Query() raw: Record<string, string>, @Res() reply: FastifyReply) {
    const query = await parseForm(CommunitiesQueryDto, raw);
    const data = await this.communities.membersPage(user, slug, query.page ?? 1);
    const { space, canAppoint } = data;
    const href = communityHref(space.slug!);
    let notice: string | undefined;
    const personId = positiveId(raw?.person);
    if (query.notice && personId) {
      const [action, outcome] = query.notice.split('.') as [MemberAction, MemberActionOutcome];
      const words = Object.hasOwn(MEMBER_NOTICES, action) && Object.hasOwn(MEMBER_NOTICES[action], outcome) ? MEMBER_NOTICES[action][outcome] : null;
      const name = words ? await this.communities.personName(personId) : null;
      if (words && name) notice = words(name);
    }
    const action = (userId: number, what: MemberAction) => `${href}/members/${userId}/${what}`;
    return reply.view('discussions/communities/members', {
      pageTitle: data.members.pages > 1 ? `Members of ${space.title} (page ${data.members.page} of ${data.members.pages})` : `Members of ${space.title}`,
      notice,
      community: { title: space.title, href, open: space.access === 'open', accessLabel: ACCESS_LABELS[space.access] },
      canAppoint,
      moderators: data.moderators.map((m) => ({
        ...memberRow(m),
        standDownAction: canAppoint ? action(m.userId, 'member') : null,
        removeAction: canAppoint || m.userId === user.id ? action(m.userId, 'remove') : null,
      })),
      members: data.members.items.map((m) => ({ ...memberRow(m), appointAction: canAppoint ? action(m.userId, 'moderator') : null, removeAction: action(m.userId, 'remove') })),
      memberTotal: data.members.total,
      requests: data.requests.items.map((m) => ({ ...memberRow(m), approveAction: action(m.userId, 'approve'), declineAction: action(m.userId, 'decline') })),
      requestTotal: data.requests.total,
      moreRequests: data.requests.total - data.requests.items.length,
      ...pagination(data.members, (page) => `${href}/members?page=${page}`),
    });
  }

  @Post(':slug/members/:userId/:action')
  async act(@Param('slug') slug: string, @Param('userId', idOf('person')) userId: number, @Param('action') action: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    if (!MEMBER_ACTIONS.includes(action as MemberAction)) throw new NotFound();
    const { space, outcome } = await this.communities.act(user, slug, userId, action as MemberAction);
    return reply.redirect(`${communityHref(space.slug!)}/members?notice=${memberNoticeKey(action as MemberAction, outcome)}&person=${userId}`, 303);
  }

  /** Back to the page of the list the community is on, with the notice that says what happened. */
  private async backToList(space: DiscussionSpace, notice: string) {
    return listHref(await this.communities.pageOf(space), notice, space.slug!);
  }
}

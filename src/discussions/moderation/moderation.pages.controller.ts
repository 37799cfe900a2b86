import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import type { PersonCard } from '../../accounts/accounts.service';
import { ROLE_LABELS } from '../../accounts/roles';
import { DomainError, NotFound, ValidationFailed, type FieldErrors } from '../../common/errors';
import { errorView, formErrors, parseForm } from '../../common/forms';
import { londonDateTime } from '../../common/london-time';
import type { PostStatus, SpaceKind } from '../entities';
import { DiscussionModeration, type PostPage, type QueuePost } from './discussion-moderation.service';
import { HIDE_REASON_MAX, HideFormDto, QueueQueryDto, REPORT_REASON_LABELS, SUSPENSION_DAYS_MAX, SUSPENSION_REASON_MAX, SuspendFormDto } from './moderation.dto';
import { postIdOf, threadPath } from './reports.pages.controller';
import { DiscussionSuspensions, NO_SUCH_PERSON, type PersonSuspensions } from './suspensions.service';

export const QUEUE_PATH = '/moderation/discussions';
export const postPath = (postId: number) => `${QUEUE_PATH}/posts/${postId}`;
export const suspendPath = (userId: number) => `${QUEUE_PATH}/people/${userId}/suspend`;

const NOTICES: Record<string, string> = {
  hidden: 'The post is hidden. Readers see that a moderator removed it; its author sees your reason.',
  restored: 'The post is back where it was, for everyone who can read the discussion.',
  approved: 'The post is approved: everyone who can read the discussion sees it, and its followers are told.',
  dismissed: 'The reports are dismissed. The post stays as it is.',
  locked: 'The thread is locked: nobody can reply until it is unlocked.',
  unlocked: 'The thread is unlocked: people can reply again.',
  suspended: 'They are suspended from posting. They have been e-mailed your reason and when it ends.',
  lifted: 'The suspension is lifted: they can post again.',
};

export const SPACE_KIND_LABELS: Record<SpaceKind, string> = { course: 'Course', lesson: 'Lesson', webinar: 'Webinar', exchange: 'Exchange item', community: 'Community' };

const STATUS_TAGS: Record<PostStatus, { text: string; colour: string }> = {
  visible: { text: 'Visible', colour: 'green' },
  held: { text: 'Waiting for approval', colour: 'blue' },
  hidden: { text: 'Hidden by a moderator', colour: 'red' },
  deleted: { text: 'Deleted by its author', colour: 'grey' },
};

const HELD_REASONS: Record<string, string> = { 'new-account': 'A new account', unverified: 'E-mail address not verified' };

export const FORMER_MEMBER = 'A former member';

const personView = (person: PersonCard | null) =>
  person ? { id: person.id, name: person.name, roleLabel: ROLE_LABELS[person.role], jobRole: person.jobRole, organisationName: person.organisationName, active: person.active } : { name: FORMER_MEMBER, roleLabel: null, jobRole: null, organisationName: null, active: false };

/** A path segment read as a person's id. */
function userIdOf(value: string): number {
  if (!/^[1-9]\d{0,9}$/.test(value)) throw new NotFound(NO_SUCH_PERSON);
  return Number(value);
}

/** The `post` a moderator came from (to go back to), if it is a post id. */
const fromPostOf = (value: unknown) => (typeof value === 'string' && /^[1-9]\d{0,9}$/.test(value) ? Number(value) : null);

/**
 * The moderators' pages of discussions: the queue, one post with its reports and the decisions on it, and
 * suspensions. Site moderators and administrators moderate every discussion; a community's own moderators theirs
 * (the services decide: 403 for someone who moderates nothing, 404 for a post outside their communities).
 * Suspensions are for site moderators and administrators only.
 */
@ApiExcludeController()
@Controller('moderation/discussions')
export class DiscussionModerationPagesController {
  constructor(
    private readonly moderation: DiscussionModeration,
    private readonly suspensions: DiscussionSuspensions,
  ) {}

  @Get()
  async queue(@Query() raw: Record<string, unknown>, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    let query: QueueQueryDto;
    try {
      query = await parseForm(QueueQueryDto, raw);
    } catch (err) {
      if (err instanceof ValidationFailed) throw new ValidationFailed(err.fieldErrors, `${Object.values(err.fieldErrors).join('. ')}.`);
      throw err;
    }
    const { scope, reported, held } = await this.moderation.queue(viewer, query.page ?? 1, query.heldPage ?? 1);
    const link = (page: number, heldPage: number) => {
      const params = new URLSearchParams();
      if (page > 1) params.set('page', String(page));
      if (heldPage > 1) params.set('heldPage', String(heldPage));
      const text = params.toString();
      return text ? `${QUEUE_PATH}?${text}` : QUEUE_PATH;
    };
    const entry = (e: QueuePost) => ({
      ...e,
      href: postPath(e.postId),
      threadHref: threadPath(e.threadId),
      spaceLabel: `${SPACE_KIND_LABELS[e.spaceKind]}: ${e.spaceTitle}`,
      author: personView(e.author),
      tag: STATUS_TAGS[e.status],
    });
    const pager = (page: number, pages: number, to: (n: number) => string, what: string) => ({
      previous: page > 1 ? { href: to(page - 1), title: `${what} page ${page - 1} of ${pages}` } : null,
      next: page < pages ? { href: to(page + 1), title: `${what} page ${page + 1} of ${pages}` } : null,
    });
    return reply.view('discussions/moderation/queue', {
      pageTitle: 'Discussions moderation',
      notice: typeof query.notice === 'string' ? NOTICES[query.notice] : undefined,
      allDiscussions: scope.all,
      reported: {
        ...reported,
        items: reported.items.map((e) => ({ ...entry(e), reasons: e.reasons.map((r) => ({ ...r, label: REPORT_REASON_LABELS[r.reason] })) })),
        ...pager(reported.page, reported.pages, (n) => link(n, held.page), 'Reported posts,'),
      },
      held: {
        ...held,
        items: held.items.map((e) => ({ ...entry(e), heldReason: e.heldReason ? (HELD_REASONS[e.heldReason] ?? e.heldReason) : null })),
        ...pager(held.page, held.pages, (n) => link(reported.page, n), 'Held posts,'),
      },
    });
  }

  // ---- One post -----------------------------------------------------------------------------------------

  @Get('posts/:postId')
  async post(@Param('postId') id: string, @Query('notice') notice: unknown, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const page = await this.moderation.postPage(viewer, postIdOf(id));
    return reply.view('discussions/moderation/post', { ...this.postView(page, viewer, {}), notice: typeof notice === 'string' ? NOTICES[notice] : undefined });
  }

  @Post('posts/:postId/hide')
  async hide(@Param('postId') id: string, @Body() body: Record<string, unknown>, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    const postId = postIdOf(id);
    try {
      const { reason } = await parseForm(HideFormDto, body);
      await this.moderation.hide(moderator, postId, reason);
      return reply.redirect(`${postPath(postId)}?notice=hidden`, 303);
    } catch (err) {
      return this.refused(reply, err, moderator, postId, { reason: typeof body?.reason === 'string' ? body.reason : '' });
    }
  }

  @Post('posts/:postId/restore')
  async restore(@Param('postId') id: string, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    const postId = postIdOf(id);
    try {
      await this.moderation.restore(moderator, postId);
      return reply.redirect(`${postPath(postId)}?notice=restored`, 303);
    } catch (err) {
      return this.refused(reply, err, moderator, postId, {});
    }
  }

  @Post('posts/:postId/approve')
  async approve(@Param('postId') id: string, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    const postId = postIdOf(id);
    try {
      await this.moderation.approve(moderator, postId);
      return reply.redirect(`${postPath(postId)}?notice=approved`, 303);
    } catch (err) {
      return this.refused(reply, err, moderator, postId, {});
    }
  }

  @Post('posts/:postId/dismiss-reports')
  async dismiss(@Param('postId') id: string, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    const postId = postIdOf(id);
    try {
      await this.moderation.dismissReports(moderator, postId);
      return reply.redirect(`${postPath(postId)}?notice=dismissed`, 303);
    } catch (err) {
      return this.refused(reply, err, moderator, postId, {});
    }
  }

  @Post('posts/:postId/lock')
  lock(@Param('postId') id: string, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    return this.setLocked(postIdOf(id), moderator, true, reply);
  }

  @Post('posts/:postId/unlock')
  unlock(@Param('postId') id: string, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    return this.setLocked(postIdOf(id), moderator, false, reply);
  }

  /** Locks or unlocks the post's thread (the threads part's rule and audit entry); already so is no change and no error. */
  private async setLocked(postId: number, moderator: CurrentUser, locked: boolean, reply: FastifyReply) {
    await this.moderation.setLocked(moderator, postId, locked);
    return reply.redirect(`${postPath(postId)}?notice=${locked ? 'locked' : 'unlocked'}`, 303);
  }

  /** A refused decision: the post page as it stands now, saying why (409 for a conflict, 400 for a bad form). */
  private async refused(reply: FastifyReply, err: unknown, moderator: CurrentUser, postId: number, values: { reason?: string }) {
    if (err instanceof DomainError && err.kind === 'conflict') {
      const page = await this.moderation.postPage(moderator, postId);
      return reply.status(409).view('discussions/moderation/post', { ...this.postView(page, moderator, values), pageTitle: `Error: ${page.thread.title}`, errorList: [{ href: '#decisions', text: err.message }] });
    }
    const errors = formErrors(err);
    const page = await this.moderation.postPage(moderator, postId);
    return reply.status(400).view('discussions/moderation/post', { ...this.postView(page, moderator, values, errors), pageTitle: `Error: ${page.thread.title}` });
  }

  private postView(page: PostPage, viewer: CurrentUser, values: { reason?: string }, errors: FieldErrors = {}) {
    const { post, thread, space, author } = page;
    const base = postPath(post.id);
    const siteModerator = viewer.role === 'admin' || viewer.role === 'moderator';
    const authorIsModerator = author?.role === 'admin' || author?.role === 'moderator';
    return {
      pageTitle: `Moderate a post in ${thread.title}`,
      post: { id: post.id, isOpening: post.isOpening, bodyHtml: post.bodyHtml, createdAt: post.createdAt, editedAt: post.editedAt, statusReason: post.statusReason, tag: STATUS_TAGS[post.status], status: post.status },
      heldReason: post.status === 'held' && post.statusReason ? (HELD_REASONS[post.statusReason] ?? post.statusReason) : null,
      thread: { id: thread.id, title: thread.title, href: threadPath(thread.id), locked: thread.locked, status: thread.status },
      postHref: `${threadPath(thread.id)}#post-${post.id}`,
      spaceLabel: `${SPACE_KIND_LABELS[space.kind]}: ${space.title}`,
      author: personView(author),
      reports: page.reports.map((r) => ({ ...r, label: REPORT_REASON_LABELS[r.reason], reporter: personView(r.reporter), decidedBy: r.decidedBy ? personView(r.decidedBy) : null, open: r.status === 'open' })),
      openReports: page.openReports,
      history: page.history,
      suspensions: page.suspensions.map((s) => ({ ...s, suspendedBy: s.suspendedBy ? personView(s.suspendedBy) : null })),
      activeSuspension: page.activeSuspension ? { ...page.activeSuspension, untilText: londonDateTime(page.activeSuspension.endsAt) } : null,
      canHide: post.status === 'visible' || post.status === 'held',
      canRestore: post.status === 'hidden',
      canApprove: post.status === 'held',
      canDismiss: page.openReports > 0,
      canSuspend: siteModerator && !!author && !authorIsModerator && !page.activeSuspension,
      canLift: siteModerator && !!page.activeSuspension,
      actions: { hide: `${base}/hide`, restore: `${base}/restore`, approve: `${base}/approve`, dismiss: `${base}/dismiss-reports`, lock: `${base}/lock`, unlock: `${base}/unlock` },
      suspendHref: author ? `${suspendPath(author.id)}?post=${post.id}` : null,
      liftAction: author ? `${QUEUE_PATH}/people/${author.id}/lift` : null,
      fromPost: post.id,
      reason: values.reason ?? '',
      reasonMax: HIDE_REASON_MAX,
      ...errorView(errors, ['reason']),
    };
  }

  // ---- Suspensions --------------------------------------------------------------------------------------

  @Get('people/:userId/suspend')
  async suspendForm(@Param('userId') id: string, @Query('post') post: unknown, @Query('notice') notice: unknown, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const person = await this.suspensions.of(viewer, userIdOf(id));
    return reply.view('discussions/moderation/suspend', { ...this.suspendView(person, fromPostOf(post), {}), notice: typeof notice === 'string' ? NOTICES[notice] : undefined });
  }

  @Post('people/:userId/suspend')
  async suspend(@Param('userId') id: string, @Body() body: Record<string, unknown>, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    const userId = userIdOf(id);
    const fromPost = fromPostOf(body?.post);
    try {
      const input = await parseForm(SuspendFormDto, body);
      await this.suspensions.suspend(moderator, userId, input);
      return reply.redirect(fromPost ? `${postPath(fromPost)}?notice=suspended` : `${suspendPath(userId)}?notice=suspended`, 303);
    } catch (err) {
      const values = { days: typeof body?.days === 'string' ? body.days : '', reason: typeof body?.reason === 'string' ? body.reason : '' };
      const person = await this.suspensions.of(moderator, userId);
      if (err instanceof DomainError && err.kind === 'conflict') {
        return reply.status(409).view('discussions/moderation/suspend', { ...this.suspendView(person, fromPost, values), pageTitle: `Error: Suspend ${person.person.name}`, errorList: [{ href: '#suspension', text: err.message }] });
      }
      if (err instanceof DomainError && err.kind === 'forbidden') throw err;
      const errors = formErrors(err);
      return reply.status(400).view('discussions/moderation/suspend', { ...this.suspendView(person, fromPost, values), ...errorView(errors, ['days', 'reason']), pageTitle: `Error: Suspend ${person.person.name}` });
    }
  }

  @Post('people/:userId/lift')
  async lift(@Param('userId') id: string, @Body() body: Record<string, unknown>, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    const userId = userIdOf(id);
    const fromPost = fromPostOf(body?.post);
    try {
      await this.suspensions.lift(moderator, userId);
      return reply.redirect(fromPost ? `${postPath(fromPost)}?notice=lifted` : `${suspendPath(userId)}?notice=lifted`, 303);
    } catch (err) {
      if (!(err instanceof DomainError && err.kind === 'conflict')) throw err;
      const person = await this.suspensions.of(moderator, userId);
      return reply.status(409).view('discussions/moderation/suspend', { ...this.suspendView(person, fromPost, {}), pageTitle: `Error: Suspend ${person.person.name}`, errorList: [{ href: '#suspension', text: err.message }] });
    }
  }

  private suspendView(data: PersonSuspensions, fromPost: number | null, values: { days?: string; reason?: string }) {
    return {
      pageTitle: `Suspend ${data.person.name} from posting`,
      person: personView(data.person),
      backHref: fromPost ? postPath(fromPost) : QUEUE_PATH,
      refusal: data.refusal,
      active: data.active ? { ...data.active, untilText: londonDateTime(data.active.endsAt) } : null,
      history: data.history.map((s) => ({ ...s, suspendedBy: s.suspendedBy ? personView(s.suspendedBy) : null, untilText: londonDateTime(s.endsAt) })),
      action: suspendPath(data.person.id),
      liftAction: `${QUEUE_PATH}/people/${data.person.id}/lift`,
      fromPost,
      values: { days: values.days ?? '', reason: values.reason ?? '' },
      daysMax: SUSPENSION_DAYS_MAX,
      reasonMax: SUSPENSION_REASON_MAX,
    };
  }
}

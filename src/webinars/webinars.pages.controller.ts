import { Body, Controller, Get, Logger, Param, ParseIntPipe, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { In, Repository } from 'typeorm';
import { Public, SignedInUser, type CurrentUser } from '../accounts/identity';
import { CertificateDirectory } from '../common/certificate-directory';
import { Clock } from '../common/clock';
import { RelatedExchange } from '../common/related-exchange';
import { DomainError, NotFound, ValidationFailed } from '../common/errors';
import { errorView, parseForm } from '../common/forms';
import { londonDateTime } from '../common/london-time';
import { renderMarkdown } from '../common/markdown';
import { FileStorage } from '../storage/file-storage';
import { serveFile } from '../storage/serve-file';
import { AttendanceService } from './attendance.service';
import { Webinar, WebinarQuestion } from './entities';
import { EventStreamSlots, openEventStream } from '../live/event-stream';
import { QuestionsHub } from './questions-hub';
import { QuestionsService, type QuestionView } from './questions.service';
import { joinWindowOpen, webinarPhase, type WebinarPhase } from './webinar-phase';
import { joinLinkFor, webinarDetail } from './webinar-view';
import { ModerateQuestionDto, QUESTION_MAX_LENGTH, QuestionDto, WebinarListQueryDto, type When } from './webinars.dto';
import { canManage, WebinarsService, type WebinarCard } from './webinars.service';

const questionId = new ParseIntPipe({ exceptionFactory: () => new NotFound('There is no such question in this webinar') });

/** The success banners a redirect after a POST asks for (`?notice=…`). */
const NOTICES: Record<string, string> = {
  registered: 'You have a place at this webinar. We have e-mailed you a calendar invitation.',
  waitlisted: 'This webinar is full, so you are on the waitlist. We will e-mail you if a place comes up.',
  cancelled: 'Your place has been cancelled.',
  left: 'You have left the waitlist.',
};

const PHASE_TAGS: Record<WebinarPhase, { text: string; colour: string }> = {
  draft: { text: 'Draft', colour: 'grey' },
  scheduled: { text: 'Scheduled', colour: 'blue' },
  live: { text: 'Live now', colour: 'green' },
  ended: { text: 'Ended', colour: 'grey' },
  cancelled: { text: 'Cancelled', colour: 'red' },
};

/** "45 minutes", "1 hour", "1 hour 30 minutes". */
export function lengthLabel(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const parts = [hours ? `${hours} ${hours === 1 ? 'hour' : 'hours'}` : '', rest ? `${rest} ${rest === 1 ? 'minute' : 'minutes'}` : ''];
  return parts.filter(Boolean).join(' ') || '0 minutes';
}

/** A question's text as lines: the page shows each on its own line, escaped (never as markup). */
const linesOf = (body: string) => body.split('\n');

interface LiveState {
  /** The question text to put back in the form, with its error. */
  body?: string;
  errors?: Record<string, string>;
  errorList?: Array<{ href: string; text: string }>;
}

/**
 * The learner's side of webinars: the listing, a webinar's page (register, cancel, join, the recording),
 * "My webinars" and the live Q&A page with its event stream. Services do the checks; pages show the outcome.
 */
@ApiExcludeController()
@Controller()
export class WebinarsPagesController {
  private readonly logger = new Logger('WebinarsPages');

  constructor(
    private readonly webinars: WebinarsService,
    private readonly attendance: AttendanceService,
    private readonly questions: QuestionsService,
    private readonly hub: QuestionsHub,
    private readonly streamSlots: EventStreamSlots,
    private readonly certificates: CertificateDirectory,
    private readonly storage: FileStorage,
    private readonly clock: Clock,
    private readonly related: RelatedExchange,
    @InjectRepository(Webinar) private readonly webinarRows: Repository<Webinar>,
    @InjectRepository(WebinarQuestion) private readonly questionRows: Repository<WebinarQuestion>,
  ) {}

  // ---- Listing ------------------------------------------------------------------------------------------

  @Public()
  @Get('webinars')
  async list(@Query() raw: Record<string, string>, @Res() reply: FastifyReply) {
    const query = await parseQuery(raw);
    const when: When = query.when ?? 'upcoming';
    const [result, topics] = await Promise.all([this.webinars.list(when, { topic: query.topic, page: query.page }), this.webinars.listTopics()]);
    const link = (params: Record<string, string | undefined>) => {
      const search = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => !!e[1]));
      return `/webinars${search.size ? `?${search}` : ''}`;
    };
    const pageLink = (page: number) => link({ when: when === 'upcoming' ? undefined : when, topic: query.topic, page: String(page) });
    const topic = topics.find((t) => t.slug === query.topic);
    return reply.view('webinars/list', {
      pageTitle: when === 'past' ? 'Past webinars' : 'Upcoming webinars',
      when,
      upcoming: when === 'upcoming',
      tabs: [
        { text: 'Upcoming', href: link({ topic: query.topic }), current: when === 'upcoming' },
        { text: 'Past', href: link({ when: 'past', topic: query.topic }), current: when === 'past' },
      ],
      topicName: topic?.name,
      topics: topics.map((t) => ({ value: t.slug, text: t.name, selected: t.slug === query.topic })),
      result,
      webinars: result.items.map((card) => this.cardView(card)),
      previous: result.page > 1 ? { href: pageLink(result.page - 1), title: `Page ${result.page - 1} of ${result.pages}` } : null,
      next: result.page < result.pages ? { href: pageLink(result.page + 1), title: `Page ${result.page + 1} of ${result.pages}` } : null,
    });
  }

  // ---- My webinars ----------------------------------------------------------------------------------------

  @Get('my-webinars')
  async mine(@SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const mine = await this.webinars.mine(user.id);
    const now = this.clock.now();
    const upcoming = mine.filter((m) => m.card.endsAt > now);
    const past = mine.filter((m) => m.card.endsAt <= now).reverse();
    const pastRows = past.length ? await this.webinarRows.findBy({ id: In(past.map((m) => m.card.id)) }) : [];
    const byId = new Map(pastRows.map((w) => [w.id, w]));
    return reply.view('webinars/mine', {
      pageTitle: 'My webinars',
      upcoming: await Promise.all(
        upcoming.map(async ({ card, registration }) => ({
          ...this.cardView(card),
          registered: registration.status === 'registered',
          waitlistPosition: await this.webinars.waitlistPosition(registration),
        })),
      ),
      past: await Promise.all(
        past.map(async ({ card, registration }) => {
          const webinar = byId.get(card.id);
          const viewing = webinar ? await this.attendance.viewing(user.id, webinar) : null;
          return {
            ...this.cardView(card),
            registered: registration.status === 'registered',
            attendedLive: !!viewing?.attendedLive,
            hasVideo: !!webinar?.recordingKey && card.phase === 'ended',
            coveredPercent: viewing?.coveredPercent ?? 0,
            credited: !!viewing?.credited,
            certificate: viewing?.credited ? ((await this.certificates.find(user.id, 'webinar', card.id)) ?? { preparing: true }) : null,
          };
        }),
      ),
    });
  }

  // ---- One webinar --------------------------------------------------------------------------------------

  @Public()
  @Get('webinars/:slug')
  async page(@Param('slug') slug: string, @Query('notice') notice: string | undefined, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const viewer = request.identity?.user ?? null;
    const webinar = await this.webinars.bySlug(slug, viewer);
    const now = this.clock.now();
    const [card] = await this.webinars.cards([webinar]);
    const detail = webinarDetail(webinar, card);
    const found = viewer ? await this.webinars.registrationOf(viewer.id, webinar.id) : null;
    const registration = found && found.status !== 'cancelled' ? found : null;
    const registered = registration?.status === 'registered';
    const phase = detail.status;
    const open = phase === 'scheduled' || phase === 'live';
    const manager = canManage(webinar, viewer);
    const video = viewer && phase === 'ended' && webinar.recordingKey ? await this.recordingView(viewer, webinar) : null;
    // "From the exchange": what organisations shared on the webinar's topic.
    const fromExchange = webinar.topicId === null ? [] : await this.related.itemsOnTopics([webinar.topicId]);
    return reply.view('webinars/webinar', {
      pageTitle: webinar.title,
      notice: notice && Object.hasOwn(NOTICES, notice) ? NOTICES[notice] : undefined,
      webinar: {
        ...detail,
        lengthLabel: lengthLabel(webinar.durationMinutes),
        tag: PHASE_TAGS[phase],
        descriptionHtml: renderMarkdown(webinar.description, { demoteHeadings: true }),
        full: card.placesLeft === 0,
      },
      draft: phase === 'draft',
      open,
      ended: phase === 'ended',
      cancelled: phase === 'cancelled',
      registration: registration ? { registered, waitlistPosition: await this.webinars.waitlistPosition(registration) } : null,
      // Register, cancel and leave only while the webinar has not ended or been cancelled (and is published).
      canRegister: !!viewer && open && !registration,
      canCancel: !!viewer && open && !!registration,
      joinHref: joinLinkFor(webinar, registered, now, viewer),
      joinOpensAt: open && registered && !joinWindowOpen(webinar, now) ? londonDateTime(new Date(detail.joinOpensAt)) : null,
      liveHref: viewer && (registered || manager) && phase !== 'draft' && phase !== 'cancelled' ? `/webinars/${webinar.slug}/live` : null,
      video,
      recordingLink: phase === 'ended' && !webinar.recordingKey ? webinar.recordingUrl : null,
      signInToWatch: !viewer && phase === 'ended' && !!webinar.recordingKey,
      related: { exchangeItems: fromExchange, exploreHref: card.topic ? `/exchange?topic=${encodeURIComponent(card.topic.slug)}` : '/exchange' },
      // Who reads the webinar's discussion: its registrants and waiting list, its author, administrators and moderators.
      discussionHref: viewer && (registration || manager || viewer.role === 'moderator') ? `/webinars/${webinar.slug}/discussion` : null,
    });
  }

  @Post('webinars/:slug/register')
  async register(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const webinar = await this.webinars.bySlug(slug, user);
    const outcome = await this.webinars.register(user.id, webinar.id);
    return reply.redirect(`/webinars/${webinar.slug}?notice=${outcome.status}`, 303);
  }

  @Post('webinars/:slug/cancel')
  async cancel(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const webinar = await this.webinars.bySlug(slug, user);
    const before = await this.webinars.registrationOf(user.id, webinar.id);
    await this.webinars.cancelRegistration(user.id, webinar.id);
    const notice = before?.status === 'waitlisted' ? 'left' : before?.status === 'registered' ? 'cancelled' : null;
    return reply.redirect(`/webinars/${webinar.slug}${notice ? `?notice=${notice}` : ''}`, 303);
  }

  /** Follows the join link: recorded as live attendance, then off to the meeting. */
  @Get('webinars/:slug/join')
  async join(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const webinar = await this.webinars.bySlug(slug, user);
    const url = await this.attendance.join(user.id, webinar);
    return reply.header('cache-control', 'no-store').redirect(url, 303);
  }

  @Get('webinars/:slug/recording/captions.vtt')
  async recordingCaptions(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const webinar = await this.webinars.bySlug(slug, user);
    if (webinarPhase(webinar, this.clock.now()) !== 'ended' || !webinar.recordingKey || !webinar.recordingCaptionsKey) throw new NotFound('This recording has no captions');
    return serveFile(this.storage, webinar.recordingCaptionsKey, request, reply, { contentType: 'text/vtt; charset=utf-8' });
  }

  /** The uploaded recording, with Range support so the player can seek. */
  @Get('webinars/:slug/recording')
  async recording(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const webinar = await this.webinars.bySlug(slug, user);
    if (webinarPhase(webinar, this.clock.now()) !== 'ended' || !webinar.recordingKey) throw new NotFound('This webinar has no recording to watch here');
    return serveFile(this.storage, webinar.recordingKey, request, reply, { contentType: webinar.recordingType ?? 'video/mp4' });
  }

  // ---- Live Q&A -----------------------------------------------------------------------------------------

  @Get('webinars/:slug/live')
  async live(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const webinar = await this.followable(slug, user);
    return this.renderLive(reply, webinar, user);
  }

  /** Server-sent events: the question list now, then again whenever it changes. */
  @Get('webinars/:slug/questions/stream')
  async stream(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const webinar = await this.followable(slug, user);
    // At most a few streams per sign-in (429 beyond), freed when each stream ends, however it ends.
    const holder = EventStreamSlots.holderOf(request);
    const release = holder ? await this.streamSlots.acquire(holder) : () => undefined;
    const stream = openEventStream(request, reply);
    stream.onClose(release);
    try {
      await this.hub.join(webinar.id, stream, canManage(webinar, user));
    } catch (err) {
      // The response is already an event stream: end it (the browser reconnects) rather than answer an error.
      this.logger.warn(`Could not start the question stream of webinar ${webinar.id}: ${(err as Error).message}`);
      stream.close();
    }
  }

  @Post('webinars/:slug/questions')
  async ask(@Param('slug') slug: string, @Body() body: Record<string, unknown>, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const webinar = await this.followable(slug, user);
    const typed = typeof body?.body === 'string' ? body.body : '';
    try {
      const input = await parseForm(QuestionDto, body);
      await this.questions.ask(user, webinar, input.body);
    } catch (err) {
      if (!(err instanceof DomainError) || (err.kind !== 'invalid' && err.kind !== 'conflict')) throw err;
      const message = err.fieldErrors.body ?? err.message;
      reply.status(err.kind === 'invalid' ? 400 : 409);
      return this.renderLive(reply, webinar, user, { body: typed, ...errorView({ body: message }) });
    }
    return reply.redirect(`/webinars/${webinar.slug}/live#questions`, 303);
  }

  @Post('webinars/:slug/questions/:questionId/vote')
  async vote(@Param('slug') slug: string, @Param('questionId', questionId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const webinar = await this.followable(slug, user);
    try {
      await this.questions.vote(user, webinar, id);
    } catch (err) {
      if (!(err instanceof DomainError) || err.kind !== 'conflict') throw err;
      reply.status(409);
      return this.renderLive(reply, webinar, user, { errorList: [{ href: `#question-${id}`, text: err.message }] });
    }
    return reply.redirect(`/webinars/${webinar.slug}/live#question-${id}`, 303);
  }

  @Post('webinars/:slug/questions/:questionId/status')
  async moderate(@Param('slug') slug: string, @Param('questionId', questionId) id: number, @Body() body: Record<string, unknown>, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const webinar = await this.followable(slug, user);
    const input = await parseForm(ModerateQuestionDto, body);
    await this.questions.moderate(user, webinar, id, input.status);
    return reply.redirect(`/webinars/${webinar.slug}/live#question-${id}`, 303);
  }

  /** The webinar, if this user may follow its live questions (registrants, its author, admins); 404 otherwise. */
  private async followable(slug: string, user: CurrentUser): Promise<Webinar> {
    const webinar = await this.webinars.bySlug(slug, user);
    if (webinar.status === 'draft' || !(await this.questions.canFollow(user, webinar))) {
      throw new NotFound('Register for this webinar to follow its live questions. If you are on the waitlist, you can follow them once you have a place.');
    }
    return webinar;
  }

  private async renderLive(reply: FastifyReply, webinar: Webinar, user: CurrentUser, state: LiveState = {}) {
    const now = this.clock.now();
    const moderator = canManage(webinar, user);
    const [questions, voted, own, registration] = await Promise.all([
      this.questions.list(webinar.id, { includeHidden: moderator }),
      this.questions.votedBy(user.id, webinar.id),
      this.questionRows.find({ where: { webinarId: webinar.id, userId: user.id }, select: { id: true } }),
      this.webinars.registrationOf(user.id, webinar.id),
    ]);
    const mine = new Set(own.map((q) => q.id));
    const inWindow = joinWindowOpen(webinar, now);
    const phase = webinarPhase(webinar, now);
    return reply.view('webinars/live', {
      pageTitle: `Live questions – ${webinar.title}`,
      webinar: { id: webinar.id, slug: webinar.slug, title: webinar.title, startsAtLondon: londonDateTime(webinar.startsAt), tag: PHASE_TAGS[phase] },
      joinHref: joinLinkFor(webinar, registration?.status === 'registered', now, user),
      streamUrl: inWindow ? webinar.streamUrl : null,
      inWindow,
      ended: phase === 'ended',
      moderator,
      maxLength: QUESTION_MAX_LENGTH,
      body: state.body,
      errors: state.errors,
      errorList: state.errorList,
      votedIds: [...voted].join(','),
      myQuestionIds: [...mine].join(','),
      questions: questions.map((q) => this.questionView(q, { mine: mine.has(q.id), voted: voted.has(q.id), inWindow, moderator })),
    });
  }

  private questionView(q: QuestionView, context: { mine: boolean; voted: boolean; inWindow: boolean; moderator: boolean }) {
    return {
      ...q,
      lines: linesOf(q.body),
      oneVote: q.votes === 1,
      answered: q.status === 'answered',
      hidden: q.status === 'hidden',
      mine: context.mine,
      voted: context.voted,
      canVote: context.inWindow && !context.mine && !context.voted && q.status !== 'hidden',
      moderations: context.moderator
        ? [
            ...(q.status !== 'answered' ? [{ status: 'answered', text: 'Mark answered' }] : []),
            ...(q.status !== 'hidden' ? [{ status: 'hidden', text: 'Hide' }] : []),
            ...(q.status !== 'open' ? [{ status: 'open', text: 'Reopen' }] : []),
          ]
        : [],
    };
  }

  // ---- Views --------------------------------------------------------------------------------------------

  private cardView(card: WebinarCard) {
    return {
      ...card,
      startsAtLondon: londonDateTime(card.startsAt),
      lengthLabel: lengthLabel(card.durationMinutes),
      live: card.phase === 'live',
      ended: card.phase === 'ended',
      cancelled: card.phase === 'cancelled',
      full: card.placesLeft === 0,
      onePlace: card.placesLeft === 1,
    };
  }

  private async recordingView(viewer: CurrentUser, webinar: Webinar) {
    const viewing = await this.attendance.viewing(viewer.id, webinar);
    return {
      duration: webinar.recordingSeconds ?? 0,
      resumeAt: viewing.resumeAt,
      coveredPercent: viewing.coveredPercent,
      credited: viewing.credited,
      attendedLive: viewing.attendedLive,
      type: webinar.recordingType ?? 'video/mp4',
      captions: !!webinar.recordingCaptionsKey,
      certificate: viewing.credited ? ((await this.certificates.find(viewer.id, 'webinar', webinar.id)) ?? { preparing: true }) : null,
    };
  }
}

/** The listing's query, or a 400 page that says what is wrong with it. */
async function parseQuery(raw: Record<string, string>): Promise<WebinarListQueryDto> {
  try {
    return await parseForm(WebinarListQueryDto, raw);
  } catch (err) {
    if (err instanceof ValidationFailed) throw new ValidationFailed(err.fieldErrors, `${Object.values(err.fieldErrors).join('. ')}.`);
    throw err;
  }
}

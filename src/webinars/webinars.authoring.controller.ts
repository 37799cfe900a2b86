import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Param, ParseIntPipe, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccountsService } from '../accounts/accounts.service';
import { Roles, SignedInUser, type CurrentUser } from '../accounts/identity';
import { cpdHours } from '../catalogue/catalogue.service';
import { WebmLengthDto } from '../catalogue/authoring/authoring.dto';
import { CAPTIONS_RULE } from '../catalogue/authoring/authoring.service';
import { claimedKind, storeUpload, UploadTooLarge, type UploadRule } from '../catalogue/authoring/uploads';
import { mp4DurationSeconds, storedFileReader } from '../catalogue/authoring/video-duration';
import { Clock } from '../common/clock';
import { DomainError, FieldErrors, NotFound, ValidationFailed } from '../common/errors';
import { errorView, formErrors, parseForm } from '../common/forms';
import { londonDateTime, londonFields } from '../common/london-time';
import { renderMarkdown } from '../common/markdown';
import { readMultipartHead, type PendingUpload } from '../common/multipart';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { VIDEO_KINDS } from '../storage/content-check';
import { FileStorage } from '../storage/file-storage';
import { AttendanceService } from './attendance.service';
import { registrationReport, registrationsCsv } from './csv';
import type { Webinar } from './entities';
import { QuestionsService } from './questions.service';
import { presentersOf } from './webinar-view';
import { endsAt, webinarPhase, type WebinarPhase } from './webinar-phase';
import { CancelWebinarDto, ModerateQuestionDto, RecordingLinkDto, WebinarDetailsDto } from './webinars.dto';
import { WebinarsService } from './webinars.service';

const webinarId = new ParseIntPipe({ exceptionFactory: () => new NotFound('There is no webinar at this address') });
const questionId = new ParseIntPipe({ exceptionFactory: () => new NotFound('There is no such question') });

const PHASE_TAGS: Record<WebinarPhase, { text: string; colour: string }> = {
  draft: { text: 'Draft', colour: 'grey' },
  scheduled: { text: 'Scheduled', colour: 'blue' },
  live: { text: 'Live now', colour: 'green' },
  ended: { text: 'Ended', colour: 'white' },
  cancelled: { text: 'Cancelled', colour: 'red' },
};
const REGISTRATION_LABELS = { registered: 'Registered', waitlisted: 'Waitlisted', cancelled: 'Cancelled' } as const;
const QUESTION_LABELS = { open: { text: 'Open', colour: 'blue' }, answered: { text: 'Answered', colour: 'green' }, hidden: { text: 'Hidden', colour: 'grey' } } as const;
const NOTICES: Record<string, string> = {
  created: 'Webinar created as a draft. Check the details, then publish it so learners can register.',
  saved: 'Your changes have been saved. If the time, length, title or meeting link changed, registrants have been sent an updated calendar invitation.',
  published: 'The webinar is published: learners can find it and register.',
  cancelled: 'The webinar is cancelled. Registrants and the waitlist have been told and their calendars updated.',
  recording: 'The recording has been added. Registrants have been sent an e-mail with a link to it.',
  captions: 'Captions added to the recording.',
  moderated: 'The question has been updated.',
};
const DETAIL_FIELDS = ['title', 'summary', 'description', 'presenters', 'topicId', 'date', 'time', 'durationMinutes', 'capacity', 'joinUrl', 'streamUrl', 'cpdHours', 'minAttendanceMinutes'];

/** Recordings are videos, checked by their first bytes like a video lesson's. */
const RECORDING_RULE: UploadRule = { field: 'file', allowed: VIDEO_KINDS, description: 'an MP4 or WebM video' };
/** Recording files uploaded here live under this prefix (so only they are ever removed when replaced). */
const recordingKey = (id: number, extension: string) => `webinars/${id}/recording-${randomUUID()}.${extension}`;
const isRecordingKey = (key: string | null | undefined): key is string => !!key && key.startsWith('webinars/');

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** A refused action shown on the webinar's page: field errors, or a conflict's message under the action's anchor. */
function actionErrors(err: unknown, anchor: string): FieldErrors {
  if (err instanceof DomainError && err.kind === 'conflict' && !Object.keys(err.fieldErrors).length) return { [anchor]: err.message };
  return formErrors(err);
}

const statusOf = (err: unknown) => (err instanceof UploadTooLarge ? 413 : err instanceof DomainError && err.kind === 'conflict' ? 409 : 400);

/** The form's values for a saved webinar: its start as London wall-clock date and time. */
function detailValues(w: Webinar): Record<string, unknown> {
  return {
    title: w.title,
    summary: w.summary,
    description: w.description,
    presenters: w.presenters,
    topicId: w.topicId === null ? '' : String(w.topicId),
    ...londonFields(w.startsAt),
    durationMinutes: String(w.durationMinutes),
    capacity: String(w.capacity),
    joinUrl: w.joinUrl ?? '',
    streamUrl: w.streamUrl ?? '',
    cpdHours: String(cpdHours(w.cpdMinutes)),
    minAttendanceMinutes: String(w.minAttendanceMinutes),
  };
}

/** Webinar authoring pages: authors schedule and run their own webinars, administrators anyone's (checked in the service). */
@ApiExcludeController()
@Roles('author')
@Controller('author/webinars')
export class WebinarsAuthoringController {
  constructor(
    private readonly webinars: WebinarsService,
    private readonly attendance: AttendanceService,
    private readonly questions: QuestionsService,
    private readonly accounts: AccountsService,
    private readonly storage: FileStorage,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Get()
  async list(@SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const webinars = await this.webinars.authored(user);
    const cards = await this.webinars.cards(webinars);
    const isAdmin = user.role === 'admin';
    return reply.view('webinars/authoring/list', {
      pageTitle: isAdmin ? 'All webinars' : 'Your webinars',
      heading: isAdmin ? 'All webinars' : 'Your webinars',
      isAdmin,
      webinars: webinars.map((w, i) => ({
        id: w.id,
        title: w.title,
        mine: w.authorId === user.id,
        tag: PHASE_TAGS[cards[i].phase],
        startsAt: londonDateTime(w.startsAt),
        taken: cards[i].capacity - cards[i].placesLeft,
        capacity: w.capacity,
      })),
    });
  }

  @Get('new')
  async newWebinar(@Res() reply: FastifyReply) {
    return reply.view('webinars/authoring/new', { pageTitle: 'Schedule a webinar', ...(await this.detailsForm({ durationMinutes: '60', capacity: '100', cpdHours: '1', minAttendanceMinutes: '45' })) });
  }

  @Post('new')
  async create(@SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(WebinarDetailsDto, body);
      const webinar = await this.webinars.create(user, input);
      return reply.redirect(`/author/webinars/${webinar.id}?notice=created`, 303);
    } catch (err) {
      const errors = formErrors(err);
      return reply.status(400).view('webinars/authoring/new', { pageTitle: 'Error: Schedule a webinar', ...(await this.detailsForm(body ?? {})), ...errorView(errors, DETAIL_FIELDS) });
    }
  }

  @Get(':id')
  async page(@Param('id', webinarId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply, @Query('notice') notice?: string) {
    return this.renderPage(reply, user, await this.webinars.managed(user, id), { notice });
  }

  @Post(':id')
  async save(@Param('id', webinarId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(WebinarDetailsDto, body);
      await this.webinars.update(user, id, input, this.config.webinars.reminderMinutes);
      return reply.redirect(`/author/webinars/${id}?notice=saved`, 303);
    } catch (err) {
      const errors = actionErrors(err, 'details');
      return this.renderPage(reply.status(statusOf(err)), user, await this.webinars.managed(user, id), { values: body ?? {}, errors, order: ['details', ...DETAIL_FIELDS] });
    }
  }

  @Post(':id/publish')
  async publish(@Param('id', webinarId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    try {
      await this.webinars.publish(user, id, this.config.webinars.reminderMinutes);
      return reply.redirect(`/author/webinars/${id}?notice=published`, 303);
    } catch (err) {
      const errors = actionErrors(err, 'publish');
      return this.renderPage(reply.status(statusOf(err)), user, await this.webinars.managed(user, id), { errors });
    }
  }

  @Post(':id/cancel')
  async cancel(@Param('id', webinarId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(CancelWebinarDto, body);
      await this.webinars.cancel(user, id, input.reason);
      return reply.redirect(`/author/webinars/${id}?notice=cancelled`, 303);
    } catch (err) {
      const errors = actionErrors(err, 'reason');
      return this.renderPage(reply.status(statusOf(err)), user, await this.webinars.managed(user, id), { values: { reason: body?.reason }, errors });
    }
  }

  /** The recording as a video file (multipart: the CSRF token and, for WebM, the length come before the file). */
  @Post(':id/recording')
  async uploadRecording(@Param('id', webinarId) id: number, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const upload = await this.upload(request);
    try {
      await this.attachUploadedRecording(user, id, upload);
      return reply.redirect(`/author/webinars/${id}?notice=recording#recording`, 303);
    } catch (err) {
      const errors = actionErrors(err, 'file');
      return this.renderPage(reply.status(statusOf(err)), user, await this.webinars.managed(user, id), { values: { videoSeconds: upload.fields.videoSeconds }, errors, order: ['videoSeconds', 'file'] });
    }
  }

  /** WebVTT captions for the uploaded recording (multipart), replacing any before. */
  @Post(':id/recording-captions')
  async uploadCaptions(@Param('id', webinarId) id: number, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const upload = await this.upload(request);
    try {
      await this.webinars.managed(user, id);
      const kind = claimedKind(upload.file, CAPTIONS_RULE);
      const key = `webinars/${id}/captions-${randomUUID()}.vtt`;
      await storeUpload(this.storage, upload.file!, key, kind, CAPTIONS_RULE, this.config.uploads.maxBytes);
      const replaced = await this.webinars.attachCaptions(user, id, key).catch(async (err: unknown) => {
        await this.removeQuietly(key);
        throw err;
      });
      if (isRecordingKey(replaced)) await this.removeQuietly(replaced);
      return reply.redirect(`/author/webinars/${id}?notice=captions#recording`, 303);
    } catch (err) {
      const errors = actionErrors(err, 'captions');
      return this.renderPage(reply.status(statusOf(err)), user, await this.webinars.managed(user, id), { errors, order: ['captions'] });
    }
  }

  @Post(':id/recording-link')
  async recordingLink(@Param('id', webinarId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(RecordingLinkDto, body);
      const before = await this.webinars.managed(user, id);
      await this.webinars.attachRecording(user, id, { url: input.recordingUrl });
      for (const old of [before.recordingKey, before.recordingCaptionsKey]) if (isRecordingKey(old)) await this.removeQuietly(old);
      return reply.redirect(`/author/webinars/${id}?notice=recording#recording`, 303);
    } catch (err) {
      const errors = actionErrors(err, 'recordingUrl');
      return this.renderPage(reply.status(statusOf(err)), user, await this.webinars.managed(user, id), { values: { recordingUrl: body?.recordingUrl }, errors });
    }
  }

  @Post(':id/questions/:questionId/status')
  async moderate(@Param('id', webinarId) id: number, @Param('questionId', questionId) question: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    const webinar = await this.webinars.managed(user, id);
    const input = await parseForm(ModerateQuestionDto, body);
    await this.questions.moderate(user, webinar, question, input.status);
    return reply.redirect(`/author/webinars/${id}?notice=moderated#question-${question}`, 303);
  }

  @Get(':id/registrations.csv')
  async registrationsCsv(@Param('id', webinarId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const webinar = await this.webinars.managed(user, id);
    const rows = await this.report(webinar);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${webinar.slug}-registrations.csv"`)
      .header('cache-control', 'no-store')
      .send(registrationsCsv(rows));
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Streams the video into storage under a new key (checked by its first bytes, within the size limit), reads
   * an MP4's length from its movie header, then attaches it. On any failure nothing new is kept.
   */
  private async attachUploadedRecording(user: CurrentUser, id: number, upload: PendingUpload): Promise<void> {
    const before = await this.webinars.managed(user, id);
    // Refused before any byte is stored: the service says the same, but only after the upload.
    if (before.status !== 'scheduled' || webinarPhase(before, this.clock.now()) !== 'ended') throw new ValidationFailed({ file: 'A recording can be added once the webinar has ended' });
    const kind = claimedKind(upload.file, RECORDING_RULE);
    let seconds: number | null = null;
    if (kind.extension === 'webm') seconds = (await parseForm(WebmLengthDto, upload.fields)).videoSeconds;
    const key = recordingKey(id, kind.extension);
    const stored = await storeUpload(this.storage, upload.file!, key, kind, RECORDING_RULE, this.config.uploads.maxBytes);
    try {
      if (kind.extension === 'mp4') {
        seconds = await mp4DurationSeconds(storedFileReader(this.storage, key, stored.bytes), stored.bytes);
        if (!seconds) throw new ValidationFailed({ file: 'The length of this MP4 video could not be read from the file (it has no movie header). Export it again as a standard MP4, or upload it as WebM and give its length.' });
      }
      await this.webinars.attachRecording(user, id, { key, type: kind.mimeType, seconds: seconds! });
    } catch (err) {
      await this.removeQuietly(key);
      throw err;
    }
    for (const old of [before.recordingKey, before.recordingCaptionsKey]) if (isRecordingKey(old) && old !== key) await this.removeQuietly(old);
  }

  private async removeQuietly(key: string): Promise<void> {
    await this.storage.remove(key).catch(() => undefined);
  }

  /** The multipart form's fields and its file part, still unread (the CSRF guard has read the fields). */
  private async upload(request: FastifyRequest): Promise<PendingUpload> {
    if (request.pendingUpload) return request.pendingUpload;
    if (typeof request.isMultipart === 'function' && request.isMultipart()) return readMultipartHead(request);
    return { fields: (request.body as Record<string, string>) ?? {}, file: null };
  }

  private async report(webinar: Webinar) {
    const registrations = await this.webinars.registrationsFor(webinar.id);
    const [contacts, attendance] = await Promise.all([this.accounts.contactsOf([...new Set(registrations.map((r) => r.userId))]), this.attendance.forWebinar(webinar.id)]);
    return registrationReport(webinar, registrations, contacts, attendance);
  }

  private async detailsForm(values: Record<string, unknown>) {
    const topics = await this.webinars.listTopics();
    const topicId = text(values.topicId);
    return { values, topics: topics.map((t) => ({ value: String(t.id), text: t.name, selected: String(t.id) === topicId })) };
  }

  private async renderPage(reply: FastifyReply, user: CurrentUser, webinar: Webinar, options: { notice?: string; values?: Record<string, unknown>; errors?: FieldErrors; order?: string[] }) {
    const now = this.clock.now();
    const phase = webinarPhase(webinar, now);
    const [rows, questions, form, topic] = await Promise.all([
      this.report(webinar),
      this.questions.list(webinar.id, { includeHidden: true }),
      this.detailsForm({ ...detailValues(webinar), ...(options.values ?? {}) }),
      this.webinars.topicOf(webinar),
    ]);
    const errors = errorView(options.errors ?? {}, options.order);
    const registered = rows.filter((r) => r.status === 'registered').length;
    const waitlisted = rows.filter((r) => r.status === 'waitlisted').length;
    const maxMb = Math.floor(this.config.uploads.maxBytes / (1024 * 1024));
    return reply.view('webinars/authoring/webinar', {
      pageTitle: `${options.errors ? 'Error: ' : ''}${webinar.title}`,
      webinar: {
        id: webinar.id,
        slug: webinar.slug,
        title: webinar.title,
        summary: webinar.summary,
        topic: topic?.name ?? null,
        presenters: presentersOf(webinar),
        startsAt: londonDateTime(webinar.startsAt),
        endsAt: londonDateTime(endsAt(webinar)),
        durationMinutes: webinar.durationMinutes,
        capacity: webinar.capacity,
        joinUrl: webinar.joinUrl,
        streamUrl: webinar.streamUrl,
        cpdHours: cpdHours(webinar.cpdMinutes),
        minAttendanceMinutes: webinar.minAttendanceMinutes,
        cancelReason: webinar.cancelReason,
        cancelledAt: webinar.cancelledAt ? londonDateTime(webinar.cancelledAt) : null,
        recordingUrl: webinar.recordingUrl,
        recordingType: webinar.recordingType,
        recordingDuration: webinar.recordingSeconds ? `${Math.floor(webinar.recordingSeconds / 60)}:${String(webinar.recordingSeconds % 60).padStart(2, '0')}` : null,
        hasUploadedRecording: !!webinar.recordingKey,
        hasCaptions: !!webinar.recordingCaptionsKey,
        recordingAddedAt: webinar.recordingAddedAt ? londonDateTime(webinar.recordingAddedAt) : null,
        mine: webinar.authorId === user.id,
      },
      tag: PHASE_TAGS[phase],
      isDraft: phase === 'draft',
      isCancelled: phase === 'cancelled',
      isEnded: phase === 'ended',
      canEdit: phase !== 'cancelled',
      canCancel: phase === 'draft' || phase === 'scheduled' || phase === 'live',
      canAddRecording: phase === 'ended',
      descriptionHtml: webinar.description ? renderMarkdown(webinar.description, { demoteHeadings: true }) : '',
      notice: options.notice ? NOTICES[options.notice] : undefined,
      errors: errors.errors,
      errorList: errors.errorList,
      ...form,
      maxMb,
      registered,
      waitlisted,
      registrations: rows.map((r) => ({
        ...r,
        statusLabel: REGISTRATION_LABELS[r.status],
        registeredAt: londonDateTime(r.registeredAt),
        joinedLiveAt: r.joinedLiveAt ? londonDateTime(r.joinedLiveAt) : null,
        hasWatchPercent: r.recordingWatchedPercent !== null,
        creditedAt: r.creditedAt ? londonDateTime(r.creditedAt) : null,
      })),
      questions: questions.map((q) => ({
        ...q,
        tag: QUESTION_LABELS[q.status],
        askedAt: londonDateTime(new Date(q.askedAt)),
        actions: [
          ...(q.status !== 'answered' ? [{ status: 'answered', text: 'Mark as answered' }] : []),
          ...(q.status !== 'hidden' ? [{ status: 'hidden', text: 'Hide' }] : []),
          ...(q.status !== 'open' ? [{ status: 'open', text: q.status === 'hidden' ? 'Show again' : 'Reopen' }] : []),
        ],
      })),
    });
  }
}

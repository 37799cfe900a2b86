import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Between, EntityManager, In, LessThan, MoreThan, Repository } from 'typeorm';
import type { CurrentUser } from '../accounts/identity';
import { CatalogueService, cpdHours, type TopicRef } from '../catalogue/catalogue.service';
import { Clock } from '../common/clock';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../common/errors';
import { londonToUtc } from '../common/london-time';
import { slugify } from '../common/slug';
import { isUniqueViolation } from '../database/errors';
import { UnitOfWork } from '../database/unit-of-work';
import { JobsService } from '../jobs/jobs.service';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { Webinar, WebinarRegistration, type RegistrationStatus } from './entities';
import { AttendanceService } from './attendance.service';
import { WebinarMailer } from './webinar-mailer';
import { endsAt, webinarPhase, type WebinarPhase } from './webinar-phase';
import type { WebinarDetailsDto, When } from './webinars.dto';

declare module '../jobs/job-registry' {
  interface JobRegistry {
    /** Reminders of one webinar at one offset; the start time in the id makes a rescheduled webinar's reminders new. */
    'webinars.remind': { webinarId: number; minutes: number; startsAt: number };
    'webinars.reminders.sweep': Record<string, never>;
  }
}

export const WEBINARS_PAGE_SIZE = 12;
/** The longest a webinar may last (the authoring form's limit). */
export const MAX_DURATION_MINUTES = 480;

export interface WebinarCard {
  id: number;
  slug: string;
  title: string;
  summary: string;
  startsAt: Date;
  endsAt: Date;
  durationMinutes: number;
  capacity: number;
  placesLeft: number;
  phase: WebinarPhase;
  cpdHours: number;
  topic: { id: number; slug: string; name: string } | null;
  hasRecording: boolean;
}

export interface WebinarList {
  items: WebinarCard[];
  total: number;
  page: number;
  pages: number;
}

export interface RegistrationOutcome {
  registrationId: number;
  status: Exclude<RegistrationStatus, 'cancelled'>;
  /** Their place on the waitlist (1 = next), when waitlisted. */
  waitlistPosition: number | null;
}

/**
 * Webinars: the listing, the page, scheduling and changes by authors, and registrations with their
 * waitlist. A registration change runs in one transaction holding the webinar's row lock, so two learners
 * racing for the last place take turns: one gets it, the other is waitlisted.
 */
@Injectable()
export class WebinarsService {
  private readonly logger = new Logger('Webinars');

  constructor(
    @InjectRepository(Webinar) private readonly webinars: Repository<Webinar>,
    @InjectRepository(WebinarRegistration) private readonly registrations: Repository<WebinarRegistration>,
    private readonly catalogue: CatalogueService,
    private readonly uow: UnitOfWork,
    private readonly mailer: WebinarMailer,
    private readonly attendance: AttendanceService,
    private readonly jobs: JobsService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /**
   * Upcoming (including live) soonest first, or past latest first; published ones only. Only webinars that
   * started within the longest possible length (8 hours) can be either, so only those are sorted out here;
   * older ones are paged by the database.
   */
  async list(when: When, options: { topic?: string; page?: number } = {}): Promise<WebinarList> {
    const now = this.clock.now();
    const page = Math.max(1, options.page ?? 1);
    const offset = (page - 1) * WEBINARS_PAGE_SIZE;
    const horizon = new Date(now.getTime() - MAX_DURATION_MINUTES * 60_000);
    // An unknown topic matches nothing (id 0 is never given out).
    const topicId = options.topic ? ((await this.catalogue.topicBySlug(options.topic))?.id ?? 0) : null;
    const published = () => {
      const query = this.webinars.createQueryBuilder('w').where('w.status = :status', { status: 'scheduled' });
      return topicId === null ? query : query.andWhere('w.topic_id = :topicId', { topicId });
    };
    const recent = (await published().andWhere('w.starts_at > :horizon AND w.starts_at <= :now', { horizon, now }).orderBy('w.starts_at', 'DESC').getMany());
    const live = recent.filter((w) => endsAt(w) > now);
    const ended = recent.filter((w) => endsAt(w) <= now);
    let first: Webinar[];
    let rest: [Webinar[], number];
    if (when === 'upcoming') {
      first = live.reverse();
      rest = await published().andWhere('w.starts_at > :now', { now }).orderBy('w.starts_at', 'ASC').addOrderBy('w.id', 'ASC').skip(Math.max(0, offset - first.length)).take(WEBINARS_PAGE_SIZE).getManyAndCount();
    } else {
      first = ended;
      rest = await published().andWhere('w.starts_at <= :horizon', { horizon }).orderBy('w.starts_at', 'DESC').addOrderBy('w.id', 'DESC').skip(Math.max(0, offset - first.length)).take(WEBINARS_PAGE_SIZE).getManyAndCount();
    }
    const fromFirst = first.slice(offset, offset + WEBINARS_PAGE_SIZE);
    const items = [...fromFirst, ...rest[0].slice(0, WEBINARS_PAGE_SIZE - fromFirst.length)];
    const total = first.length + rest[1];
    return { items: await this.cards(items), total, page, pages: Math.max(1, Math.ceil(total / WEBINARS_PAGE_SIZE)) };
  }

  /** Cards for the given webinars: one grouped query counts the places taken. */
  async cards(webinars: Webinar[]): Promise<WebinarCard[]> {
    const [taken, topics] = await Promise.all([this.placesTaken(webinars.map((w) => w.id)), this.catalogue.topicsById()]);
    const now = this.clock.now();
    return webinars.map((w) => {
      const topic = w.topicId === null ? undefined : topics.get(w.topicId);
      return {
        id: w.id,
        slug: w.slug,
        title: w.title,
        summary: w.summary,
        startsAt: w.startsAt,
        endsAt: endsAt(w),
        durationMinutes: w.durationMinutes,
        capacity: w.capacity,
        placesLeft: Math.max(0, w.capacity - (taken.get(w.id) ?? 0)),
        phase: webinarPhase(w, now),
        cpdHours: cpdHours(w.cpdMinutes),
        topic: topic ?? null,
        hasRecording: !!(w.recordingKey || w.recordingUrl),
      };
    });
  }

  /** A webinar by its address: drafts only for their author and admins (404 for everyone else). */
  async bySlug(slug: string, viewer: CurrentUser | null): Promise<Webinar> {
    const webinar = await this.webinars.findOne({ where: { slug } });
    if (!webinar || (webinar.status === 'draft' && !canManage(webinar, viewer))) throw new NotFound('There is no webinar at this address');
    return webinar;
  }

  /** A published (or cancelled) webinar by id, for the API; drafts are invisible. */
  async published(id: number): Promise<Webinar> {
    const webinar = await this.webinars.findOne({ where: { id } });
    if (!webinar || webinar.status === 'draft') throw new NotFound('There is no webinar with that id');
    return webinar;
  }

  /**
   * Published webinars on any of the topics, for "related" lists elsewhere (the exchange): those to come or live now,
   * soonest first, then those that ended, latest first; at most `limit`. Two indexed queries of at most a few rows.
   */
  async onTopics(topicIds: readonly number[], limit: number): Promise<Array<{ slug: string; title: string; startsAt: Date; upcoming: boolean }>> {
    if (!topicIds.length || limit < 1) return [];
    const now = this.clock.now();
    const horizon = new Date(now.getTime() - MAX_DURATION_MINUTES * 60_000);
    const where = { status: 'scheduled' as const, topicId: In([...topicIds]) };
    const soon = await this.webinars.find({ where: { ...where, startsAt: MoreThan(horizon) }, order: { startsAt: 'ASC', id: 'ASC' }, take: limit + 10 });
    const upcoming = soon.filter((w) => endsAt(w) > now).slice(0, limit);
    const past = upcoming.length < limit ? (await this.webinars.find({ where: { ...where, startsAt: LessThan(now) }, order: { startsAt: 'DESC', id: 'DESC' }, take: limit + 10 })).filter((w) => endsAt(w) <= now) : [];
    return [...upcoming.map((w) => ({ w, upcoming: true })), ...past.map((w) => ({ w, upcoming: false }))].slice(0, limit).map(({ w, upcoming: isUpcoming }) => ({ slug: w.slug, title: w.title, startsAt: w.startsAt, upcoming: isUpcoming }));
  }

  /** Of these people, those registered for the webinar (or on its waiting list): who may read its discussion. */
  async registeredAmong(webinarId: number, userIds: readonly number[]): Promise<Set<number>> {
    if (!userIds.length) return new Set();
    const rows = await this.registrations.find({ where: { webinarId, userId: In([...new Set(userIds)]), status: In(['registered', 'waitlisted']) }, select: { userId: true } });
    return new Set(rows.map((r) => r.userId));
  }

  /** Any webinar by id, whatever its status (discussions decide who sees what); null if there is none. */
  webinarById(id: number): Promise<Webinar | null> {
    return this.webinars.findOne({ where: { id } });
  }

  registrationOf(userId: number, webinarId: number): Promise<WebinarRegistration | null> {
    return this.registrations.findOneBy({ userId, webinarId });
  }

  async waitlistPosition(registration: WebinarRegistration): Promise<number | null> {
    if (registration.status !== 'waitlisted') return null;
    const ahead = await this.registrations.count({ where: { webinarId: registration.webinarId, status: 'waitlisted', queuedAt: LessThan(registration.queuedAt) } });
    return ahead + 1;
  }

  /** A learner's webinars: what they are registered or waitlisted for, upcoming and past. */
  async mine(userId: number): Promise<Array<{ card: WebinarCard; registration: WebinarRegistration }>> {
    const registrations = await this.registrations.find({ where: { userId, status: In(['registered', 'waitlisted']) } });
    if (!registrations.length) return [];
    const webinars = await this.webinars.find({ where: { id: In(registrations.map((r) => r.webinarId)) }, order: { startsAt: 'ASC' } });
    const cards = await this.cards(webinars);
    const byWebinar = new Map(registrations.map((r) => [r.webinarId, r]));
    return cards.map((card) => ({ card, registration: byWebinar.get(card.id)! }));
  }

  // ---- Registration -------------------------------------------------------------------------------------

  /** Registers a learner, or waitlists them when the webinar is full. Idempotent: a second call answers the same. */
  async register(userId: number, webinarId: number): Promise<RegistrationOutcome> {
    const { outcome, webinar, registration, isNew } = await this.uow.run(async (tx) => {
      const webinar = await this.lockWebinar(tx, webinarId);
      const existing = await tx.getRepository(WebinarRegistration).findOneBy({ webinarId, userId });
      if (existing && existing.status !== 'cancelled') return { outcome: existing.status, webinar, registration: existing, isNew: false };
      this.requireOpenForRegistration(webinar);
      const taken = await tx.getRepository(WebinarRegistration).countBy({ webinarId, status: 'registered' });
      const status = taken < webinar.capacity ? 'registered' : 'waitlisted';
      const now = this.clock.now();
      const repo = tx.getRepository(WebinarRegistration);
      let registration: WebinarRegistration;
      if (existing) {
        // Registering again reuses the row and its calendar UID, so its SEQUENCE goes on rising (RFC 5546).
        Object.assign(existing, { status, queuedAt: now, promotedAt: null, cancelledAt: null, sequence: existing.sequence + 1 });
        registration = await repo.save(existing);
      } else {
        registration = await repo.save(repo.create({ webinarId, userId, status, queuedAt: now, promotedAt: null, cancelledAt: null, sequence: 0 }));
      }
      return { outcome: status, webinar, registration, isNew: true };
    });
    if (isNew) await this.mailer.send(webinar, [registration], { kind: outcome === 'registered' ? 'invitation' : 'waitlisted', occasion: registration.queuedAt.getTime() });
    return { registrationId: registration.id, status: outcome as RegistrationOutcome['status'], waitlistPosition: await this.waitlistPosition(registration) };
  }

  /** Cancels a learner's place; the first on the waitlist is promoted into a freed place. Idempotent. */
  async cancelRegistration(userId: number, webinarId: number): Promise<{ cancelled: boolean }> {
    const result = await this.uow.run(async (tx) => {
      const webinar = await this.lockWebinar(tx, webinarId);
      const repo = tx.getRepository(WebinarRegistration);
      const registration = await repo.findOneBy({ webinarId, userId });
      if (!registration || registration.status === 'cancelled') return null;
      if (webinarPhase(webinar, this.clock.now()) === 'ended') throw new Conflict('This webinar has ended; there is no place to cancel');
      const wasRegistered = registration.status === 'registered';
      registration.status = 'cancelled';
      registration.cancelledAt = this.clock.now();
      registration.sequence += 1;
      await repo.save(registration);
      const promoted = wasRegistered ? await this.promote(tx, webinar) : [];
      return { webinar, registration, wasRegistered, promoted };
    });
    if (!result) return { cancelled: false };
    // A CANCEL only for a place they held: leaving the waitlist takes nothing out of a calendar.
    await this.mailer.send(result.webinar, [result.registration], { kind: 'left', occasion: result.registration.cancelledAt!.getTime(), holdsPlace: result.wasRegistered });
    await this.mailer.send(result.webinar, result.promoted, (r) => ({ kind: 'promoted', occasion: r.queuedAt.getTime() }));
    return { cancelled: true };
  }

  /** Places freed other than by cancelling (a deleted account's): the waitlist moves up, and those promoted are told. */
  async fillFreedPlaces(webinarId: number): Promise<void> {
    const result = await this.uow.run(async (tx) => {
      const webinar = await this.uow.lockForUpdate(tx, Webinar, { id: webinarId });
      return webinar ? { webinar, promoted: await this.promote(tx, webinar) } : null;
    });
    if (result?.promoted.length) await this.mailer.send(result.webinar, result.promoted, (r) => ({ kind: 'promoted', occasion: r.queuedAt.getTime() }));
  }

  /** Moves the first waitlisted learners into free places, in the order they joined the waitlist. */
  private async promote(tx: EntityManager, webinar: Webinar): Promise<WebinarRegistration[]> {
    if (webinar.status !== 'scheduled' || webinarPhase(webinar, this.clock.now()) === 'ended') return [];
    const repo = tx.getRepository(WebinarRegistration);
    const free = webinar.capacity - (await repo.countBy({ webinarId: webinar.id, status: 'registered' }));
    if (free <= 0) return [];
    const next = await repo.find({ where: { webinarId: webinar.id, status: 'waitlisted' }, order: { queuedAt: 'ASC', id: 'ASC' }, take: free });
    const now = this.clock.now();
    // Promotion is the registration's own change too: its first REQUEST comes with a SEQUENCE above any it had.
    for (const registration of next) Object.assign(registration, { status: 'registered', promotedAt: now, sequence: registration.sequence + 1 });
    const sequence = tx.connection.driver.escape('sequence');
    if (next.length) await repo.update({ id: In(next.map((r) => r.id)) }, { status: 'registered', promotedAt: now, sequence: () => `${sequence} + 1` });
    return next;
  }

  private requireOpenForRegistration(webinar: Webinar): void {
    const phase = webinarPhase(webinar, this.clock.now());
    if (phase === 'cancelled') throw new Conflict('This webinar has been cancelled, so it is not taking registrations');
    if (phase === 'ended') throw new Conflict('This webinar has ended, so it is not taking registrations; watch the recording instead');
  }

  private async lockWebinar(tx: EntityManager, id: number): Promise<Webinar> {
    const webinar = await this.uow.lockForUpdate(tx, Webinar, { id });
    if (!webinar || webinar.status === 'draft') throw new NotFound('There is no webinar with that id');
    return webinar;
  }

  private async placesTaken(ids: number[]): Promise<Map<number, number>> {
    if (!ids.length) return new Map();
    const rows = await this.registrations
      .createQueryBuilder('r')
      .select('r.webinar_id', 'webinarId')
      .addSelect('COUNT(*)', 'taken')
      .where('r.webinar_id IN (:...ids)', { ids })
      .andWhere('r.status = :status', { status: 'registered' })
      .groupBy('r.webinar_id')
      .getRawMany<{ webinarId: number; taken: string | number }>();
    return new Map(rows.map((r) => [Number(r.webinarId), Number(r.taken)]));
  }

  // ---- Reminders ----------------------------------------------------------------------------------------

  /**
   * Asks for each reminder of a webinar at its due time (delayed jobs). The sweep does the same for any that
   * are due now, in case a delayed job was lost (in-process jobs do not survive a restart).
   */
  async scheduleReminders(webinar: Webinar, reminderMinutes: number[]): Promise<void> {
    if (webinar.status !== 'scheduled') return;
    const now = this.clock.now().getTime();
    const minutesToStart = (webinar.startsAt.getTime() - now) / 60_000;
    for (const minutes of reminderMinutes) {
      const due = webinar.startsAt.getTime() - minutes * 60_000;
      // A reminder whose time has passed goes now only if it is still the right one (see dueOffset).
      if (due <= now && dueOffset(minutesToStart, reminderMinutes) !== minutes) continue;
      await this.jobs.tryEnqueue('webinars.remind', { webinarId: webinar.id, minutes, startsAt: webinar.startsAt.getTime() }, { jobId: remindJobId(webinar, minutes), delayMs: Math.max(0, due - now) });
    }
  }


  /** Reminders due now: for each webinar starting within the largest offset, the one reminder that is due (if any). */
  async dueReminders(reminderMinutes: number[]): Promise<Array<{ webinar: Webinar; minutes: number }>> {
    const now = this.clock.now();
    const largest = reminderMinutes[0] ?? 0;
    if (!largest) return [];
    const soon = await this.webinars.find({ where: { status: 'scheduled', startsAt: Between(now, new Date(now.getTime() + largest * 60_000)) }, order: { startsAt: 'ASC' } });
    return soon.flatMap((webinar) => {
      const minutes = dueOffset((webinar.startsAt.getTime() - now.getTime()) / 60_000, reminderMinutes);
      return minutes ? [{ webinar, minutes }] : [];
    });
  }


  /** Sends one reminder to every current registrant, once each, however often it runs. */
  async sendReminder(webinarId: number, minutes: number, startsAt: number): Promise<number> {
    const webinar = await this.webinars.findOneBy({ id: webinarId });
    // Rescheduled, cancelled or already started: this reminder is not (or no longer) right.
    if (!webinar || webinar.status !== 'scheduled' || webinar.startsAt.getTime() !== startsAt) return 0;
    const minutesToStart = (webinar.startsAt.getTime() - this.clock.now().getTime()) / 60_000;
    if (dueOffset(minutesToStart, this.config.webinars.reminderMinutes) !== minutes) return 0;
    let sent = 0;
    let after = 0;
    for (;;) {
      const batch = await this.registrations.find({ where: { webinarId, status: 'registered', id: MoreThan(after) }, order: { id: 'ASC' }, take: 1000 });
      if (!batch.length) break;
      await this.mailer.send(webinar, batch, { kind: 'reminder', occasion: `${startsAt}:${minutes}`, extra: { when: reminderWording(minutesToStart) } });
      sent += batch.length;
      after = batch[batch.length - 1].id;
    }
    return sent;
  }

  // ---- Authoring ----------------------------------------------------------------------------------------

  /** Webinars an author may manage: their own; admins all. Newest first. */
  authored(user: CurrentUser): Promise<Webinar[]> {
    requireAuthor(user);
    return this.webinars.find({ where: user.role === 'admin' ? {} : { authorId: user.id }, order: { startsAt: 'DESC' } });
  }

  async managed(user: CurrentUser, id: number): Promise<Webinar> {
    requireAuthor(user);
    const webinar = await this.webinars.findOne({ where: { id } });
    // Another author's webinar is as invisible as a missing one.
    if (!webinar || !canManage(webinar, user)) throw new NotFound('There is no webinar with that id among yours');
    return webinar;
  }

  listTopics(): Promise<TopicRef[]> {
    return this.catalogue.listTopics();
  }

  async topicOf(webinar: Webinar): Promise<TopicRef | null> {
    return webinar.topicId === null ? null : ((await this.catalogue.topicsById()).get(webinar.topicId) ?? null);
  }

  async create(user: CurrentUser, input: WebinarDetailsDto): Promise<Webinar> {
    requireAuthor(user);
    const fields = await this.fieldsFrom(input);
    const now = this.clock.now();
    if (fields.startsAt <= now) throw new ValidationFailed({ date: 'The start must be in the future' });
    const base = slugify(input.title, 110) || 'webinar';
    for (let n = 1; ; n++) {
      const slug = n === 1 ? base : `${base}-${n}`;
      if (await this.webinars.existsBy({ slug })) continue;
      try {
        return await this.webinars.save(this.webinars.create({ ...fields, slug, status: 'draft', sequence: 0, authorId: user.id, createdAt: now, updatedAt: now, recordingKey: null, recordingType: null, recordingSeconds: null, recordingUrl: null, recordingAddedAt: null, cancelReason: null, cancelledAt: null }));
      } catch (err) {
        if (!isUniqueViolation(err) || n > 20) throw err;
      }
    }
  }

  /**
   * Saves an author's changes. Registrants hear of a change to what their calendar holds (time, length,
   * title, link) with an updated invitation (higher SEQUENCE); the waitlist hears of it too, without one
   * (they hold no place); more places move the waitlist up.
   */
  async update(user: CurrentUser, id: number, input: WebinarDetailsDto, reminderMinutes: number[]): Promise<Webinar> {
    const current = await this.managed(user, id);
    if (current.status === 'cancelled') throw new Conflict('A cancelled webinar cannot be changed');
    const fields = await this.fieldsFrom(input);
    const calendarChanged =
      fields.startsAt.getTime() !== current.startsAt.getTime() || fields.durationMinutes !== current.durationMinutes || fields.title !== current.title || fields.joinUrl !== current.joinUrl;
    if (fields.startsAt.getTime() !== current.startsAt.getTime() && fields.startsAt <= this.clock.now()) throw new ValidationFailed({ date: 'A new start must be in the future' });
    const { webinar, promoted } = await this.uow.run(async (tx) => {
      const webinar = (await this.uow.lockForUpdate(tx, Webinar, { id })) ?? current;
      Object.assign(webinar, fields, { updatedAt: this.clock.now() });
      if (calendarChanged && webinar.status !== 'draft') webinar.sequence += 1;
      await tx.getRepository(Webinar).save(webinar);
      return { webinar, promoted: webinar.status === 'draft' ? [] : await this.promote(tx, webinar) };
    });
    if (webinar.status === 'scheduled') {
      if (calendarChanged) await this.mailAll(webinar, ['registered', 'waitlisted'], { kind: 'updated', occasion: webinar.sequence });
      await this.mailer.send(webinar, promoted, (r) => ({ kind: 'promoted', occasion: r.queuedAt.getTime() }));
      await this.scheduleReminders(webinar, reminderMinutes);
    }
    return webinar;
  }

  /** Publishes a draft: it appears in the listing and takes registrations. */
  async publish(user: CurrentUser, id: number, reminderMinutes: number[]): Promise<Webinar> {
    const webinar = await this.managed(user, id);
    if (webinar.status !== 'draft') throw new Conflict('Only a draft can be published');
    if (webinar.startsAt <= this.clock.now()) throw new Conflict('The start time has passed: change it before publishing');
    if (!webinar.joinUrl && !webinar.streamUrl) throw new Conflict('Add a meeting link or a stream link before publishing, so registrants can join');
    Object.assign(webinar, { status: 'scheduled', updatedAt: this.clock.now() });
    await this.webinars.update({ id, status: 'draft' }, { status: webinar.status, updatedAt: webinar.updatedAt });
    await this.scheduleReminders(webinar, reminderMinutes);
    return webinar;
  }

  /** Cancels a webinar: every registrant gets a cancellation (METHOD:CANCEL); the waitlist is told, with no calendar object. */
  async cancel(user: CurrentUser, id: number, reason: string): Promise<Webinar> {
    await this.managed(user, id);
    const webinar = await this.uow.run(async (tx) => {
      const webinar = await this.uow.lockForUpdate(tx, Webinar, { id });
      if (!webinar) throw new NotFound('There is no webinar with that id among yours');
      if (webinar.status === 'cancelled') return webinar;
      if (webinarPhase(webinar, this.clock.now()) === 'ended') throw new Conflict('This webinar has already taken place');
      Object.assign(webinar, { status: 'cancelled', cancelReason: reason, cancelledAt: this.clock.now(), sequence: webinar.sequence + 1, updatedAt: this.clock.now() });
      return tx.getRepository(Webinar).save(webinar);
    });
    this.attendance.forgetRecording(id);
    await this.mailAll(webinar, ['registered', 'waitlisted'], { kind: 'cancelled', occasion: webinar.sequence });
    return webinar;
  }

  /** Attaches an uploaded recording (already stored and checked) or a link, and tells the registrants. */
  async attachRecording(user: CurrentUser, id: number, recording: { key: string; type: string; seconds: number } | { url: string }): Promise<Webinar> {
    const webinar = await this.managed(user, id);
    if (webinar.status !== 'scheduled' || webinarPhase(webinar, this.clock.now()) !== 'ended') throw new Conflict('A recording can be added once the webinar has ended');
    const now = this.clock.now();
    const fields = 'url' in recording
      ? { recordingUrl: recording.url, recordingKey: null, recordingType: null, recordingSeconds: null, recordingCaptionsKey: null }
      : { recordingKey: recording.key, recordingType: recording.type, recordingSeconds: recording.seconds, recordingUrl: null, recordingCaptionsKey: null };
    Object.assign(webinar, fields, { recordingAddedAt: webinar.recordingAddedAt ?? now, updatedAt: now });
    await this.webinars.update({ id }, { ...fields, recordingAddedAt: webinar.recordingAddedAt, updatedAt: now });
    this.attendance.forgetRecording(id);
    const attended = await this.attendance.attendedLive(id);
    await this.mailAll(webinar, ['registered'], (r) => ({ kind: 'recording', occasion: 'first', extra: { attended: attended.has(r.userId) } }));
    return webinar;
  }

  /** Captions (WebVTT, already stored and checked) for the uploaded recording; returns the key they replace. */
  async attachCaptions(user: CurrentUser, id: number, key: string): Promise<string | null> {
    const webinar = await this.managed(user, id);
    if (!webinar.recordingKey) throw new ValidationFailed({ captions: 'Upload the recording before its captions' });
    await this.webinars.update({ id }, { recordingCaptionsKey: key, updatedAt: this.clock.now() });
    return webinar.recordingCaptionsKey;
  }

  /** Registrations with their learners' details, for the author's page and CSV (waitlist in order). */
  registrationsFor(webinarId: number): Promise<WebinarRegistration[]> {
    return this.registrations.find({ where: { webinarId }, order: { status: 'ASC', queuedAt: 'ASC', id: 'ASC' } });
  }

  private async mailAll(webinar: Webinar, statuses: RegistrationStatus[], message: Parameters<WebinarMailer['send']>[2]): Promise<void> {
    let after = 0;
    for (;;) {
      const batch = await this.registrations.find({ where: { webinarId: webinar.id, status: In(statuses), id: MoreThan(after) }, order: { id: 'ASC' }, take: 1000 });
      if (!batch.length) return;
      await this.mailer.send(webinar, batch, message);
      after = batch[batch.length - 1].id;
    }
  }

  private async fieldsFrom(input: WebinarDetailsDto) {
    if (input.topicId !== undefined && !(await this.catalogue.existingTopicIds([input.topicId])).length) throw new ValidationFailed({ topicId: 'Choose a topic from the list' });
    const startsAt = londonToUtc(input.date, input.time);
    if (input.minAttendanceMinutes > input.durationMinutes) throw new ValidationFailed({ minAttendanceMinutes: 'The minimum attendance cannot be longer than the webinar' });
    return {
      title: input.title,
      summary: input.summary,
      description: input.description ?? '',
      presenters: input.presenters,
      topicId: input.topicId ?? null,
      startsAt,
      durationMinutes: input.durationMinutes,
      capacity: input.capacity,
      joinUrl: input.joinUrl ?? null,
      streamUrl: input.streamUrl ?? null,
      cpdMinutes: Math.round(Number(input.cpdHours) * 60),
      minAttendanceMinutes: input.minAttendanceMinutes,
    };
  }
}

export const canManage = (webinar: Pick<Webinar, 'authorId'>, user: CurrentUser | null) => !!user && (user.role === 'admin' || user.id === webinar.authorId);

function requireAuthor(user: CurrentUser): void {
  if (user.role !== 'author' && user.role !== 'admin') throw new Forbidden('Only authors and admins can manage webinars');
}

const remindJobId = (webinar: Webinar, minutes: number) => `webinars.remind:${webinar.id}:${webinar.startsAt.getTime()}:${minutes}`;

/**
 * Which reminder is due when a webinar starts in `minutesToStart`: the smallest offset already reached, as
 * long as no more than half of it has gone by (a webinar published two hours before its start gets the
 * one-hour reminder, not a "tomorrow" one). Null when none is due.
 */
export function dueOffset(minutesToStart: number, offsets: number[]): number | null {
  if (minutesToStart <= 0) return null;
  const reached = offsets.filter((m) => minutesToStart <= m).sort((a, b) => a - b)[0];
  return reached !== undefined && minutesToStart >= reached / 2 ? reached : null;
}

/** "tomorrow" / "in 3 hours" / "in 1 hour" / "in 20 minutes": how far off the start is when the reminder goes. */
export function reminderWording(minutesToStart: number): string {
  const minutes = Math.round(minutesToStart);
  if (minutes >= 18 * 60) return minutes <= 36 * 60 ? 'tomorrow' : `in ${Math.round(minutes / 1440)} days`;
  if (minutes >= 45) return Math.round(minutes / 60) === 1 ? 'in 1 hour' : `in ${Math.round(minutes / 60)} hours`;
  return `in ${minutes} minutes`;
}

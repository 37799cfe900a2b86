import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, IsNull, LessThan, LessThanOrEqual, Not, Repository } from 'typeorm';
import { CertificatesService } from '../certificates/certificates.service';
import { Clock } from '../common/clock';
import { TtlCache } from '../common/ttl-cache';
import { Conflict, Forbidden, NotFound } from '../common/errors';
import type { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { isUniqueViolation } from '../database/errors';
import { UnitOfWork } from '../database/unit-of-work';
import { applyHeartbeat, checkInterval, coveragePercent, resumePosition } from '../learning/coverage';
import { Webinar, WebinarAttendance, WebinarRegistration } from './entities';
import { endsAt, joinWindowOpen, liveMinutes, webinarPhase } from './webinar-phase';

declare module '../jobs/job-registry' {
  interface JobRegistry {
    'webinars.credit.sweep': Record<string, never>;
  }
}

export interface RecordingHeartbeatOutcome {
  coveredSeconds: number;
  durationSeconds: number;
  coveredPercent: number;
  /** True once the learner has earned the certificate of attendance (live or by the recording). */
  credited: boolean;
}

/** Ended webinars are looked at for live credit this long after their end. */
const LIVE_CREDIT_LOOKBACK_MS = 14 * 24 * 3600_000;
/** A credit whose certificate has not been recorded this long after is asked for again (a lost job). */
const CREDIT_RETRY_AFTER_MS = 60_000;
/** How long a web instance trusts a recording it looked up (see recordingSeconds). */
const RECORDING_CACHE_MS = 5_000;

/**
 * Attendance: following the join link (live) and watching the recording (honest coverage, the same code
 * as video lessons). A learner who attended live for the minimum, or watched enough of the recording, is
 * credited once (`creditedAt`, set under the row's lock) and the certificates job issues the certificate
 * of attendance; a sweep re-asks for credits whose certificate never arrived.
 */
@Injectable()
export class AttendanceService {
  private readonly logger = new Logger('WebinarAttendance');
  private readonly recordings = new TtlCache<number>(RECORDING_CACHE_MS, 1000);

  constructor(
    @InjectRepository(WebinarAttendance) private readonly attendance: Repository<WebinarAttendance>,
    @InjectRepository(Webinar) private readonly webinars: Repository<Webinar>,
    @InjectRepository(WebinarRegistration) private readonly registrations: Repository<WebinarRegistration>,
    private readonly uow: UnitOfWork,
    private readonly certificates: CertificatesService,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Records that a registrant followed the join link; returns where to send them. */
  async join(userId: number, webinar: Webinar): Promise<string> {
    const registration = await this.registrations.findOneBy({ webinarId: webinar.id, userId });
    if (registration?.status !== 'registered') throw new Forbidden('Only learners with a place can join this webinar. Register first, or wait for a place on the waitlist.');
    const now = this.clock.now();
    if (!joinWindowOpen(webinar, now)) {
      throw new Conflict(webinarPhase(webinar, now) === 'ended' ? 'This webinar has ended; watch the recording when it is added' : 'The join link opens 15 minutes before the start');
    }
    await this.write(webinar.id, userId, (row) => {
      row.firstJoinedAt ??= now;
      row.lastJoinedAt = now;
      row.joinCount += 1;
    });
    return webinar.joinUrl ?? webinar.streamUrl ?? `/webinars/${webinar.slug}/live`;
  }

  /** One heartbeat of the recording player. Anyone signed in may watch a published recording. */
  async heartbeat(userId: number, webinarId: number, claim: { from: number; to: number }): Promise<RecordingHeartbeatOutcome> {
    const duration = await this.recordingSeconds(webinarId);
    checkInterval(claim.from, claim.to, duration); // before the row is made: a bad claim changes nothing
    let outcome = { coveredSeconds: 0, coveredPercent: 0 };
    const { row, newlyCredited } = await this.write(webinarId, userId, (row, now) => {
      outcome = applyHeartbeat(row, claim, duration, now);
      if (!row.creditedAt && outcome.coveredPercent >= this.config.webinars.recordingCreditPercent) row.creditedAt = now;
    });
    if (newlyCredited) await this.certificates.requestIssue('webinar', row.id);
    return { coveredSeconds: Math.floor(outcome.coveredSeconds), durationSeconds: duration, coveredPercent: Math.min(100, outcome.coveredPercent), credited: !!row.creditedAt };
  }

  /**
   * The length of a webinar's watchable recording; 404 when there is none to watch. Heartbeats arrive every
   * few seconds from every viewer, so a recording found is remembered for a few seconds (cancelling or
   * replacing it here forgets it at once; other web instances catch up within RECORDING_CACHE_MS).
   */
  private async recordingSeconds(webinarId: number): Promise<number> {
    const known = this.recordings.get(String(webinarId));
    if (known) return known;
    const webinar = await this.webinars.findOne({ where: { id: webinarId }, select: { id: true, status: true, recordingKey: true, recordingSeconds: true } });
    if (!webinar || webinar.status !== 'scheduled') throw new NotFound('There is no webinar with that id');
    if (!webinar.recordingKey || !webinar.recordingSeconds) throw new NotFound('This webinar has no recording to watch here');
    this.recordings.set(String(webinarId), webinar.recordingSeconds);
    return webinar.recordingSeconds;
  }

  /** Called when a webinar's recording or status changes. */
  forgetRecording(webinarId: number): void {
    this.recordings.delete(String(webinarId));
  }

  /**
   * What the recording player needs on load. The learner's attendance row is made here if need be, so the
   * player's heartbeats (every few seconds) only ever update it.
   */
  async viewing(userId: number, webinar: Webinar): Promise<{ resumeAt: number; coveredPercent: number; credited: boolean; attendedLive: boolean }> {
    let row = await this.attendance.findOneBy({ webinarId: webinar.id, userId });
    if (!row && webinar.recordingKey) {
      await this.createRow(webinar.id, userId);
      row = await this.attendance.findOneBy({ webinarId: webinar.id, userId });
    }
    const duration = webinar.recordingSeconds ?? 0;
    return { resumeAt: resumePosition(row, duration), coveredPercent: row ? coveragePercent(row, duration) : 0, credited: !!row?.creditedAt, attendedLive: !!row?.firstJoinedAt };
  }

  /**
   * Live credit, once a webinar has ended: everyone who joined early enough to have attended the minimum is
   * credited. Also re-asks for certificates of credits whose job was lost. Idempotent; run by a repeatable job.
   */
  async sweepCredits(): Promise<{ credited: number; reasked: number }> {
    const now = this.clock.now();
    const ended = (
      await this.webinars.find({ where: { status: 'scheduled', startsAt: LessThan(now) }, select: { id: true, startsAt: true, durationMinutes: true, minAttendanceMinutes: true, status: true } })
    ).filter((w) => endsAt(w) <= now && now.getTime() - endsAt(w).getTime() < LIVE_CREDIT_LOOKBACK_MS);
    let credited = 0;
    for (const webinar of ended) {
      const joined = await this.attendance.find({ where: { webinarId: webinar.id, creditedAt: IsNull(), firstJoinedAt: Not(IsNull()) }, select: { id: true, firstJoinedAt: true } });
      const qualified = joined.filter((a) => liveMinutes(webinar, a.firstJoinedAt) >= webinar.minAttendanceMinutes).map((a) => a.id);
      if (!qualified.length) continue;
      const result = await this.attendance.update({ id: In(qualified), creditedAt: IsNull() }, { creditedAt: now });
      credited += result.affected ?? qualified.length;
    }
    // Inclusive: the credits just made carry `now` itself and must be asked for in this run.
    const waiting = await this.attendance.find({
      where: { creditedAt: LessThanOrEqual(new Date(now.getTime() - (credited ? 0 : CREDIT_RETRY_AFTER_MS))), creditRecordedAt: IsNull() },
      select: { id: true },
      take: 1000,
    });
    for (const { id } of waiting) await this.certificates.requestIssue('webinar', id);
    return { credited, reasked: waiting.length };
  }

  /** For the certificate subject: a credited attendance, or null. */
  credited(attendanceId: number): Promise<WebinarAttendance | null> {
    return this.attendance.findOneBy({ id: attendanceId, creditedAt: Not(IsNull()) });
  }

  async recordCertificate(attendanceId: number, tx?: EntityManager): Promise<void> {
    await (tx?.getRepository(WebinarAttendance) ?? this.attendance).update({ id: attendanceId, creditRecordedAt: IsNull() }, { creditRecordedAt: this.clock.now() });
  }

  /** Attendance rows of a webinar by learner, for the author's page, CSV and the recording e-mail. */
  async forWebinar(webinarId: number): Promise<Map<number, WebinarAttendance>> {
    const rows = await this.attendance.findBy({ webinarId });
    return new Map(rows.map((r) => [r.userId, r]));
  }

  async attendedLive(webinarId: number): Promise<Set<number>> {
    const rows = await this.attendance.find({ where: { webinarId, firstJoinedAt: Not(IsNull()) }, select: { userId: true } });
    return new Set(rows.map((r) => r.userId));
  }

  /**
   * Runs a change to a learner's attendance row under its lock. The row is made on first use (outside the
   * transaction, so a concurrent first write finds it); after that a write is one locked read and one update.
   */
  private async write(webinarId: number, userId: number, change: (row: WebinarAttendance, now: Date) => void): Promise<{ row: WebinarAttendance; newlyCredited: boolean }> {
    const attempt = () =>
      this.uow.run(async (tx: EntityManager) => {
        const row = await this.uow.lockForUpdate(tx, WebinarAttendance, { webinarId, userId });
        if (!row) return null;
        const wasCredited = !!row.creditedAt;
        const now = this.clock.now();
        change(row, now);
        row.updatedAt = now;
        const { id, webinarId: _w, userId: _u, webinar: _wr, user: _ur, ...fields } = row;
        await tx.getRepository(WebinarAttendance).update({ id }, fields);
        return { row, newlyCredited: !wasCredited && !!row.creditedAt };
      });
    const done = await attempt();
    if (done) return done;
    await this.createRow(webinarId, userId);
    return (await attempt())!;
  }

  private async createRow(webinarId: number, userId: number): Promise<void> {
    try {
      await this.attendance.insert({ webinarId, userId, joinCount: 0, positionSeconds: 0, coveredSeconds: 0, watchedIntervals: null, watchAllowanceMs: 0, heartbeatAt: null, updatedAt: this.clock.now() });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err; // a concurrent first heartbeat made it
    }
  }
}

import { csvDocument } from '../common/csv';
import { coveragePercent } from '../learning/coverage';
import type { RegistrationStatus, Webinar, WebinarAttendance, WebinarRegistration } from './entities';
import { liveMinutes } from './webinar-phase';

/** One learner's registration and attendance, as the author's page and the CSV export show it. */
export interface RegistrationReportRow {
  userId: number;
  name: string;
  email: string;
  status: RegistrationStatus;
  registeredAt: Date;
  /** 1 = next for a place; null unless waitlisted. */
  waitlistPosition: number | null;
  joinedLiveAt: Date | null;
  liveMinutes: number;
  /** Null when the webinar has no uploaded recording to watch here. */
  recordingWatchedPercent: number | null;
  creditedAt: Date | null;
}

const STATUS_ORDER: Record<RegistrationStatus, number> = { registered: 0, waitlisted: 1, cancelled: 2 };

/**
 * The report's rows: registered learners first, then the waitlist in its order (with each one's place),
 * then cancelled registrations; each in the order they registered.
 */
export function registrationReport(
  webinar: Pick<Webinar, 'startsAt' | 'durationMinutes' | 'recordingKey' | 'recordingSeconds'>,
  registrations: ReadonlyArray<Pick<WebinarRegistration, 'id' | 'userId' | 'status' | 'queuedAt'>>,
  contacts: ReadonlyMap<number, { name: string; email: string }>,
  attendance: ReadonlyMap<number, Pick<WebinarAttendance, 'firstJoinedAt' | 'watchedIntervals' | 'creditedAt'>>,
): RegistrationReportRow[] {
  const sorted = [...registrations].sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.queuedAt.getTime() - b.queuedAt.getTime() || a.id - b.id);
  const recordingSeconds = webinar.recordingKey && webinar.recordingSeconds ? webinar.recordingSeconds : null;
  let waitlisted = 0;
  return sorted.map((r) => {
    const contact = contacts.get(r.userId);
    const row = attendance.get(r.userId);
    const joinedLiveAt = row?.firstJoinedAt ?? null;
    return {
      userId: r.userId,
      name: contact?.name ?? '',
      email: contact?.email ?? '',
      status: r.status,
      registeredAt: r.queuedAt,
      waitlistPosition: r.status === 'waitlisted' ? ++waitlisted : null,
      joinedLiveAt,
      liveMinutes: liveMinutes(webinar, joinedLiveAt),
      recordingWatchedPercent: recordingSeconds === null ? null : row ? Math.min(100, coveragePercent(row, recordingSeconds)) : 0,
      creditedAt: row?.creditedAt ?? null,
    };
  });
}

export const REGISTRATIONS_CSV_HEADER = ['name', 'email', 'status', 'registered_at', 'waitlist_position', 'joined_live_at', 'live_minutes', 'recording_watched_percent', 'credited_at'] as const;

const iso = (moment: Date | null) => (moment ? moment.toISOString() : '');

/** The registrations and attendance of one webinar as CSV: times in ISO 8601 UTC, empty cells for "none". */
export function registrationsCsv(rows: readonly RegistrationReportRow[]): string {
  return csvDocument([
    REGISTRATIONS_CSV_HEADER,
    ...rows.map((r) => [r.name, r.email, r.status, iso(r.registeredAt), r.waitlistPosition, iso(r.joinedLiveAt), r.liveMinutes, r.recordingWatchedPercent, iso(r.creditedAt)]),
  ]);
}

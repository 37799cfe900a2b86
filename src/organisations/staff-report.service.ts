import { Injectable } from '@nestjs/common';
import { Brackets, DataSource, SelectQueryBuilder } from 'typeorm';
import { Clock } from '../common/clock';
import { NotFound } from '../common/errors';
import { TtlCache } from '../common/ttl-cache';
import { londonFields, londonToUtc } from '../common/london-time';
import { ComplianceService } from './compliance.service';
import { FreshCoalescer } from './fresh-coalescer';
import type { MembershipStatus } from './organisation-kinds';

/**
 * What a manager sees of their staff's learning: a read model over other modules' tables (enrolments, courses,
 * certificates, webinars, webinar_attendance), read by table name with the query builder rather than through their
 * entity classes. Every list is read a page (or an organisation) at a time, aggregated in SQL with GROUP BY over the
 * page's user ids: never one query per person. Identical reads that arrive together share one query (FreshCoalescer:
 * never a result older than the request), so a dashboard many people reload costs one query per turn.
 *
 * Definitions used everywhere:
 * - enrolled: enrolments not withdrawn (in progress, not started or completed);
 * - in progress: enrolled, not completed, with some progress; completed: completed;
 * - certificates: valid ones (course and webinar);
 * - CPD hours this year: the CPD of valid certificates issued since 1 January (Europe/London) of the clock's year;
 * - a webinar attended: joined live or watched some of its recording.
 */

export const STAFF_PAGE_SIZE = 25;
export const STAFF_STATUSES = ['active', 'pending', 'left'] as const;
export type StaffStatus = (typeof STAFF_STATUSES)[number];
export const COMPLETION_MONTHS = 12;
export const JOB_ROLES_CACHE_MS = 60_000;

export interface StaffQuery {
  q?: string;
  jobRole?: string;
  status?: StaffStatus;
  page?: number;
}

export interface LearningFigures {
  enrolled: number;
  inProgress: number;
  completed: number;
  certificates: number;
  cpdHoursThisYear: number;
}

export interface StaffRow {
  userId: number;
  name: string;
  email: string;
  jobRole: string;
  status: MembershipStatus;
  joinedAt: Date | null;
  /** When they left (status left), else null. */
  leftAt: Date | null;
  /** When they asked to join. */
  requestedAt: Date;
  /** Whether the manager may open their learning (everyone here but those who never joined). */
  viewable: boolean;
  /** Null for people whose learning the manager may not see (pending, never joined). */
  learning: (LearningFigures & { lastActiveAt: Date | null }) | null;
}

export interface StaffPage {
  items: StaffRow[];
  total: number;
  page: number;
  pages: number;
  perPage: number;
}

export interface MonthFigure {
  /** "2026-03" */
  month: string;
  /** "Mar 2026" */
  label: string;
  completions: number;
}

export interface OrganisationFigures {
  activeStaff: number;
  pendingRequests: number;
  enrolments: number;
  completionsThisYear: number;
  cpdHoursThisYear: number;
  year: number;
  completionsPerMonth: MonthFigure[];
}

export interface PersonCourse {
  courseId: number;
  title: string;
  slug: string;
  status: 'active' | 'withdrawn' | 'completed';
  progressPercent: number;
  enrolledAt: Date;
  lastActivityAt: Date;
  completedAt: Date | null;
  certificate: { code: string; issuedAt: Date; cpdHours: number } | null;
}

export interface PersonWebinar {
  webinarId: number;
  title: string;
  slug: string;
  startsAt: Date;
  attendedLive: boolean;
  liveMinutes: number;
  recordingMinutes: number;
  /** Live and recording minutes together, at most the webinar's length. */
  minutes: number;
  credited: boolean;
}

export interface PersonReport {
  userId: number;
  name: string;
  email: string;
  jobRole: string;
  status: MembershipStatus;
  joinedAt: Date | null;
  leftAt: Date | null;
  figures: LearningFigures;
  lastActiveAt: Date | null;
  courses: PersonCourse[];
  webinars: { attended: number; minutes: number; items: PersonWebinar[] };
}

export interface CourseFigures {
  courseId: number;
  title: string;
  slug: string;
  enrolled: number;
  inProgress: number;
  completed: number;
  /** Whether the organisation requires it (of anyone). */
  required: boolean;
  /** Active members overdue on a requirement of it (required learning); 0 when it is not required. */
  overdue: number;
}

type Raw = Record<string, unknown>;
const num = (value: unknown) => (value === null || value === undefined ? 0 : Number(value));
/** A datetime as the drivers give it back: a Date (mysql2, timezone Z) or SQLite's 'YYYY-MM-DD HH:MM:SS.SSS' in UTC. */
export function rawDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}
const hours = (minutes: number) => Math.round((minutes / 60) * 100) / 100;
/** '!' escapes LIKE's wildcards: a backslash would mean different things to MySQL and SQLite. */
const likeEscape = (text: string) => text.replace(/[!%_]/g, (m) => `!${m}`);
const MONTH_LABELS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Members whose learning a manager may see: active ones only. Someone who left (or whose return waits for approval)
 * took their learning with them: the staff list still names them, with no figures and no page.
 */
export const VIEWABLE_MEMBERSHIP = "m.status = 'active'";

@Injectable()
export class StaffReportService {
  private readonly figuresReads = new FreshCoalescer<OrganisationFigures>();
  private readonly pageReads = new FreshCoalescer<StaffPage>();
  /** The job-role filter's options: a minute old at most (a new job role appears in the list within a minute). */
  private readonly jobRoleLists = new TtlCache<string[]>(JOB_ROLES_CACHE_MS, 1000);
  private readonly courseReads = new FreshCoalescer<CourseFigures[]>();

  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly compliance: ComplianceService,
  ) {}

  /** 00:00 on 1 January in London of the clock's current year, and that year. */
  yearStart(): { start: Date; year: number } {
    const year = Number(londonFields(this.clock.now()).date.slice(0, 4));
    return { start: londonToUtc(`${year}-01-01`, '00:00'), year };
  }

  /** The starts of the last `count` London months (this one last) and of the next month. */
  monthStarts(count = COMPLETION_MONTHS): Array<{ year: number; month: number; start: Date }> {
    const [year, month] = londonFields(this.clock.now()).date.split('-').map(Number);
    const result: Array<{ year: number; month: number; start: Date }> = [];
    for (let i = count - 1; i >= -1; i--) {
      const index = year * 12 + (month - 1) - i;
      const y = Math.floor(index / 12);
      const m = (index % 12) + 1;
      result.push({ year: y, month: m, start: londonToUtc(`${y}-${String(m).padStart(2, '0')}-01`, '00:00') });
    }
    return result;
  }

  // ---- The dashboard ----------------------------------------------------------------------------------------

  organisationFigures(organisationId: number): Promise<OrganisationFigures> {
    return this.figuresReads.run(String(organisationId), () => this.figuresNow(organisationId));
  }

  private async figuresNow(organisationId: number): Promise<OrganisationFigures> {
    const { start: yearStart, year } = this.yearStart();
    const months = this.monthStarts();
    const windowStart = months[0].start < yearStart ? months[0].start : yearStart;
    const parts = [
      this.db
        .createQueryBuilder()
        .from('organisation_memberships', 'm')
        .select("SUM(CASE WHEN m.status = 'active' THEN 1 ELSE 0 END)", 'active')
        .addSelect("SUM(CASE WHEN m.status = 'pending' THEN 1 ELSE 0 END)", 'pending')
        .where('m.organisation_id = :organisationId', { organisationId })
        .andWhere("m.status IN ('active', 'pending')"),
      // A plain count: a CASE per enrolment would cost as much again (in progress is on the courses report).
      this.activeStaffEnrolments(organisationId).select('COUNT(*)', 'enrolled'),
      // Only the completions of the period: a range of (user_id, status, completed_at) per member.
      this.activeStaffEnrolments(organisationId)
        .select('SUM(CASE WHEN e.completed_at >= :yearStart THEN 1 ELSE 0 END)', 'thisYear')
        .addSelect(months.slice(0, -1).map((_, i) => `SUM(CASE WHEN e.completed_at >= :m${i} AND e.completed_at < :m${i + 1} THEN 1 ELSE 0 END) AS month${i}`))
        .andWhere("e.status = 'completed' AND e.completed_at >= :windowStart", { windowStart })
        .setParameters({ yearStart, ...Object.fromEntries(months.map((m, i) => [`m${i}`, m.start])) }),
      this.db
        .createQueryBuilder()
        .from('certificates', 'c')
        .innerJoin('organisation_memberships', 'm', "m.user_id = c.user_id AND m.organisation_id = :organisationId AND m.status = 'active'", { organisationId })
        .select('SUM(c.cpd_minutes)', 'minutes')
        .where("c.status = 'valid' AND c.issued_at >= :yearStart", { yearStart }),
    ].map((query) => query.getQueryAndParameters());
    // The four aggregates (one row each) side by side in one statement: one round trip rather than four.
    const rows: Raw[] = await this.db.query(
      `SELECT * FROM ${parts.map(([sql], i) => `(${sql}) figures${i}`).join(' CROSS JOIN ')}`,
      parts.flatMap(([, parameters]) => parameters),
    );
    const figures = rows[0] ?? {};
    return {
      activeStaff: num(figures.active),
      pendingRequests: num(figures.pending),
      enrolments: num(figures.enrolled),
      completionsThisYear: num(figures.thisYear),
      cpdHoursThisYear: hours(num(figures.minutes)),
      year,
      completionsPerMonth: months.slice(0, -1).map((m, i) => ({
        month: `${m.year}-${String(m.month).padStart(2, '0')}`,
        label: `${MONTH_LABELS[m.month - 1]} ${m.year}`,
        completions: num(figures[`month${i}`]),
      })),
    };
  }

  /** Enrolments (not withdrawn) of the organisation's active staff, as `e`. */
  private activeStaffEnrolments(organisationId: number): SelectQueryBuilder<Raw> {
    return this.db
      .createQueryBuilder()
      .from('enrolments', 'e')
      .innerJoin('organisation_memberships', 'm', "m.user_id = e.user_id AND m.organisation_id = :organisationId AND m.status = 'active'", { organisationId })
      .where("e.status <> 'withdrawn'");
  }

  // ---- The staff list ---------------------------------------------------------------------------------------

  /** The job roles of the organisation's members (active, pending or left), sorted. */
  jobRoles(organisationId: number): Promise<string[]> {
    return this.jobRoleLists.remember(String(organisationId), () => this.jobRolesNow(organisationId));
  }

  private async jobRolesNow(organisationId: number): Promise<string[]> {
    const rows = await this.db
      .createQueryBuilder()
      .from('organisation_memberships', 'm')
      .innerJoin('users', 'u', 'u.id = m.user_id')
      .select('DISTINCT u.job_role', 'jobRole')
      .where('m.organisation_id = :organisationId', { organisationId })
      .andWhere("m.status IN ('active', 'pending', 'left')")
      .getRawMany<Raw>();
    return rows
      .map((r) => String(r.jobRole ?? ''))
      .filter((r) => r.trim() !== '')
      .sort((a, b) => a.localeCompare(b, 'en-GB', { sensitivity: 'base' }));
  }

  /** One page of members with one status, found by name or e-mail, filtered by job role, sorted by name. */
  staffPage(organisationId: number, query: StaffQuery): Promise<StaffPage> {
    const q = (query.q ?? '').trim().toLowerCase().slice(0, 100);
    const normalised = { q, jobRole: query.jobRole ?? '', status: query.status ?? 'active', page: Math.max(1, Math.floor(query.page ?? 1)) };
    return this.pageReads.run(JSON.stringify([organisationId, normalised]), () => this.staffPageNow(organisationId, normalised));
  }

  private async staffPageNow(organisationId: number, query: { q: string; jobRole: string; status: StaffStatus; page: number }): Promise<StaffPage> {
    const filtered = () => {
      const builder = this.db
        .createQueryBuilder()
        .from('organisation_memberships', 'm')
        .innerJoin('users', 'u', 'u.id = m.user_id')
        .where('m.organisation_id = :organisationId AND m.status = :status', { organisationId, status: query.status });
      if (query.q) {
        const pattern = `%${likeEscape(query.q)}%`;
        builder.andWhere(new Brackets((w) => w.where(`LOWER(u.name) LIKE :q ESCAPE '!'`, { q: pattern }).orWhere(`LOWER(u.email) LIKE :q ESCAPE '!'`)));
      }
      if (query.jobRole) builder.andWhere('u.job_role = :jobRole', { jobRole: query.jobRole });
      return builder;
    };
    // The page and the total in one pass (a window count); a page beyond the last is answered with the last.
    const read = (page: number) =>
      filtered()
        .select(['u.id AS userId', 'u.name AS name', 'u.email AS email', 'u.job_role AS jobRole', 'u.last_sign_in_at AS lastSignInAt'])
        .addSelect(['m.status AS status', 'm.joined_at AS joinedAt', 'm.updated_at AS updatedAt', 'm.requested_at AS requestedAt'])
        .addSelect('COUNT(*) OVER ()', 'total')
        .orderBy('u.name', 'ASC')
        .addOrderBy('u.id', 'ASC')
        .offset((page - 1) * STAFF_PAGE_SIZE)
        .limit(STAFF_PAGE_SIZE)
        .getRawMany<Raw>();
    let page = query.page;
    let rows = await read(page);
    let total = rows.length ? num(rows[0].total) : 0;
    if (!rows.length && page > 1) {
      total = num((await filtered().select('COUNT(*)', 'total').getRawOne<Raw>())?.total);
      page = Math.max(1, Math.ceil(total / STAFF_PAGE_SIZE));
      rows = total ? await read(page) : [];
    }
    const pages = Math.max(1, Math.ceil(total / STAFF_PAGE_SIZE));
    const people = rows.map((r) => {
      const status = String(r.status) as MembershipStatus;
      const joinedAt = rawDate(r.joinedAt);
      return {
        userId: num(r.userId),
        name: String(r.name),
        email: String(r.email),
        jobRole: String(r.jobRole ?? ''),
        status,
        joinedAt,
        leftAt: status === 'left' ? rawDate(r.updatedAt) : null,
        requestedAt: rawDate(r.requestedAt)!,
        viewable: status === 'active',
        lastSignInAt: rawDate(r.lastSignInAt),
      };
    });
    const figures = await this.learningFigures(people.filter((p) => p.viewable).map((p) => p.userId));
    const items: StaffRow[] = people.map(({ lastSignInAt, ...p }) => {
      if (!p.viewable) return { ...p, learning: null };
      const f = figures.get(p.userId)!;
      const { lastActivityAt, ...learning } = f;
      return { ...p, learning: { ...learning, lastActiveAt: latest(lastActivityAt, lastSignInAt) } };
    });
    return { items, total, page, pages, perPage: STAFF_PAGE_SIZE };
  }

  /** Each person's figures: two grouped queries over the given user ids, whatever their number. */
  async learningFigures(userIds: number[]): Promise<Map<number, LearningFigures & { lastActivityAt: Date | null }>> {
    const result = new Map<number, LearningFigures & { lastActivityAt: Date | null }>();
    const ids = [...new Set(userIds)];
    for (const id of ids) result.set(id, { enrolled: 0, inProgress: 0, completed: 0, certificates: 0, cpdHoursThisYear: 0, lastActivityAt: null });
    if (!ids.length) return result;
    const { start: yearStart } = this.yearStart();
    const [enrolments, certificates] = await Promise.all([
      this.db
        .createQueryBuilder()
        .from('enrolments', 'e')
        .select('e.user_id', 'userId')
        .addSelect("SUM(CASE WHEN e.status <> 'withdrawn' THEN 1 ELSE 0 END)", 'enrolled')
        .addSelect("SUM(CASE WHEN e.status = 'active' AND e.progress_percent > 0 THEN 1 ELSE 0 END)", 'inProgress')
        .addSelect("SUM(CASE WHEN e.status = 'completed' THEN 1 ELSE 0 END)", 'completed')
        .addSelect('MAX(e.last_activity_at)', 'lastActivityAt')
        .where('e.user_id IN (:...ids)', { ids })
        .groupBy('e.user_id')
        .getRawMany<Raw>(),
      this.db
        .createQueryBuilder()
        .from('certificates', 'c')
        .select('c.user_id', 'userId')
        .addSelect('COUNT(*)', 'certificates')
        .addSelect('SUM(CASE WHEN c.issued_at >= :yearStart THEN c.cpd_minutes ELSE 0 END)', 'minutes')
        .where("c.user_id IN (:...ids) AND c.status = 'valid'", { ids, yearStart })
        .groupBy('c.user_id')
        .getRawMany<Raw>(),
    ]);
    for (const r of enrolments) {
      Object.assign(result.get(num(r.userId))!, { enrolled: num(r.enrolled), inProgress: num(r.inProgress), completed: num(r.completed), lastActivityAt: rawDate(r.lastActivityAt) });
    }
    for (const r of certificates) Object.assign(result.get(num(r.userId))!, { certificates: num(r.certificates), cpdHoursThisYear: hours(num(r.minutes)) });
    return result;
  }

  // ---- One person -------------------------------------------------------------------------------------------

  /** One member's learning; NotFound unless they are a member of this organisation who has joined it. */
  async person(organisationId: number, userId: number): Promise<PersonReport> {
    const member =
      Number.isSafeInteger(userId) && userId > 0
        ? await this.db
            .createQueryBuilder()
            .from('organisation_memberships', 'm')
            .innerJoin('users', 'u', 'u.id = m.user_id')
            .select(['u.id AS userId', 'u.name AS name', 'u.email AS email', 'u.job_role AS jobRole', 'u.last_sign_in_at AS lastSignInAt'])
            .addSelect(['m.status AS status', 'm.joined_at AS joinedAt', 'm.updated_at AS updatedAt'])
            .where('m.organisation_id = :organisationId AND m.user_id = :userId', { organisationId, userId })
            .andWhere(VIEWABLE_MEMBERSHIP)
            .getRawOne<Raw>()
        : undefined;
    if (!member) throw new NotFound('There is nobody at this address in the organisation');
    const now = this.clock.now();
    const [figures, courses, certificates, webinars] = await Promise.all([
      this.learningFigures([userId]),
      this.db
        .createQueryBuilder()
        .from('enrolments', 'e')
        .innerJoin('courses', 'c', 'c.id = e.course_id')
        .select(['e.course_id AS courseId', 'c.title AS title', 'c.slug AS slug', 'e.status AS status', 'e.progress_percent AS progressPercent'])
        .addSelect(['e.enrolled_at AS enrolledAt', 'e.last_activity_at AS lastActivityAt', 'e.completed_at AS completedAt'])
        .where('e.user_id = :userId', { userId })
        .orderBy('e.last_activity_at', 'DESC')
        .addOrderBy('e.id', 'DESC')
        .getRawMany<Raw>(),
      this.db
        .createQueryBuilder()
        .from('certificates', 'c')
        .select(['c.code AS code', 'c.subject_id AS subjectId', 'c.issued_at AS issuedAt', 'c.cpd_minutes AS cpdMinutes'])
        .where("c.user_id = :userId AND c.subject_type = 'course' AND c.status = 'valid'", { userId })
        .orderBy('c.issued_at', 'ASC')
        .getRawMany<Raw>(),
      this.db
        .createQueryBuilder()
        .from('webinar_attendance', 'a')
        .innerJoin('webinars', 'w', 'w.id = a.webinar_id')
        .select(['a.webinar_id AS webinarId', 'w.title AS title', 'w.slug AS slug', 'w.starts_at AS startsAt', 'w.duration_minutes AS durationMinutes', 'w.recording_seconds AS recordingSeconds'])
        .addSelect(['a.first_joined_at AS firstJoinedAt', 'a.covered_seconds AS coveredSeconds', 'a.credited_at AS creditedAt'])
        .where('a.user_id = :userId', { userId })
        .andWhere('(a.first_joined_at IS NOT NULL OR a.covered_seconds > 0)')
        .orderBy('w.starts_at', 'DESC')
        .getRawMany<Raw>(),
    ]);
    // The latest valid certificate of each course (ordered by issue, so later ones win).
    const certificateOf = new Map(certificates.map((c) => [num(c.subjectId), { code: String(c.code), issuedAt: rawDate(c.issuedAt)!, cpdHours: hours(num(c.cpdMinutes)) }]));
    const items = webinars.map((w) => attendanceOf(w, now));
    const { lastActivityAt, ...learning } = figures.get(userId)!;
    const status = String(member.status) as MembershipStatus;
    return {
      userId,
      name: String(member.name),
      email: String(member.email),
      jobRole: String(member.jobRole ?? ''),
      status,
      joinedAt: rawDate(member.joinedAt),
      leftAt: status === 'left' ? rawDate(member.updatedAt) : null,
      figures: learning,
      lastActiveAt: latest(lastActivityAt, rawDate(member.lastSignInAt)),
      courses: courses.map((c) => ({
        courseId: num(c.courseId),
        title: String(c.title),
        slug: String(c.slug),
        status: String(c.status) as PersonCourse['status'],
        progressPercent: String(c.status) === 'completed' ? 100 : Math.max(0, Math.min(100, num(c.progressPercent))),
        enrolledAt: rawDate(c.enrolledAt)!,
        lastActivityAt: rawDate(c.lastActivityAt)!,
        completedAt: rawDate(c.completedAt),
        certificate: certificateOf.get(num(c.courseId)) ?? null,
      })),
      webinars: { attended: items.length, minutes: items.reduce((sum, w) => sum + w.minutes, 0), items },
    };
  }

  // ---- Courses ----------------------------------------------------------------------------------------------

  /**
   * Each course an active member is enrolled in (not withdrawn) or that the organisation requires, by title, with
   * its figures for those members: enrolled, in progress, completed, and overdue (from required learning).
   */
  courses(organisationId: number): Promise<CourseFigures[]> {
    return this.courseReads.run(String(organisationId), () => this.coursesNow(organisationId));
  }

  private async coursesNow(organisationId: number): Promise<CourseFigures[]> {
    // Counted from the enrolments index alone, then the few courses named: no join per enrolment.
    const [rows, overdue] = await Promise.all([
      this.activeStaffEnrolments(organisationId)
        .select('e.course_id', 'courseId')
        .addSelect('COUNT(*)', 'enrolled')
        .addSelect("SUM(CASE WHEN e.status = 'active' AND e.progress_percent > 0 THEN 1 ELSE 0 END)", 'inProgress')
        .addSelect("SUM(CASE WHEN e.status = 'completed' THEN 1 ELSE 0 END)", 'completed')
        .groupBy('e.course_id')
        .getRawMany<Raw>(),
      this.compliance.overdueByCourse(organisationId),
    ]);
    const figures = new Map<number, { enrolled: number; inProgress: number; completed: number }>(
      rows.map((r) => [num(r.courseId), { enrolled: num(r.enrolled), inProgress: num(r.inProgress), completed: num(r.completed) }]),
    );
    for (const courseId of overdue.keys()) if (!figures.has(courseId)) figures.set(courseId, { enrolled: 0, inProgress: 0, completed: 0 });
    if (!figures.size) return [];
    const ids = [...figures.keys()];
    const named = new Map<number, { title: string; slug: string }>();
    for (let i = 0; i < ids.length; i += 1000) {
      const courses = await this.db
        .createQueryBuilder()
        .from('courses', 'c')
        .select(['c.id AS id', 'c.title AS title', 'c.slug AS slug'])
        .where('c.id IN (:...ids)', { ids: ids.slice(i, i + 1000) })
        .getRawMany<Raw>();
      for (const c of courses) named.set(num(c.id), { title: String(c.title), slug: String(c.slug) });
    }
    return [...figures]
      .filter(([courseId]) => named.has(courseId))
      .map(([courseId, f]) => ({ courseId, ...named.get(courseId)!, ...f, required: overdue.has(courseId), overdue: overdue.get(courseId) ?? 0 }))
      .sort((a, b) => a.title.localeCompare(b.title, 'en-GB', { sensitivity: 'base' }) || a.courseId - b.courseId);
  }
}

function latest(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

const MINUTE_MS = 60_000;

/** A webinar attended: live minutes from the first join (or the start) to the end (or now, while it is live). */
function attendanceOf(w: Raw, now: Date): PersonWebinar {
  const startsAt = rawDate(w.startsAt)!;
  const durationMinutes = num(w.durationMinutes);
  const firstJoinedAt = rawDate(w.firstJoinedAt);
  const end = Math.min(startsAt.getTime() + durationMinutes * MINUTE_MS, now.getTime());
  const liveMinutes = firstJoinedAt ? Math.max(0, Math.floor((end - Math.max(firstJoinedAt.getTime(), startsAt.getTime())) / MINUTE_MS)) : 0;
  const recordingMinutes = Math.floor(num(w.coveredSeconds) / 60);
  const length = Math.max(durationMinutes, Math.ceil(num(w.recordingSeconds) / 60));
  return {
    webinarId: num(w.webinarId),
    title: String(w.title),
    slug: String(w.slug),
    startsAt,
    attendedLive: !!firstJoinedAt,
    liveMinutes,
    recordingMinutes,
    minutes: Math.min(length, liveMinutes + recordingMinutes),
    credited: w.creditedAt !== null && w.creditedAt !== undefined,
  };
}

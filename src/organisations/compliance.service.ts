import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, In, IsNull, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { londonIsoDate } from '../common/london-time';
import { compliancePercent, evaluate, requirementRag, type ComplianceStatus, type Evaluation, type Rag, type RequirementTerms } from './compliance-rules';
import { RequirementJobRole } from './entities/requirement-job-role.entity';
import { RequirementPerson } from './entities/requirement-person.entity';
import { OrganisationRequirement, type Audience } from './entities/requirement.entity';

/**
 * Compliance with required learning, computed a batch of people at a time: the organisation's live requirements
 * (three queries), its active members a page at a time by name, and for each page the valid certificates of the
 * required courses and the enrolments started in them (one query each, over the page's user ids). Never one query
 * per person. Other modules' tables (users, certificates, enrolments, courses) are read by name.
 */

/** People per page when walking an organisation's members. */
export const MEMBER_PAGE = 500;

export interface LiveRequirement {
  id: number;
  organisationId: number;
  courseId: number;
  courseTitle: string;
  courseSlug: string;
  audience: Audience;
  dueKind: 'days' | 'date';
  dueDays: number | null;
  dueDate: string | null;
  renewalMonths: number | null;
  createdAt: Date;
  updatedAt: Date;
  /** Lower-cased, trimmed, for matching; the spelling the manager chose is in jobRoleNames. */
  jobRoles: Set<string>;
  jobRoleNames: string[];
  /** Named people (audience `people`) and when each was named. */
  people: Map<number, Date>;
}

export interface Member {
  userId: number;
  name: string;
  email: string;
  jobRole: string;
  joinedAt: Date;
  /** An administrator deactivated the account (it cannot sign in): still counted, never e-mailed. */
  deactivated: boolean;
}

export interface PersonRequirement extends Evaluation {
  requirementId: number;
}

export interface MemberCompliance {
  member: Member;
  /** One entry per requirement whose audience they are in, in the order of the requirements. */
  requirements: PersonRequirement[];
}

export interface RequirementCounts {
  audience: number;
  complete: number;
  due: number;
  overdue: number;
  notDue: number;
  /** complete ÷ audience, as a whole percentage rounded down (100 for an empty audience). */
  percent: number;
  rag: Rag;
}

export interface PersonStatus {
  /** Their worst status across the requirements they are in (overdue, due, not due, complete); null when none applies. */
  status: ComplianceStatus | null;
  overdue: number;
  due: number;
  met: number;
  required: number;
}

export interface AudienceRow extends Member, Evaluation {}

const STATUS_ORDER: Record<ComplianceStatus, number> = { overdue: 0, due: 1, not_due: 2, complete: 3 };
export const worseStatus = (a: ComplianceStatus | null, b: ComplianceStatus): ComplianceStatus => (a === null || STATUS_ORDER[b] < STATUS_ORDER[a] ? b : a);

type Raw = Record<string, unknown>;
/** A datetime as the drivers give it back: a Date (mysql2) or SQLite's 'YYYY-MM-DD HH:MM:SS.SSS' in UTC. */
function rawDate(value: unknown): Date {
  if (value instanceof Date) return value;
  const text = String(value);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}
export const jobRoleKey = (role: string) => role.trim().replace(/\s+/g, ' ').toLowerCase();
const later = (a: Date, b: Date) => (a.getTime() >= b.getTime() ? a : b);

/** Whether the member is in the requirement's audience. */
export function inAudience(requirement: LiveRequirement, member: Member): boolean {
  if (requirement.audience === 'everyone') return true;
  if (requirement.audience === 'job_roles') return requirement.jobRoles.has(jobRoleKey(member.jobRole));
  return requirement.people.has(member.userId);
}

/** The terms of a requirement as they apply to one member (named people count from when they were named). */
export function termsFor(requirement: LiveRequirement, member: Member): RequirementTerms {
  const named = requirement.people.get(member.userId);
  const setAt = named ? later(requirement.createdAt, named) : requirement.createdAt;
  return {
    due: requirement.dueKind === 'date' ? { kind: 'date', date: requirement.dueDate! } : { kind: 'days', days: requirement.dueDays ?? 0 },
    renewalMonths: requirement.renewalMonths,
    setOn: londonIsoDate(setAt),
  };
}

@Injectable()
export class ComplianceService {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    @InjectRepository(OrganisationRequirement) private readonly requirements: Repository<OrganisationRequirement>,
    @InjectRepository(RequirementJobRole) private readonly jobRoles: Repository<RequirementJobRole>,
    @InjectRepository(RequirementPerson) private readonly people: Repository<RequirementPerson>,
  ) {}

  /** Today in London, the day every rule is applied to. */
  today(): string {
    return londonIsoDate(this.clock.now());
  }

  /** The organisation's requirements that are not archived, by course title; or only those ids. */
  async liveRequirements(organisationId: number, ids?: number[]): Promise<LiveRequirement[]> {
    const rows = await this.requirements
      .createQueryBuilder('r')
      .innerJoin('courses', 'c', 'c.id = r.course_id')
      .select(['r.id', 'r.organisationId', 'r.courseId', 'r.audience', 'r.dueKind', 'r.dueDays', 'r.dueDate', 'r.renewalMonths', 'r.createdAt', 'r.updatedAt'])
      .addSelect('c.title', 'courseTitle')
      .addSelect('c.slug', 'courseSlug')
      .where('r.organisationId = :organisationId AND r.archivedAt IS NULL', { organisationId })
      .andWhere(ids ? (ids.length ? 'r.id IN (:...ids)' : '1 = 0') : '1 = 1', { ids })
      .orderBy('c.title')
      .addOrderBy('r.id')
      .getRawAndEntities();
    if (!rows.entities.length) return [];
    const requirementIds = rows.entities.map((r) => r.id);
    const [roles, named] = await Promise.all([
      this.jobRoles.find({ where: { requirementId: In(requirementIds) }, order: { jobRole: 'ASC' } }),
      this.people.find({ where: { requirementId: In(requirementIds) }, select: { requirementId: true, userId: true, addedAt: true } }),
    ]);
    return rows.entities.map((r) => {
      const raw = rows.raw.find((x: Raw) => Number(x.r_id) === r.id) as Raw;
      const roleNames = roles.filter((j) => j.requirementId === r.id).map((j) => j.jobRole);
      return {
        id: r.id,
        organisationId: r.organisationId,
        courseId: r.courseId,
        courseTitle: String(raw.courseTitle),
        courseSlug: String(raw.courseSlug),
        audience: r.audience,
        dueKind: r.dueKind,
        dueDays: r.dueDays,
        dueDate: r.dueDate,
        renewalMonths: r.renewalMonths,
        createdAt: r.createdAt,
        updatedAt: r.updatedAt,
        jobRoles: new Set(roleNames.map(jobRoleKey)),
        jobRoleNames: roleNames,
        people: new Map(named.filter((p) => p.requirementId === r.id).map((p) => [p.userId, p.addedAt])),
      };
    });
  }

  /** Whether the organisation has any live requirement (one indexed lookup). */
  async hasRequirements(organisationId: number): Promise<boolean> {
    return this.requirements.exists({ where: { organisationId, archivedAt: IsNull() } });
  }

  /**
   * The organisation's active members a page at a time, by name then id (keyset paging on the members' index), each
   * with their standing on every requirement whose audience they are in. `userIds` limits it to those people.
   */
  async *memberPages(organisationId: number, requirements: LiveRequirement[], options: { userIds?: number[]; pageSize?: number } = {}): AsyncGenerator<MemberCompliance[]> {
    const pageSize = options.pageSize ?? MEMBER_PAGE;
    if (options.userIds && !options.userIds.length) return;
    const today = this.today();
    let after: { name: string; userId: number } | null = null;
    for (;;) {
      const query = this.db
        .createQueryBuilder()
        .from('organisation_memberships', 'm')
        .innerJoin('users', 'u', 'u.id = m.user_id')
        .select(['u.id AS userId', 'u.name AS name', 'u.email AS email', 'u.job_role AS jobRole', 'm.joined_at AS joinedAt', 'm.requested_at AS requestedAt', 'u.deactivated_at AS deactivatedAt'])
        .where("m.organisation_id = :organisationId AND m.status = 'active'", { organisationId })
        .orderBy('u.name')
        .addOrderBy('u.id')
        .limit(pageSize);
      if (options.userIds) query.andWhere('m.user_id IN (:...userIds)', { userIds: options.userIds });
      if (after) query.andWhere('(u.name > :afterName OR (u.name = :afterName AND u.id > :afterId))', { afterName: after.name, afterId: after.userId });
      const rows = await query.getRawMany<Raw>();
      if (!rows.length) return;
      const members: Member[] = rows.map((r) => ({
        userId: Number(r.userId),
        name: String(r.name),
        email: String(r.email),
        jobRole: String(r.jobRole ?? ''),
        joinedAt: rawDate(r.joinedAt ?? r.requestedAt),
        deactivated: r.deactivatedAt !== null && r.deactivatedAt !== undefined,
      }));
      yield await this.standings(requirements, members, today);
      const last = members[members.length - 1];
      after = { name: last.name, userId: last.userId };
      if (rows.length < pageSize) return;
      // Between pages, let other work run: on SQLite every query is synchronous, and a long walk (an export, the
      // sweep) would otherwise hold the event loop until it ends.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Each member's standing on the requirements they are in: their certificates and started courses in one query each. */
  private async standings(requirements: LiveRequirement[], members: Member[], today: string): Promise<MemberCompliance[]> {
    const courseIds = [...new Set(requirements.map((r) => r.courseId))];
    const userIds = members.map((m) => m.userId);
    const achieved = new Map<string, string[]>();
    const started = new Set<string>();
    if (courseIds.length && userIds.length) {
      const [certificates, enrolments] = await Promise.all([
        this.db
          .createQueryBuilder()
          .from('certificates', 'c')
          .select(['c.user_id AS userId', 'c.subject_id AS courseId', 'c.achieved_at AS achievedAt'])
          .where("c.user_id IN (:...userIds) AND c.subject_type = 'course' AND c.subject_id IN (:...courseIds) AND c.status = 'valid'", { userIds, courseIds })
          .getRawMany<Raw>(),
        this.db
          .createQueryBuilder()
          .from('enrolments', 'e')
          .select(['e.user_id AS userId', 'e.course_id AS courseId'])
          .where("e.user_id IN (:...userIds) AND e.course_id IN (:...courseIds) AND e.status = 'active' AND e.progress_percent > 0", { userIds, courseIds })
          .getRawMany<Raw>(),
      ]);
      for (const c of certificates) {
        const key = `${Number(c.userId)}:${Number(c.courseId)}`;
        const list = achieved.get(key) ?? [];
        list.push(londonIsoDate(rawDate(c.achievedAt)));
        achieved.set(key, list);
      }
      for (const e of enrolments) started.add(`${Number(e.userId)}:${Number(e.courseId)}`);
    }
    return members.map((member) => ({
      member,
      requirements: requirements
        .filter((r) => inAudience(r, member))
        .map((r) => {
          const key = `${member.userId}:${r.courseId}`;
          return { requirementId: r.id, ...evaluate(termsFor(r, member), { joinedOn: londonIsoDate(member.joinedAt), achievedOn: achieved.get(key) ?? [], started: started.has(key) }, today) };
        }),
    }));
  }

  /** Each live requirement with its counts and compliance, in course-title order. */
  async overview(organisationId: number): Promise<Array<{ requirement: LiveRequirement; counts: RequirementCounts }>> {
    return (await this.digest(organisationId, 0)).items;
  }

  /**
   * The overview and, in the same pass over the members, the first `overdueLimit` overdue people (by name) with the
   * course and due date of each requirement they are overdue on: what a manager's weekly digest says.
   */
  async digest(organisationId: number, overdueLimit: number): Promise<{ items: Array<{ requirement: LiveRequirement; counts: RequirementCounts }>; overdue: Array<{ name: string; courseTitle: string; dueOn: string }>; overdueTotal: number }> {
    const requirements = await this.liveRequirements(organisationId);
    const overdue: Array<{ name: string; courseTitle: string; dueOn: string }> = [];
    let overdueTotal = 0;
    if (!requirements.length) return { items: [], overdue, overdueTotal };
    const byId = new Map(requirements.map((r) => [r.id, r]));
    const tallies = new Map(requirements.map((r) => [r.id, { audience: 0, complete: 0, due: 0, overdue: 0, notDue: 0 }]));
    for await (const page of this.memberPages(organisationId, requirements)) {
      for (const person of page) {
        for (const standing of person.requirements) {
          const tally = tallies.get(standing.requirementId)!;
          tally.audience++;
          if (standing.status === 'complete') tally.complete++;
          else if (standing.status === 'due') tally.due++;
          else if (standing.status === 'not_due') tally.notDue++;
          else {
            tally.overdue++;
            overdueTotal++;
            if (overdue.length < overdueLimit) overdue.push({ name: person.member.name, courseTitle: byId.get(standing.requirementId)!.courseTitle, dueOn: standing.dueOn! });
          }
        }
      }
    }
    return {
      items: requirements.map((requirement) => {
        const tally = tallies.get(requirement.id)!;
        return { requirement, counts: { ...tally, percent: compliancePercent(tally.complete, tally.audience), rag: requirementRag(tally) } };
      }),
      overdue,
      overdueTotal,
    };
  }

  /** One live requirement and everyone in its audience with their status, by name; null when there is no such live one. */
  async audience(organisationId: number, requirementId: number): Promise<{ requirement: LiveRequirement; people: AudienceRow[]; counts: RequirementCounts } | null> {
    const [requirement] = await this.liveRequirements(organisationId, [requirementId]);
    if (!requirement) return null;
    const people: AudienceRow[] = [];
    const userIds = requirement.audience === 'people' ? [...requirement.people.keys()] : undefined;
    for await (const page of this.memberPages(organisationId, [requirement], { userIds })) {
      for (const person of page) {
        const standing = person.requirements[0];
        if (standing) {
          const { requirementId: _id, ...evaluation } = standing;
          people.push({ ...person.member, ...evaluation });
        }
      }
    }
    const tally = { audience: people.length, complete: 0, due: 0, overdue: 0, notDue: 0 };
    for (const p of people) {
      if (p.status === 'complete') tally.complete++;
      else if (p.status === 'due') tally.due++;
      else if (p.status === 'overdue') tally.overdue++;
      else tally.notDue++;
    }
    return { requirement, people, counts: { ...tally, percent: compliancePercent(tally.complete, tally.audience), rag: requirementRag(tally) } };
  }

  /** For each required course, how many active members are overdue on a requirement of it (each person once per course). */
  async overdueByCourse(organisationId: number): Promise<Map<number, number>> {
    const requirements = await this.liveRequirements(organisationId);
    const result = new Map<number, number>();
    if (!requirements.length) return result;
    const courseOf = new Map(requirements.map((r) => [r.id, r.courseId]));
    for (const courseId of courseOf.values()) result.set(courseId, 0);
    for await (const page of this.memberPages(organisationId, requirements)) {
      for (const person of page) {
        const overdueCourses = new Set(person.requirements.filter((s) => s.status === 'overdue').map((s) => courseOf.get(s.requirementId)!));
        for (const courseId of overdueCourses) result.set(courseId, (result.get(courseId) ?? 0) + 1);
      }
    }
    return result;
  }

  /**
   * For each of these people, how they stand on the organisation's requirements: how many apply to them, how many
   * they meet, are due or overdue, and their worst status. Everyone asked for is in the map; people who are not active
   * members (or are in no audience) have nothing required and status null.
   */
  async personStatuses(organisationId: number, userIds: number[]): Promise<Map<number, PersonStatus>> {
    const unique = [...new Set(userIds)];
    const result = new Map<number, PersonStatus>(unique.map((id) => [id, { status: null, overdue: 0, due: 0, met: 0, required: 0 }]));
    if (!unique.length) return result;
    const requirements = await this.liveRequirements(organisationId);
    if (!requirements.length) return result;
    for (let at = 0; at < unique.length; at += MEMBER_PAGE) {
      for await (const page of this.memberPages(organisationId, requirements, { userIds: unique.slice(at, at + MEMBER_PAGE) })) {
        for (const person of page) result.set(person.member.userId, summarise(person.requirements));
      }
    }
    return result;
  }
}

/** One person's standing across their requirements. */
export function summarise(standings: Evaluation[]): PersonStatus {
  const summary: PersonStatus = { status: null, overdue: 0, due: 0, met: 0, required: standings.length };
  for (const s of standings) {
    summary.status = worseStatus(summary.status, s.status);
    if (s.status === 'complete') summary.met++;
    else if (s.status === 'overdue') summary.overdue++;
    else if (s.status === 'due') summary.due++;
  }
  return summary;
}

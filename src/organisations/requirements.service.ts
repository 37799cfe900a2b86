import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Transform } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { DataSource, EntityManager, In, IsNull, Repository } from 'typeorm';
import type { CurrentUser } from '../accounts/identity';
import { AuditTrail } from '../audit/audit-trail';
import { Clock } from '../common/clock';
import { Conflict, NotFound, ValidationFailed, type FieldErrors } from '../common/errors';
import { lf, trimmed, wholeNumber } from '../common/form-fields';
import { UnitOfWork } from '../database/unit-of-work';
import { isCalendarDay } from './compliance-rules';
import { jobRoleKey } from './compliance.service';
import { Organisation } from './entities/organisation.entity';
import { RequirementJobRole } from './entities/requirement-job-role.entity';
import { RequirementPerson } from './entities/requirement-person.entity';
import { AUDIENCES, DUE_KINDS, OrganisationRequirement, type Audience, type DueKind } from './entities/requirement.entity';

export const MAX_DUE_DAYS = 730;
export const MAX_RENEWAL_MONTHS = 120;
export const REQUIREMENT_NOT_FOUND = 'There is no requirement at this address in this organisation';

/** A field that may be sent once or repeated (checkboxes): always a list of trimmed strings. */
const list = () => Transform(({ value }) => (value === undefined || value === null || value === '' ? [] : (Array.isArray(value) ? value : [value]).map((v) => (typeof v === 'string' ? lf(v).trim() : v))));

/** The requirement form (new and edit; the course is chosen once, when it is added). */
export class RequirementFormDto {
  @wholeNumber()
  @IsOptional()
  @IsInt({ message: 'Choose a course from the list' })
  courseId?: number;

  @IsIn(AUDIENCES, { message: 'Choose who must complete the course' })
  audience!: Audience;

  @list()
  @IsArray({ message: 'Choose job roles from the list' })
  @IsString({ each: true, message: 'Choose job roles from the list' })
  @MaxLength(120, { each: true, message: 'Choose job roles from the list' })
  jobRoles: string[] = [];

  @list()
  @IsArray({ message: 'Choose people from the list' })
  @IsString({ each: true, message: 'Choose people from the list' })
  people: string[] = [];

  @IsIn(DUE_KINDS, { message: 'Choose when the course is due' })
  dueKind!: DueKind;

  @wholeNumber()
  @ValidateIf((o: RequirementFormDto) => o.dueKind === 'days')
  @Min(0, { message: `Enter the number of days, from 0 to ${MAX_DUE_DAYS}` })
  @Max(MAX_DUE_DAYS, { message: `Enter the number of days, from 0 to ${MAX_DUE_DAYS} (two years)` })
  @IsInt({ message: `Enter the number of days as a whole number, from 0 to ${MAX_DUE_DAYS}` })
  dueDays?: number;

  @trimmed()
  @IsOptional()
  @IsString({ message: 'Enter the due date as YYYY-MM-DD, for example 2027-03-31' })
  dueDate?: string;

  @wholeNumber()
  @IsOptional()
  @Min(1, { message: `Enter the renewal period as a whole number of months from 1 to ${MAX_RENEWAL_MONTHS}, or leave it empty` })
  @Max(MAX_RENEWAL_MONTHS, { message: `Enter the renewal period as a whole number of months from 1 to ${MAX_RENEWAL_MONTHS}, or leave it empty` })
  @IsInt({ message: `Enter the renewal period as a whole number of months from 1 to ${MAX_RENEWAL_MONTHS}, or leave it empty` })
  renewalMonths?: number;
}

/** A requirement as its form shows it. */
export interface RequirementSettings {
  id: number;
  organisationId: number;
  courseId: number;
  courseTitle: string;
  audience: Audience;
  jobRoles: string[];
  people: number[];
  dueKind: DueKind;
  dueDays: number | null;
  dueDate: string | null;
  renewalMonths: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface FormChoices {
  courses: Array<{ id: number; title: string }>;
  jobRoles: string[];
  /** Active members by name, then (when editing) people the requirement names who are members no more. */
  members: Array<{ userId: number; name: string; email: string; jobRole: string; former: boolean }>;
}

interface CleanInput {
  audience: Audience;
  jobRoles: string[];
  people: number[];
  dueKind: DueKind;
  dueDays: number | null;
  dueDate: string | null;
  renewalMonths: number | null;
}

type Raw = Record<string, unknown>;

/**
 * Adding, changing and archiving an organisation's requirements. Every id a form sends is checked against what
 * the organisation may use (published courses, its own active members, job roles its members hold), so a
 * foreign or unknown id gets a field message, never a silent save. Saving a form unchanged writes nothing.
 */
@Injectable()
export class RequirementsService {
  constructor(
    private readonly db: DataSource,
    private readonly uow: UnitOfWork,
    private readonly audit: AuditTrail,
    private readonly clock: Clock,
    @InjectRepository(OrganisationRequirement) private readonly requirements: Repository<OrganisationRequirement>,
    @InjectRepository(RequirementJobRole) private readonly jobRoles: Repository<RequirementJobRole>,
    @InjectRepository(RequirementPerson) private readonly people: Repository<RequirementPerson>,
  ) {}

  /** What the form offers: published courses by title, the members' job roles, and the active members by name. */
  async choices(organisationId: number, extraJobRoles: string[] = [], namedPeople: number[] = []): Promise<FormChoices> {
    const [courses, roles, members] = await Promise.all([
      this.db.createQueryBuilder().from('courses', 'c').select(['c.id AS id', 'c.title AS title']).where("c.status = 'published'").orderBy('c.title').getRawMany<Raw>(),
      this.memberJobRoles(organisationId),
      this.db
        .createQueryBuilder()
        .from('organisation_memberships', 'm')
        .innerJoin('users', 'u', 'u.id = m.user_id')
        .select(['u.id AS userId', 'u.name AS name', 'u.email AS email', 'u.job_role AS jobRole'])
        .where("m.organisation_id = :organisationId AND m.status = 'active'", { organisationId })
        .orderBy('u.name')
        .addOrderBy('u.id')
        .getRawMany<Raw>(),
    ]);
    const byKey = new Map<string, string>();
    for (const role of [...roles, ...extraJobRoles]) if (!byKey.has(jobRoleKey(role))) byKey.set(jobRoleKey(role), role.trim());
    const active = new Set(members.map((m) => Number(m.userId)));
    const formerIds = namedPeople.filter((id) => !active.has(id));
    const former = formerIds.length
      ? await this.db.createQueryBuilder().from('users', 'u').select(['u.id AS userId', 'u.name AS name', 'u.email AS email', 'u.job_role AS jobRole']).where('u.id IN (:...formerIds)', { formerIds }).orderBy('u.name').getRawMany<Raw>()
      : [];
    const member = (former: boolean) => (m: Raw) => ({ userId: Number(m.userId), name: String(m.name), email: String(m.email), jobRole: String(m.jobRole ?? ''), former });
    return {
      courses: courses.map((c) => ({ id: Number(c.id), title: String(c.title) })),
      jobRoles: [...byKey.values()].sort((a, b) => a.localeCompare(b, 'en-GB', { sensitivity: 'base' })),
      members: [...members.map(member(false)), ...former.map(member(true))],
    };
  }

  /** The job roles of the organisation's active and pending members (as written; blank ones left out). */
  private async memberJobRoles(organisationId: number): Promise<string[]> {
    const rows = await this.db
      .createQueryBuilder()
      .from('organisation_memberships', 'm')
      .innerJoin('users', 'u', 'u.id = m.user_id')
      .select('DISTINCT u.job_role', 'jobRole')
      .where("m.organisation_id = :organisationId AND m.status IN ('active', 'pending')", { organisationId })
      .getRawMany<Raw>();
    return rows.map((r) => String(r.jobRole ?? '').trim()).filter((r) => r !== '');
  }

  /** One live requirement of the organisation, as its form shows it; NotFound for any other id. */
  async settings(organisationId: number, requirementId: number): Promise<RequirementSettings> {
    if (!Number.isSafeInteger(requirementId) || requirementId < 1) throw new NotFound(REQUIREMENT_NOT_FOUND);
    const requirement = await this.requirements.findOne({ where: { id: requirementId, organisationId, archivedAt: IsNull() } });
    if (!requirement) throw new NotFound(REQUIREMENT_NOT_FOUND);
    const [course, roles, named] = await Promise.all([
      this.db.createQueryBuilder().from('courses', 'c').select('c.title', 'title').where('c.id = :id', { id: requirement.courseId }).getRawOne<Raw>(),
      this.jobRoles.find({ where: { requirementId }, order: { jobRole: 'ASC' } }),
      this.people.find({ where: { requirementId }, select: { userId: true } }),
    ]);
    return {
      id: requirement.id,
      organisationId,
      courseId: requirement.courseId,
      courseTitle: String(course?.title ?? ''),
      audience: requirement.audience,
      jobRoles: roles.map((r) => r.jobRole),
      people: named.map((p) => p.userId),
      dueKind: requirement.dueKind,
      dueDays: requirement.dueDays,
      dueDate: requirement.dueDate,
      renewalMonths: requirement.renewalMonths,
      createdAt: requirement.createdAt,
      updatedAt: requirement.updatedAt,
    };
  }

  /** Adds a requirement. One live requirement per course and organisation: a second is refused with a field message. */
  async create(viewer: CurrentUser, organisation: Organisation, form: RequirementFormDto): Promise<number> {
    const errors: FieldErrors = {};
    const course = await this.checkCourse(form.courseId, errors);
    const input = await this.clean(organisation, form, errors, [], []);
    if (Object.keys(errors).length || !course || !input) throw new ValidationFailed(errors);
    return this.uow.run(async (tx) => {
      // Adding takes turns per organisation (the row lock), so two submissions of one form add one requirement.
      await this.uow.lockForUpdate(tx, Organisation, { id: organisation.id });
      const existing = await tx.getRepository(OrganisationRequirement).findOne({ where: { organisationId: organisation.id, courseId: course.id, archivedAt: IsNull() }, select: { id: true } });
      if (existing) throw new Conflict(`${course.title} is already required in ${organisation.name}`, { courseId: `${course.title} is already required in ${organisation.name}: change that requirement instead` });
      const now = this.clock.now();
      const result = await tx.getRepository(OrganisationRequirement).insert({
        organisationId: organisation.id,
        courseId: course.id,
        audience: input.audience,
        dueKind: input.dueKind,
        dueDays: input.dueDays,
        dueDate: input.dueDate,
        renewalMonths: input.renewalMonths,
        createdById: viewer.id,
        createdAt: now,
        updatedAt: now,
        archivedAt: null,
      });
      const id = Number(result.identifiers[0].id);
      await this.writeAudience(tx, id, input, { jobRoles: [], people: [] }, now);
      await this.audit.record(tx, viewer, { action: 'requirement.created', target: { type: 'organisation', id: organisation.id, label: organisation.name }, details: { requirementId: id, courseId: course.id, courseTitle: course.title, ...describe(input) } });
      return id;
    });
  }

  /** Changes a requirement's audience, due rule or renewal. Returns false (and writes nothing) when nothing changed. */
  async update(viewer: CurrentUser, organisation: Organisation, requirementId: number, form: RequirementFormDto): Promise<boolean> {
    const current = await this.settings(organisation.id, requirementId);
    const errors: FieldErrors = {};
    if (form.courseId !== undefined && form.courseId !== current.courseId) errors.courseId = 'The course of a requirement cannot be changed: archive this one and add another';
    const input = await this.clean(organisation, form, errors, current.jobRoles, current.people);
    if (Object.keys(errors).length || !input) throw new ValidationFailed(errors);
    const before: CleanInput = { audience: current.audience, jobRoles: current.jobRoles, people: current.people, dueKind: current.dueKind, dueDays: current.dueDays, dueDate: current.dueDate, renewalMonths: current.renewalMonths };
    if (sameSettings(before, input)) return false;
    return this.uow.run(async (tx) => {
      const now = this.clock.now();
      const changed = await tx
        .getRepository(OrganisationRequirement)
        .update({ id: requirementId, organisationId: organisation.id, archivedAt: IsNull() }, { audience: input.audience, dueKind: input.dueKind, dueDays: input.dueDays, dueDate: input.dueDate, renewalMonths: input.renewalMonths, updatedAt: now });
      if (!changed.affected) throw new NotFound(REQUIREMENT_NOT_FOUND);
      await this.writeAudience(tx, requirementId, input, before, now);
      await this.audit.record(tx, viewer, {
        action: 'requirement.updated',
        target: { type: 'organisation', id: organisation.id, label: organisation.name },
        details: { requirementId, courseId: current.courseId, courseTitle: current.courseTitle, before: describe(before), after: describe(input) },
      });
      return true;
    });
  }

  /** Archives a live requirement: it counts no more, and no more e-mails go about it. */
  async archive(viewer: CurrentUser, organisation: Organisation, requirementId: number): Promise<void> {
    const current = await this.settings(organisation.id, requirementId);
    await this.uow.run(async (tx) => {
      const now = this.clock.now();
      const changed = await tx.getRepository(OrganisationRequirement).update({ id: requirementId, organisationId: organisation.id, archivedAt: IsNull() }, { archivedAt: now, updatedAt: now });
      if (!changed.affected) throw new NotFound(REQUIREMENT_NOT_FOUND);
      await this.audit.record(tx, viewer, { action: 'requirement.archived', target: { type: 'organisation', id: organisation.id, label: organisation.name }, details: { requirementId, courseId: current.courseId, courseTitle: current.courseTitle } });
    });
  }

  private async checkCourse(courseId: number | undefined, errors: FieldErrors): Promise<{ id: number; title: string } | null> {
    if (courseId === undefined) {
      errors.courseId = 'Choose the course staff must complete';
      return null;
    }
    const row = await this.db.createQueryBuilder().from('courses', 'c').select(['c.id AS id', 'c.title AS title']).where("c.id = :courseId AND c.status = 'published'", { courseId }).getRawOne<Raw>();
    if (!row) {
      errors.courseId = 'Choose a course from the list: there is no published course with that id';
      return null;
    }
    return { id: Number(row.id), title: String(row.title) };
  }

  /**
   * The form's audience, due rule and renewal, checked against the organisation; null (with errors) when invalid.
   * What the requirement already has may stay (a job role nobody holds now, a named person who has left), so that
   * saving its form unchanged changes nothing.
   */
  private async clean(organisation: Organisation, form: RequirementFormDto, errors: FieldErrors, keptJobRoles: string[], keptPeople: number[]): Promise<CleanInput | null> {
    let jobRoles: string[] = [];
    let people: number[] = [];
    if (form.audience === 'job_roles') {
      const wanted = dedupe(form.jobRoles.filter((r) => r !== ''));
      if (!wanted.length) errors.jobRoles = 'Choose at least one job role';
      else {
        const known = new Map([...(await this.memberJobRoles(organisation.id)), ...keptJobRoles].map((r) => [jobRoleKey(r), r.trim()]));
        const unknown = wanted.find((r) => !known.has(jobRoleKey(r)));
        if (unknown !== undefined) errors.jobRoles = `Choose job roles from the list: nobody in ${organisation.name} has the job role "${unknown.slice(0, 60)}"`;
        else jobRoles = dedupe(wanted.map((r) => known.get(jobRoleKey(r))!)).sort((a, b) => a.localeCompare(b, 'en-GB', { sensitivity: 'base' }));
      }
    }
    if (form.audience === 'people') {
      const ids = [...new Set(form.people.filter((p) => p !== ''))];
      if (!ids.length) errors.people = 'Choose at least one person';
      else if (ids.some((p) => !/^[1-9]\d{0,9}$/.test(p))) errors.people = 'Choose people from the list: one of those chosen is not a person';
      else {
        people = ids.map(Number).sort((a, b) => a - b);
        const found = await this.db
          .createQueryBuilder()
          .from('organisation_memberships', 'm')
          .select('m.user_id', 'userId')
          .where("m.organisation_id = :organisationId AND m.status = 'active' AND m.user_id IN (:...people)", { organisationId: organisation.id, people })
          .getRawMany<Raw>();
        const members = new Set([...found.map((r) => Number(r.userId)), ...keptPeople]);
        const stranger = people.find((id) => !members.has(id));
        if (stranger !== undefined) errors.people = `Choose people from the list: person ${stranger} is not an active member of ${organisation.name}`;
      }
    }
    let dueDate: string | null = null;
    if (form.dueKind === 'date') {
      if (!form.dueDate) errors.dueDate = 'Enter the due date as YYYY-MM-DD, for example 2027-03-31';
      else if (!/^\d{4}-\d{2}-\d{2}$/.test(form.dueDate)) errors.dueDate = 'Enter the due date as YYYY-MM-DD, for example 2027-03-31';
      else if (!isCalendarDay(form.dueDate) || form.dueDate < '2000-01-01' || form.dueDate > '2100-12-31') errors.dueDate = 'Enter a real date, for example 2027-03-31';
      else dueDate = form.dueDate;
    }
    if (Object.keys(errors).length) return null;
    return {
      audience: form.audience,
      jobRoles,
      people,
      dueKind: form.dueKind,
      dueDays: form.dueKind === 'days' ? (form.dueDays ?? 0) : null,
      dueDate,
      renewalMonths: form.renewalMonths ?? null,
    };
  }

  /** Brings the requirement's job roles and named people from `before` to `after` (rows added and removed, not rewritten). */
  private async writeAudience(tx: EntityManager, requirementId: number, after: CleanInput, before: Pick<CleanInput, 'jobRoles' | 'people'>, now: Date): Promise<void> {
    const roles = after.audience === 'job_roles' ? after.jobRoles : [];
    const people = after.audience === 'people' ? after.people : [];
    const goneRoles = before.jobRoles.filter((r) => !roles.includes(r));
    const newRoles = roles.filter((r) => !before.jobRoles.includes(r));
    const gonePeople = before.people.filter((p) => !people.includes(p));
    const newPeople = people.filter((p) => !before.people.includes(p));
    if (goneRoles.length) await tx.getRepository(RequirementJobRole).delete({ requirementId, jobRole: In(goneRoles) });
    if (newRoles.length) await tx.getRepository(RequirementJobRole).insert(newRoles.map((jobRole) => ({ requirementId, jobRole })));
    if (gonePeople.length) await tx.getRepository(RequirementPerson).delete({ requirementId, userId: In(gonePeople) });
    if (newPeople.length) await tx.getRepository(RequirementPerson).insert(newPeople.map((userId) => ({ requirementId, userId, addedAt: now })));
  }
}

function dedupe(roles: string[]): string[] {
  const seen = new Map<string, string>();
  for (const role of roles) if (!seen.has(jobRoleKey(role))) seen.set(jobRoleKey(role), role);
  return [...seen.values()];
}

function sameSettings(a: CleanInput, b: CleanInput): boolean {
  const people = (x: CleanInput) => (x.audience === 'people' ? [...x.people].sort((p, q) => p - q).join(',') : '');
  const roles = (x: CleanInput) => (x.audience === 'job_roles' ? x.jobRoles.map(jobRoleKey).sort().join('\n') : '');
  return a.audience === b.audience && roles(a) === roles(b) && people(a) === people(b) && a.dueKind === b.dueKind && a.dueDays === b.dueDays && a.dueDate === b.dueDate && a.renewalMonths === b.renewalMonths;
}

/** What the audit log keeps of a requirement's settings. */
function describe(input: CleanInput): Record<string, unknown> {
  return {
    audience: input.audience,
    ...(input.audience === 'job_roles' ? { jobRoles: input.jobRoles } : {}),
    ...(input.audience === 'people' ? { people: input.people } : {}),
    due: input.dueKind === 'days' ? { days: input.dueDays } : { date: input.dueDate },
    renewalMonths: input.renewalMonths,
  };
}

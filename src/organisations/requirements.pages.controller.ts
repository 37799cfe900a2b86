import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles, SignedInUser, type CurrentUser } from '../accounts/identity';
import { chartWithTable, type BarStatus } from '../common/charts';
import { NotFound } from '../common/errors';
import { errorView, formErrors, parseForm } from '../common/forms';
import { londonDate } from '../common/london-time';
import type { ComplianceStatus, Rag } from './compliance-rules';
import { ComplianceExport, type ExportFormat } from './compliance-export';
import { ComplianceService, type LiveRequirement, type RequirementCounts } from './compliance.service';
import type { Organisation } from './entities/organisation.entity';
import { ManagerScope } from './manager-scope';
import { MAX_DUE_DAYS, MAX_RENEWAL_MONTHS, REQUIREMENT_NOT_FOUND, RequirementFormDto, RequirementsService, type FormChoices } from './requirements.service';

/** A path segment read as an id: digits only (anything else is no id, and answers 404). */
const idOf = (value: string) => (/^[1-9]\d{0,15}$/.test(value) ? Number(value) : Number.NaN);

/** People a page in a requirement's audience table; the overdue list shows the first few, by due date. */
const AUDIENCE_PAGE = 100;
const OVERDUE_SHOWN = 50;
const STATUSES: ComplianceStatus[] = ['overdue', 'due', 'not_due', 'complete'];
const FORM_FIELDS = ['courseId', 'audience', 'jobRoles', 'people', 'dueKind', 'dueDays', 'dueDate', 'renewalMonths'];
const NOTICES: Record<string, string> = {
  created: 'The course is now required. Staff in its audience are e-mailed 14 days before it is due, and when it is overdue.',
  saved: 'Your changes have been saved.',
  unchanged: 'Nothing had changed, so nothing was saved.',
  archived: 'The requirement has been archived: it no longer counts, and nobody is e-mailed about it.',
};

export const STATUS_TAGS: Record<ComplianceStatus, { text: string; colour: string }> = {
  complete: { text: 'Complete', colour: 'green' },
  due: { text: 'Due', colour: 'yellow' },
  overdue: { text: 'Overdue', colour: 'red' },
  not_due: { text: 'Not due yet', colour: 'grey' },
};
const RAG_TAGS: Record<Rag, { text: string; colour: string; bar: BarStatus }> = {
  green: { text: 'Green', colour: 'green', bar: 'good' },
  amber: { text: 'Amber', colour: 'yellow', bar: 'warning' },
  red: { text: 'Red', colour: 'red', bar: 'bad' },
};

/** "Green: everyone is complete", "Red: 3 overdue" … */
export function ragWords(counts: RequirementCounts): string {
  if (counts.rag === 'red') return `Red: ${counts.overdue} overdue`;
  if (counts.rag === 'green') return counts.audience ? 'Green: everyone has completed it' : 'Green: nobody is in its audience yet';
  return `Amber: ${counts.audience - counts.complete} not yet complete, nobody overdue`;
}

export function audienceText(r: Pick<LiveRequirement, 'audience' | 'jobRoleNames' | 'people'>): string {
  if (r.audience === 'everyone') return 'Everyone';
  if (r.audience === 'job_roles') return `Job roles: ${r.jobRoleNames.join(', ')}`;
  return r.people.size === 1 ? '1 named person' : `${r.people.size} named people`;
}

export function dueText(r: Pick<LiveRequirement, 'dueKind' | 'dueDays' | 'dueDate'>): string {
  if (r.dueKind === 'date') return `By ${londonDate(new Date(`${r.dueDate}T12:00:00Z`))}`;
  const days = r.dueDays ?? 0;
  return `Within ${days} ${days === 1 ? 'day' : 'days'} of joining, or of the requirement being set if they joined before`;
}

export const renewalText = (months: number | null) => (months === null ? 'None: a certificate counts for ever' : `Every ${months} ${months === 1 ? 'month' : 'months'}`);

/** The compliance chart (one bar per requirement, its RAG status as the bar's colour and in words) and its table. */
export function complianceChart(organisation: Organisation, items: Array<{ requirement: LiveRequirement; counts: RequirementCounts }>) {
  const red = items.filter((i) => i.counts.rag === 'red').length;
  const description = `Compliance with each of the ${items.length} ${items.length === 1 ? 'course' : 'courses'} ${organisation.name} requires: the percentage of the people it applies to who have completed it. ${red ? `${red} with people overdue.` : 'Nobody is overdue.'}`;
  return chartWithTable(
    {
      id: 'compliance-chart',
      title: 'Compliance per requirement',
      description,
      orientation: 'horizontal',
      unit: '%',
      max: 100,
      bars: items.map(({ requirement, counts }) => ({ label: requirement.courseTitle, value: counts.percent, status: RAG_TAGS[counts.rag].bar, statusText: ragWords(counts) })),
    },
    { label: 'Course', value: 'Compliance', status: 'Status' },
  );
}

/**
 * Required learning for managers: the requirements with their compliance (chart and table), adding, changing and
 * archiving one, one requirement's audience with each person's status, and the staff × requirements exports.
 * Organisation managers and administrators only; every route asks ManagerScope first, so an organisation the viewer
 * does not manage answers 404 like one that does not exist.
 */
@ApiExcludeController()
@Roles('org_manager')
@Controller('organisation/:id')
export class RequirementsPagesController {
  constructor(
    private readonly scope: ManagerScope,
    private readonly compliance: ComplianceService,
    private readonly requirements: RequirementsService,
    private readonly exports: ComplianceExport,
  ) {}

  @Get('requirements')
  async list(@Param('id') id: string, @Query('notice') notice: string | undefined, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const organisation = await this.scope.organisationFor(viewer, idOf(id));
    const items = await this.compliance.overview(organisation.id);
    const base = `/organisation/${organisation.id}`;
    return reply.view('organisations/requirements', {
      pageTitle: `Required learning – ${organisation.name}`,
      organisation: heading(organisation),
      notice: notice ? NOTICES[notice] : undefined,
      chart: items.length ? complianceChart(organisation, items) : null,
      requirements: items.map(({ requirement, counts }) => ({
        id: requirement.id,
        href: `${base}/requirements/${requirement.id}`,
        editHref: `${base}/requirements/${requirement.id}/edit`,
        courseTitle: requirement.courseTitle,
        audience: audienceText(requirement),
        due: dueText(requirement),
        renewal: renewalText(requirement.renewalMonths),
        counts,
        rag: RAG_TAGS[counts.rag],
        ragWords: ragWords(counts),
      })),
      newHref: `${base}/requirements/new`,
      csvHref: `${base}/compliance.csv`,
      xlsxHref: `${base}/compliance.xlsx`,
    });
  }

  @Get('requirements/new')
  async newForm(@Param('id') id: string, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const organisation = await this.scope.organisationFor(viewer, idOf(id));
    const choices = await this.requirements.choices(organisation.id);
    return reply.view('organisations/requirement-form', this.formView(organisation, choices, { audience: 'everyone', dueKind: 'days', dueDays: '90' }, null));
  }

  @Post('requirements/new')
  async create(@Param('id') id: string, @Body() body: Record<string, unknown>, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const organisation = await this.scope.organisationFor(viewer, idOf(id));
    try {
      const form = await parseForm(RequirementFormDto, body);
      const requirementId = await this.requirements.create(viewer, organisation, form);
      return reply.redirect(`/organisation/${organisation.id}/requirements/${requirementId}?notice=created`, 303);
    } catch (err) {
      const errors = formErrors(err);
      const choices = await this.requirements.choices(organisation.id);
      return reply.status(400).view('organisations/requirement-form', { ...this.formView(organisation, choices, body ?? {}, null), ...errorView(errors, FORM_FIELDS), pageTitle: `Error: Add a required course – ${organisation.name}` });
    }
  }

  @Get('requirements/:rid')
  async show(@Param('id') id: string, @Param('rid') rid: string, @Query() query: Record<string, string>, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const organisation = await this.scope.organisationFor(viewer, idOf(id));
    const settings = await this.requirements.settings(organisation.id, idOf(rid));
    const result = await this.compliance.audience(organisation.id, settings.id);
    if (!result) throw new NotFound(REQUIREMENT_NOT_FOUND);
    const { requirement, people, counts } = result;
    const base = `/organisation/${organisation.id}`;
    const here = `${base}/requirements/${requirement.id}`;
    const status = (STATUSES as string[]).includes(query.status) ? (query.status as ComplianceStatus) : null;
    const rows = people.map((p) => ({ ...p, href: `${base}/staff/${p.userId}`, tag: STATUS_TAGS[p.status] }));
    const overdue = rows.filter((p) => p.status === 'overdue').sort((a, b) => (a.dueOn ?? '').localeCompare(b.dueOn ?? '') || a.name.localeCompare(b.name));
    const shown = status ? rows.filter((p) => p.status === status) : rows;
    const pages = Math.max(1, Math.ceil(shown.length / AUDIENCE_PAGE));
    const page = Math.min(pages, /^[1-9]\d{0,5}$/.test(query.page ?? '') ? Number(query.page) : 1);
    const pageLink = (n: number) => `${here}?${new URLSearchParams({ ...(status ? { status } : {}), page: String(n) })}#audience-heading`;
    return reply.view('organisations/requirement', {
      pageTitle: `${requirement.courseTitle} – Required learning – ${organisation.name}`,
      organisation: heading(organisation),
      notice: query.notice ? NOTICES[query.notice] : undefined,
      requirement: { ...requirement, audienceText: audienceText(requirement), dueText: dueText(requirement), renewalText: renewalText(requirement.renewalMonths) },
      counts,
      rag: RAG_TAGS[counts.rag],
      ragWords: ragWords(counts),
      overdue: overdue.slice(0, OVERDUE_SHOWN),
      moreOverdue: overdue.length > OVERDUE_SHOWN ? { count: overdue.length, href: `${here}?status=overdue#audience-heading` } : null,
      people: shown.slice((page - 1) * AUDIENCE_PAGE, page * AUDIENCE_PAGE),
      shownCount: shown.length,
      status,
      statusLabel: status ? STATUS_TAGS[status].text.toLowerCase() : null,
      statuses: STATUSES.map((s) => ({ value: s, text: STATUS_TAGS[s].text, selected: s === status })),
      previous: page > 1 ? { href: pageLink(page - 1), title: `Page ${page - 1} of ${pages}` } : null,
      next: page < pages ? { href: pageLink(page + 1), title: `Page ${page + 1} of ${pages}` } : null,
      here,
      listHref: `${base}/requirements`,
      editHref: `${here}/edit`,
      archiveHref: `${here}/archive`,
    });
  }

  @Get('requirements/:rid/edit')
  async editForm(@Param('id') id: string, @Param('rid') rid: string, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const organisation = await this.scope.organisationFor(viewer, idOf(id));
    const settings = await this.requirements.settings(organisation.id, idOf(rid));
    const choices = await this.requirements.choices(organisation.id, settings.jobRoles, settings.people);
    const values = {
      audience: settings.audience,
      jobRoles: settings.jobRoles,
      people: settings.people.map(String),
      dueKind: settings.dueKind,
      dueDays: settings.dueDays === null ? '' : String(settings.dueDays),
      dueDate: settings.dueDate ?? '',
      renewalMonths: settings.renewalMonths === null ? '' : String(settings.renewalMonths),
    };
    return reply.view('organisations/requirement-form', this.formView(organisation, choices, values, settings));
  }

  @Post('requirements/:rid/edit')
  async update(@Param('id') id: string, @Param('rid') rid: string, @Body() body: Record<string, unknown>, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const organisation = await this.scope.organisationFor(viewer, idOf(id));
    const settings = await this.requirements.settings(organisation.id, idOf(rid));
    try {
      const form = await parseForm(RequirementFormDto, body);
      const changed = await this.requirements.update(viewer, organisation, settings.id, form);
      return reply.redirect(`/organisation/${organisation.id}/requirements/${settings.id}?notice=${changed ? 'saved' : 'unchanged'}`, 303);
    } catch (err) {
      const errors = formErrors(err);
      const choices = await this.requirements.choices(organisation.id, settings.jobRoles, settings.people);
      return reply
        .status(400)
        .view('organisations/requirement-form', { ...this.formView(organisation, choices, body ?? {}, settings), ...errorView(errors, FORM_FIELDS), pageTitle: `Error: Change ${settings.courseTitle} – ${organisation.name}` });
    }
  }

  @Get('requirements/:rid/archive')
  async archiveForm(@Param('id') id: string, @Param('rid') rid: string, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const organisation = await this.scope.organisationFor(viewer, idOf(id));
    const settings = await this.requirements.settings(organisation.id, idOf(rid));
    return reply.view('organisations/requirement-archive', {
      pageTitle: `Archive ${settings.courseTitle} – ${organisation.name}`,
      organisation: heading(organisation),
      requirement: settings,
      action: `/organisation/${organisation.id}/requirements/${settings.id}/archive`,
      cancelHref: `/organisation/${organisation.id}/requirements/${settings.id}`,
    });
  }

  @Post('requirements/:rid/archive')
  async archive(@Param('id') id: string, @Param('rid') rid: string, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const organisation = await this.scope.organisationFor(viewer, idOf(id));
    await this.requirements.archive(viewer, organisation, idOf(rid));
    return reply.redirect(`/organisation/${organisation.id}/requirements?notice=archived`, 303);
  }

  @Get('compliance.csv')
  csv(@Param('id') id: string, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    return this.send('csv', id, viewer, reply);
  }

  @Get('compliance.xlsx')
  xlsx(@Param('id') id: string, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    return this.send('xlsx', id, viewer, reply);
  }

  private async send(format: ExportFormat, id: string, viewer: CurrentUser, reply: FastifyReply) {
    const organisation = await this.scope.organisationFor(viewer, idOf(id));
    const file = await this.exports.export(viewer, organisation, format);
    return reply.header('content-type', file.contentType).header('content-disposition', `attachment; filename="${file.filename}"`).header('cache-control', 'no-store').send(file.body);
  }

  /** The view model of the form, new (settings null) or edit, from submitted or saved values. */
  private formView(organisation: Organisation, choices: FormChoices, raw: Record<string, unknown>, settings: { id: number; courseTitle: string } | null) {
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    const many = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v !== '' ? [v] : []);
    const audience = text(raw.audience);
    const dueKind = text(raw.dueKind);
    const roles = new Set(many(raw.jobRoles).map((r) => r.trim().toLowerCase()));
    const people = new Set(many(raw.people));
    const base = `/organisation/${organisation.id}/requirements`;
    return {
      pageTitle: settings ? `Change ${settings.courseTitle} – ${organisation.name}` : `Add a required course – ${organisation.name}`,
      organisation: heading(organisation),
      editing: !!settings,
      courseTitle: settings?.courseTitle,
      action: settings ? `${base}/${settings.id}/edit` : `${base}/new`,
      backHref: settings ? `${base}/${settings.id}` : base,
      courses: choices.courses.map((c) => ({ value: String(c.id), text: c.title, selected: String(c.id) === text(raw.courseId) })),
      audience: { everyone: audience === 'everyone', jobRoles: audience === 'job_roles', people: audience === 'people' },
      jobRoles: choices.jobRoles.map((role, i) => ({ value: role, id: i === 0 ? 'jobRoles' : `jobRoles-${i}`, checked: roles.has(role.trim().toLowerCase()) })),
      members: choices.members.map((m, i) => ({ ...m, id: i === 0 ? 'people' : `people-${m.userId}`, checked: people.has(String(m.userId)) })),
      dueKind: { days: dueKind === 'days', date: dueKind === 'date' },
      values: { dueDays: text(raw.dueDays), dueDate: text(raw.dueDate), renewalMonths: text(raw.renewalMonths) },
      maxDueDays: MAX_DUE_DAYS,
      maxRenewalMonths: MAX_RENEWAL_MONTHS,
    };
  }
}

function heading(organisation: Organisation) {
  return { id: organisation.id, name: organisation.name, href: `/organisation/${organisation.id}` };
}

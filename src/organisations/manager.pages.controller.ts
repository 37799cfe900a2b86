import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles, SignedInUser, type CurrentUser } from '../accounts/identity';
import { chartWithTable } from '../common/charts';
import { parseForm } from '../common/forms';
import type { Organisation } from './entities/organisation.entity';
import { ManagerScope } from './manager-scope';
import { StaffQueryDto } from './manager.dto';
import { STAFF_STATUSES, StaffReportService, type OrganisationFigures, type StaffStatus } from './staff-report.service';

/** A path segment read as an id: digits only (anything else is no id, so ManagerScope answers 404). */
export const idParam = (value: string) => (/^[1-9]\d{0,15}$/.test(value) ? Number(value) : Number.NaN);

const figure = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 2 });

const STATUS_LABELS: Record<StaffStatus, string> = { active: 'Active members', pending: 'Asking to join', left: 'Left' };
const COURSE_STATUS: Record<string, { text: string; tag: string }> = {
  active: { text: 'In progress', tag: 'blue' },
  completed: { text: 'Completed', tag: 'green' },
  withdrawn: { text: 'Withdrawn', tag: 'grey' },
};

/** The chart of completions per month and the same figures as a table. */
export function completionsChart(figures: OrganisationFigures) {
  const months = figures.completionsPerMonth;
  const total = months.reduce((sum, m) => sum + m.completions, 0);
  const busiest = months.reduce((best, m) => (m.completions > best.completions ? m : best), months[0]);
  const description =
    total === 0
      ? `No courses were completed by active staff in the 12 months from ${months[0].label} to ${months[months.length - 1].label}.`
      : `Courses completed by active staff in each of the 12 months from ${months[0].label} to ${months[months.length - 1].label}: ${total} in all, the most (${busiest.completions}) in ${busiest.label}.`;
  return chartWithTable(
    { id: 'completions-chart', title: 'Completions per month', description, bars: months.map((m) => ({ label: m.label, value: m.completions })) },
    { label: 'Month', value: 'Completions' },
  );
}

/**
 * The manager's view: the organisations they manage, a dashboard, the staff list, one person's learning and the
 * courses staff take. Organisation managers and administrators only (others get 403 from @Roles); every page asks
 * ManagerScope first, so an organisation the viewer does not manage answers 404 like one that does not exist.
 */
@ApiExcludeController()
@Roles('org_manager')
@Controller('organisation')
export class ManagerPagesController {
  constructor(
    private readonly scope: ManagerScope,
    private readonly report: StaffReportService,
  ) {}

  @Get()
  async index(@SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const managed = await this.scope.managedBy(viewer.id);
    if (managed.length === 1) return reply.redirect(`/organisation/${managed[0].id}`, 303);
    if (managed.length === 0) {
      return reply.status(404).view('organisations/index', { pageTitle: 'You do not manage an organisation', organisations: [], isAdmin: viewer.role === 'admin' });
    }
    return reply.view('organisations/index', { pageTitle: 'Your organisations', organisations: managed });
  }

  @Get(':id')
  async dashboard(@Param('id') id: string, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const organisation = await this.scope.organisationFor(viewer, idParam(id));
    const figures = await this.report.organisationFigures(organisation.id);
    return reply.view('organisations/dashboard', {
      pageTitle: organisation.name,
      organisation: this.heading(organisation),
      figures,
      // Headline figures as people read them: 4,917 rather than 4917.
      shown: Object.fromEntries(
        (['activeStaff', 'pendingRequests', 'enrolments', 'completionsThisYear', 'cpdHoursThisYear'] as const).map((key) => [key, figure.format(figures[key])]),
      ),
      chart: completionsChart(figures),
    });
  }

  @Get(':id/staff')
  async staff(@Param('id') id: string, @Query() raw: Record<string, string>, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const organisation = await this.scope.organisationFor(viewer, idParam(id));
    const query = await parseForm(StaffQueryDto, raw);
    const status = query.status ?? 'active';
    const [result, jobRoles] = await Promise.all([this.report.staffPage(organisation.id, query), this.report.jobRoles(organisation.id)]);
    const base = `/organisation/${organisation.id}/staff`;
    const pageLink = (page: number) => {
      const params = new URLSearchParams();
      if (query.q) params.set('q', query.q);
      if (query.jobRole) params.set('jobRole', query.jobRole);
      if (status !== 'active') params.set('status', status);
      params.set('page', String(page));
      return `${base}?${params}`;
    };
    const filtered = !!(query.q || query.jobRole);
    return reply.view('organisations/staff', {
      pageTitle: `Staff – ${organisation.name}`,
      organisation: this.heading(organisation),
      query,
      status,
      statusLabel: STATUS_LABELS[status],
      isPending: status === 'pending',
      isLeft: status === 'left',
      filtered,
      result,
      people: result.items.map((p) => ({ ...p, href: p.viewable ? `${base}/${p.userId}` : null })),
      jobRoles: [...new Set([...jobRoles, ...(query.jobRole ? [query.jobRole] : [])])].map((r) => ({ value: r, text: r, selected: r === query.jobRole })),
      statuses: STAFF_STATUSES.map((s) => ({ value: s, text: STATUS_LABELS[s], selected: s === status })),
      previous: result.page > 1 ? { href: pageLink(result.page - 1), title: `Page ${result.page - 1} of ${result.pages}` } : null,
      next: result.page < result.pages ? { href: pageLink(result.page + 1), title: `Page ${result.page + 1} of ${result.pages}` } : null,
    });
  }

  @Get(':id/staff/:userId')
  async person(@Param('id') id: string, @Param('userId') userId: string, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const organisation = await this.scope.organisationFor(viewer, idParam(id));
    const person = await this.report.person(organisation.id, idParam(userId));
    // The certificates module lets a manager download an active member's certificates (administrators any).
    const mayDownload = person.status === 'active' || viewer.role === 'admin';
    return reply.view('organisations/person', {
      pageTitle: `${person.name} – ${organisation.name}`,
      organisation: this.heading(organisation),
      person,
      isLeft: person.status === 'left',
      isActive: person.status === 'active',
      courses: person.courses.map((c) => ({
        ...c,
        statusText: COURSE_STATUS[c.status]?.text ?? c.status,
        statusTag: COURSE_STATUS[c.status]?.tag ?? 'grey',
        certificate: c.certificate ? { ...c.certificate, href: mayDownload ? `/certificates/${c.certificate.code}.pdf` : null } : null,
      })),
    });
  }

  @Get(':id/courses')
  async courses(@Param('id') id: string, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const organisation = await this.scope.organisationFor(viewer, idParam(id));
    const courses = await this.report.courses(organisation.id);
    return reply.view('organisations/courses', {
      pageTitle: `Courses – ${organisation.name}`,
      organisation: this.heading(organisation),
      courses: courses.map((c) => ({ ...c, notStarted: c.enrolled - c.inProgress - c.completed })),
    });
  }

  private heading(organisation: Organisation) {
    return { id: organisation.id, name: organisation.name, href: `/organisation/${organisation.id}` };
  }
}

import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../accounts/identity';
import { chartWithTable } from '../common/charts';
import { SiteFiguresReader, type SiteFigures } from './site-figures.reader';

const SERIES: Array<{ key: Exclude<keyof SiteFigures, 'months' | 'topCourses'>; title: string; description: string; unit: string }> = [
  { key: 'activeLearners', title: 'Active learners per month', description: 'People who made progress in a lesson, each counted once a month', unit: 'learners' },
  { key: 'enrolments', title: 'Enrolments per month', description: 'Enrolments on courses made each month', unit: 'enrolments' },
  { key: 'completions', title: 'Course completions per month', description: 'Courses completed each month', unit: 'completions' },
  { key: 'certificates', title: 'Certificates issued per month', description: 'Certificates of completion and attendance issued each month, revoked ones included', unit: 'certificates' },
  { key: 'webinarAttendance', title: 'Webinar attendance per month', description: 'People who joined a webinar live (in the month they first joined) or earned attendance from its recording', unit: 'attendances' },
];

/** Site figures: how the academy is used, month by month over the last year, and the most taken courses. */
@ApiExcludeController()
@Roles('admin')
@Controller('admin')
export class AdminFiguresController {
  constructor(private readonly figures: SiteFiguresReader) {}

  @Get('figures')
  async show(@Res() reply: FastifyReply) {
    const figures = await this.figures.figures();
    const first = figures.months[0].label;
    const last = figures.months[figures.months.length - 1].label;
    const charts = SERIES.map((series) => {
      const values = figures[series.key];
      const total = values.reduce((sum, n) => sum + n, 0);
      return {
        key: series.key,
        ...chartWithTable(
          {
            id: `figures-${series.key}`,
            title: series.title,
            description: `${series.description}, ${first} to ${last}. ${series.key === 'activeLearners' ? `The most in one month: ${Math.max(...values)}.` : `${total} in all.`}`,
            bars: figures.months.map((m, i) => ({ label: m.label, value: values[i] })),
          },
          { label: 'Month', value: series.title.replace(/ per month$/, '') },
        ),
      };
    });
    return reply.view('admin/figures', { pageTitle: 'Site figures', first, last, charts, topCourses: figures.topCourses });
  }
}

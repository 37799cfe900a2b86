import { Injectable } from '@nestjs/common';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import { Clock } from '../common/clock';
import { LearnerActivity } from './learner-activity';
import { lastMonths, type Month } from './months';

export { FIGURE_MONTHS, lastMonths, type Month } from './months';

export interface SiteFigures {
  months: Month[];
  /** One count per month, in the months' order. */
  activeLearners: number[];
  enrolments: number[];
  completions: number[];
  certificates: number[];
  webinarAttendance: number[];
  topCourses: Array<{ courseId: number; title: string; slug: string; enrolments: number; completions: number }>;
}

/**
 * The academy's figures per month, read straight from the tables that hold them (a read-model: the learning,
 * certificates and webinars modules own them; nothing here loads their entities). Each other figure is one GROUP BY
 * over a range of one indexed date column, the month found by a CASE on the London month boundaries, so the same SQL runs
 * on MySQL and SQLite and no row is read twice.
 *
 * - active learners: people who made progress in a lesson that month (recorded as it happens: see LearnerActivity);
 * - enrolments: enrolments made that month; completions: courses completed that month;
 * - certificates: issued that month (revoked ones included: they were issued);
 * - webinar attendance: people who joined a webinar live that month (their first join), or who earned attendance
 *   from its recording that month.
 */
@Injectable()
export class SiteFiguresReader {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly activity: LearnerActivity,
  ) {}

  async figures(): Promise<SiteFigures> {
    const months = lastMonths(this.clock.now());
    await this.activity.catchUp();
    const [activeLearners, enrolments, completions, certificates, webinarAttendance, topCourses] = await Promise.all([
      this.activity.counts(months),
      this.perMonth(months, 'e.enrolled_at', 'COUNT(*)', (q) => q.from('enrolments', 'e')),
      this.perMonth(months, 'e.completed_at', 'COUNT(*)', (q) => q.from('enrolments', 'e').where(`e.status = 'completed'`)),
      this.perMonth(months, 'c.issued_at', 'COUNT(*)', (q) => q.from('certificates', 'c').where(`c.status IN ('valid', 'revoked')`)),
      this.perMonth(months, 'COALESCE(a.first_joined_at, a.credited_at)', 'COUNT(*)', (q) => q.from('webinar_attendance', 'a')),
      this.topCourses(months),
    ]);
    return { months, activeLearners, enrolments, completions, certificates, webinarAttendance, topCourses };
  }

  /** The ten courses with the most enrolments in the months shown, with how many of those were completed. */
  private async topCourses(months: Month[]): Promise<SiteFigures['topCourses']> {
    const rows = await this.dataSource
      .createQueryBuilder()
      .select('e.course_id', 'courseId')
      .addSelect('COUNT(*)', 'enrolments')
      .addSelect(`SUM(CASE WHEN e.status = 'completed' THEN 1 ELSE 0 END)`, 'completions')
      .from('enrolments', 'e')
      .where('e.enrolled_at >= :from AND e.enrolled_at < :to', { from: months[0].start, to: months[months.length - 1].end })
      .groupBy('e.course_id')
      .orderBy('enrolments', 'DESC')
      .addOrderBy('e.course_id', 'ASC')
      .limit(10)
      .getRawMany<{ courseId: number | string; enrolments: number | string; completions: number | string | null }>();
    if (!rows.length) return [];
    const courses = await this.dataSource
      .createQueryBuilder()
      .select(['c.id AS id', 'c.title AS title', 'c.slug AS slug'])
      .from('courses', 'c')
      .where('c.id IN (:...ids)', { ids: rows.map((r) => Number(r.courseId)) })
      .getRawMany<{ id: number | string; title: string; slug: string }>();
    const byId = new Map(courses.map((c) => [Number(c.id), c]));
    return rows.map((r) => ({
      courseId: Number(r.courseId),
      title: byId.get(Number(r.courseId))?.title ?? `Course ${r.courseId}`,
      slug: byId.get(Number(r.courseId))?.slug ?? '',
      enrolments: Number(r.enrolments),
      completions: Number(r.completions ?? 0),
    }));
  }

  /** One aggregate per month of a date column's range: a CASE gives each row its month, one GROUP BY counts them. */
  private async perMonth(months: Month[], column: string, aggregate: string, source: (q: SelectQueryBuilder<object>) => SelectQueryBuilder<object>): Promise<number[]> {
    const parameters: Record<string, Date> = {};
    months.forEach((m, i) => (parameters[`m${i}`] = m.start));
    parameters.mEnd = months[months.length - 1].end;
    const cases = months
      .slice(1)
      .map((_, i) => `WHEN ${column} < :m${i + 1} THEN ${i}`)
      .join(' ');
    const query = source(this.dataSource.createQueryBuilder())
      .select(`CASE ${cases} ELSE ${months.length - 1} END`, 'bucket')
      .addSelect(aggregate, 'n')
      .andWhere(`${column} >= :m0 AND ${column} < :mEnd`)
      .setParameters(parameters)
      .groupBy('bucket');
    const rows = await query.getRawMany<{ bucket: number | string; n: number | string }>();
    const counts = months.map(() => 0);
    for (const row of rows) counts[Number(row.bucket)] = Number(row.n);
    return counts;
  }
}

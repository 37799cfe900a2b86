import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Column, DataSource, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { PersonalDataRegistry } from '../common/personal-data';
import { DateTimeColumn, VarcharColumn } from '../database/columns';
import { UnitOfWork } from '../database/unit-of-work';
import { JobHandler } from '../jobs/job-handler.decorator';
import type { JobHandler as Handler } from '../jobs/job-registry';
import { lastMonths, type Month } from './months';

declare module '../jobs/job-registry' {
  interface JobRegistry {
    'admin.learner-activity': Record<string, never>;
  }
}

/**
 * That a person made progress in a lesson in a (London) month: one row per person and month, for the site figures'
 * "active learners". Lesson progress rows keep only when each last changed, so counting them directly forgets the
 * months before; and counting distinct learners across a year of progress is a join over millions of rows. Recorded
 * as it happens instead (see LearnerActivity), it is exact and cheap to count.
 */
@Entity('learner_activity_months')
@Index('uq_learner_activity_month_user', ['month', 'userId'], { unique: true })
@Index('idx_learner_activity_last', ['lastActivityAt'])
@Index('idx_learner_activity_user', ['userId'])
export class LearnerActivityMonth {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  /** "2026-03" */
  @VarcharColumn(7)
  month!: string;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_learner_activity_user' })
  user?: unknown;

  /** The person's latest progress seen in that month. */
  @DateTimeColumn()
  lastActivityAt!: Date;
}

/** Progress committed a little after it was stamped (a long transaction) is still found: each catch-up looks back this far. */
const OVERLAP_MS = 5 * 60_000;
const BATCH = 500;

/** Raw rows hold DATETIME as a Date (mysql2) or as text in UTC (SQLite). */
const asDate = (value: Date | string) => (value instanceof Date ? value : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`));

/**
 * Keeps learner_activity_months up to date from lesson progress: each catch-up reads the progress written since the
 * latest activity it recorded (less an overlap), month by month, one GROUP BY per month on the index of when progress
 * changed, and upserts a row per person and month. The first catch-up fills the last twelve months from what the
 * progress rows still show. Run every ten minutes by a job and before the figures are shown, so they are current;
 * running twice at once only writes the same rows twice.
 */
@Injectable()
export class LearnerActivity implements OnModuleInit {
  private readonly logger = new Logger('LearnerActivity');

  constructor(
    private readonly dataSource: DataSource,
    @InjectRepository(LearnerActivityMonth) private readonly rows: Repository<LearnerActivityMonth>,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly personalData: PersonalDataRegistry,
  ) {}

  onModuleInit(): void {
    this.personalData.register({
      name: 'activityMonths',
      description: 'The months in which you made progress in a course, as counted in the academy’s usage figures',
      export: async (userId) => (await this.rows.find({ where: { userId }, order: { month: 'ASC' }, select: { month: true, lastActivityAt: true } })).map((r) => ({ month: r.month, lastActivityAt: r.lastActivityAt })),
      erase: async (tx, userId) => ({ counts: { activityMonths: (await tx.getRepository(LearnerActivityMonth).delete({ userId })).affected ?? 0 } }),
    });
  }

  async catchUp(): Promise<number> {
    const now = this.clock.now();
    const floor = lastMonths(now)[0].start;
    const latest = await this.rows.createQueryBuilder('a').select('MAX(a.last_activity_at)', 'latest').getRawOne<{ latest: Date | string | null }>();
    // Never from later than now: a row stamped ahead (a server's clock running fast) must not hide what comes before it.
    const since = latest?.latest ? Math.min(asDate(latest.latest).getTime(), now.getTime()) - OVERLAP_MS : floor.getTime();
    let from = new Date(Math.max(floor.getTime(), since));
    let recorded = 0;
    while (from.getTime() <= now.getTime()) {
      const month = lastMonths(from, 1)[0];
      recorded += await this.record(month, from);
      from = month.end;
    }
    return recorded;
  }

  /** Active learners per month, in the months' order (one indexed GROUP BY over a few thousand rows at most). */
  async counts(months: Month[]): Promise<number[]> {
    const rows = await this.rows
      .createQueryBuilder('a')
      .select('a.month', 'month')
      .addSelect('COUNT(*)', 'n')
      .where('a.month IN (:...months)', { months: months.map((m) => m.key) })
      .groupBy('a.month')
      .getRawMany<{ month: string; n: number | string }>();
    const byMonth = new Map(rows.map((r) => [r.month, Number(r.n)]));
    return months.map((m) => byMonth.get(m.key) ?? 0);
  }

  /** The people with progress in [from, the month's end), each with their latest, upserted as that month's rows. */
  private async record(month: Month, from: Date): Promise<number> {
    const active = await this.dataSource
      .createQueryBuilder()
      .select('e.user_id', 'userId')
      .addSelect('MAX(p.updated_at)', 'lastAt')
      .from('lesson_progress', 'p')
      .innerJoin('enrolments', 'e', 'e.id = p.enrolment_id')
      .where('p.updated_at >= :from AND p.updated_at < :to', { from, to: month.end })
      .groupBy('e.user_id')
      .orderBy('e.user_id', 'ASC')
      .getRawMany<{ userId: number | string; lastAt: Date | string }>();
    for (let i = 0; i < active.length; i += BATCH) {
      const values = active.slice(i, i + BATCH).map((r) => ({ month: month.key, userId: Number(r.userId), lastActivityAt: asDate(r.lastAt) }));
      await this.uow.run((tx) => tx.createQueryBuilder().insert().into(LearnerActivityMonth).values(values).orUpdate(['last_activity_at'], ['month', 'user_id']).execute());
    }
    if (active.length > BATCH) this.logger.log(`Recorded ${active.length} active learners for ${month.key}`);
    return active.length;
  }
}

/** Every ten minutes: the learners active since the last run are recorded for the site figures. */
@Injectable()
@JobHandler('admin.learner-activity', { everyMs: 10 * 60_000 })
export class LearnerActivityJob implements Handler<'admin.learner-activity'> {
  constructor(private readonly activity: LearnerActivity) {}

  async handle(): Promise<void> {
    await this.activity.catchUp();
  }
}

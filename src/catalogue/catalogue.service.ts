import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, EntityManager, In, MoreThanOrEqual, Repository } from 'typeorm';
import type { CurrentUser } from '../accounts/identity';
import { NotFound } from '../common/errors';
import { TtlCache } from '../common/ttl-cache';
import { LiveEvents } from '../live/live-events';
import { CourseModule } from './entities/course-module.entity';
import { Course, CourseLevel } from './entities/course.entity';
import { Lesson, LessonKind } from './entities/lesson.entity';
import { Topic } from './entities/topic.entity';

export const LENGTHS = { short: [0, 30], medium: [31, 60], long: [61, 100_000] } as const;
export type LengthBand = keyof typeof LENGTHS;
export const SORTS = ['newest', 'shortest', 'popular'] as const;
export type CatalogueSort = (typeof SORTS)[number];
export const PAGE_SIZE = 12;

export interface CatalogueQuery {
  q?: string;
  topic?: string;
  level?: CourseLevel;
  length?: LengthBand;
  sort?: CatalogueSort;
  page?: number;
}

export interface CourseCard {
  id: number;
  slug: string;
  title: string;
  summary: string;
  level: CourseLevel;
  estimatedMinutes: number;
  cpdHours: number;
  topic: { slug: string; name: string };
  enrolmentCount: number;
  publishedAt: Date | null;
}

export interface CataloguePage {
  items: CourseCard[];
  total: number;
  page: number;
  pages: number;
  perPage: number;
}

export interface SyllabusLesson {
  id: number;
  title: string;
  kind: LessonKind;
  minutes: number;
  required: boolean;
  /** A video's length in seconds; null for the other kinds (and a video whose length is not known). */
  durationSeconds: number | null;
}

export interface CourseDetail extends CourseCard {
  description: string;
  whoFor: string;
  status: Course['status'];
  authorId: number;
  modules: Array<{ id: number; title: string; lessons: SyllabusLesson[] }>;
}

/**
 * CPD minutes as hours, to two decimal places: enough for every whole number of minutes to come back unchanged
 * from a form that shows it (75 minutes is 1.25 hours, not 1.3, which an unchanged save would store as 78).
 */
/** A topic as other features see it. */
export interface TopicRef {
  id: number;
  slug: string;
  name: string;
}

export const cpdHours = (minutes: number) => Math.round((minutes / 60) * 100) / 100;

/**
 * How stale the public catalogue may be: the same search is answered from memory for this long. Publishing
 * or editing a course clears this process's cache at once; other web processes catch up within this time.
 */
export const CATALOGUE_CACHE_MS = 10_000;
/** The live channel that tells every instance the catalogue changed (publishing, editing, withdrawing a course). */
export const CATALOGUE_CHANNEL = 'catalogue-changed';

/** Reads the catalogue: the published courses people can find, and one course with its syllabus. */
@Injectable()
export class CatalogueService implements OnModuleInit, OnModuleDestroy {
  constructor(
    @InjectRepository(Course) private readonly courses: Repository<Course>,
    @InjectRepository(Topic) private readonly topics: Repository<Topic>,
    @InjectRepository(CourseModule) private readonly modules: Repository<CourseModule>,
    @InjectRepository(Lesson) private readonly lessons: Repository<Lesson>,
    private readonly live: LiveEvents,
  ) {}

  private readonly pages = new TtlCache<CataloguePage>(CATALOGUE_CACHE_MS, 1000);
  private readonly topicList = new TtlCache<Topic[]>(CATALOGUE_CACHE_MS, 1);
  private readonly cardCache = new TtlCache<CourseCard>(CATALOGUE_CACHE_MS, 5000);
  private readonly subjectCache = new TtlCache<Pick<Course, 'id' | 'slug' | 'title' | 'status' | 'authorId'>>(CATALOGUE_CACHE_MS, 5000);

  listTopics(): Promise<Topic[]> {
    return this.topicList.remember('all', () => this.topics.find({ order: { name: 'ASC' } }));
  }

  /** Every topic by id, from the same cached list (for other features that file things under topics). */
  async topicsById(): Promise<Map<number, TopicRef>> {
    return new Map((await this.listTopics()).map((t) => [t.id, { id: t.id, slug: t.slug, name: t.name }]));
  }

  /** The topic with this slug, or null. */
  async topicBySlug(slug: string): Promise<TopicRef | null> {
    const topic = (await this.listTopics()).find((t) => t.slug === slug);
    return topic ? { id: topic.id, slug: topic.slug, name: topic.name } : null;
  }

  /** Published courses matching every word of `q` (in title or summary) and the filters; one page of them. */
  search(query: CatalogueQuery): Promise<CataloguePage> {
    const key = JSON.stringify([query.q?.trim().toLowerCase() ?? '', query.topic ?? '', query.level ?? '', query.length ?? '', query.sort ?? 'newest', query.page ?? 1]);
    return this.pages.remember(key, () => this.searchNow(query));
  }

  /** Changes whenever the catalogue does in this process: part of the key of anything cached from it. */
  get generation(): number {
    return this.changes;
  }

  /**
   * Forgets cached catalogue pages, here at once and on every other instance through a live message: called when a
   * course is published, changed or withdrawn. Without Redis the message reaches nobody else (there is nobody);
   * if Redis is away, the other instances' caches still expire within CATALOGUE_CACHE_MS.
   */
  catalogueChanged(): void {
    this.forgetLocally();
    this.live.publish(CATALOGUE_CHANNEL, 'changed').catch((err) => this.logger.warn(`Other instances will notice the catalogue change when their caches expire: ${err instanceof Error ? err.message : err}`));
  }

  /** Runs `listener` whenever the catalogue changes, on this instance or another (home page caches, say). */
  onCatalogueChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  onModuleInit(): void {
    this.unsubscribe = this.live.subscribe(CATALOGUE_CHANNEL, () => this.forgetLocally());
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  private changes = 0;
  private readonly listeners: Array<() => void> = [];
  private unsubscribe: (() => void) | undefined;
  private readonly logger = new Logger('Catalogue');

  private forgetLocally(): void {
    this.changes++;
    this.pages.clear();
    this.topicList.clear();
    this.cardCache.clear();
    this.subjectCache.clear();
    for (const listener of this.listeners) listener();
  }

  private async searchNow(query: CatalogueQuery): Promise<CataloguePage> {
    const page = Math.max(1, query.page ?? 1);
    const builder = this.courses
      .createQueryBuilder('c')
      .innerJoin('c.topic', 't')
      .select(['c.id', 'c.slug', 'c.title', 'c.summary', 'c.level', 'c.estimatedMinutes', 'c.cpdMinutes', 'c.enrolmentCount', 'c.publishedAt', 't.slug', 't.name'])
      .where('c.status = :status', { status: 'published' });
    const words = (query.q ?? '').trim().toLowerCase().split(/\s+/).filter(Boolean).slice(0, 8);
    words.forEach((word, i) => {
      // '!' escapes LIKE's wildcards: a backslash would mean different things to MySQL and SQLite.
      const pattern = `%${word.replace(/[!%_]/g, (m) => `!${m}`)}%`;
      builder.andWhere(new Brackets((w) => w.where(`LOWER(c.title) LIKE :w${i} ESCAPE '!'`, { [`w${i}`]: pattern }).orWhere(`LOWER(c.summary) LIKE :w${i} ESCAPE '!'`)));
    });
    if (query.topic) builder.andWhere('t.slug = :topic', { topic: query.topic });
    if (query.level) builder.andWhere('c.level = :level', { level: query.level });
    if (query.length) builder.andWhere('c.estimatedMinutes BETWEEN :min AND :max', { min: LENGTHS[query.length][0], max: LENGTHS[query.length][1] });
    const sort = query.sort ?? 'newest';
    if (sort === 'shortest') builder.orderBy('c.estimatedMinutes', 'ASC');
    else if (sort === 'popular') builder.orderBy('c.enrolmentCount', 'DESC');
    else builder.orderBy('c.publishedAt', 'DESC');
    builder.addOrderBy('c.id', 'DESC');
    // limit/offset, not skip/take: the only join is many-to-one, so rows are not multiplied and TypeORM's
    // DISTINCT sub-query for paging joined rows would be wasted work.
    // COUNT(*) rather than getCount()'s COUNT(DISTINCT id): the many-to-one join cannot repeat a course.
    const [rows, counted] = await Promise.all([
      builder.clone().limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE).getMany(),
      builder.clone().orderBy().select('COUNT(*)', 'total').getRawOne<{ total: number | string }>(),
    ]);
    const total = Number(counted?.total ?? 0);
    return { items: rows.map(toCard), total, page, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)), perPage: PAGE_SIZE };
  }

  /**
   * One course with its modules and lessons (three indexed queries, whatever the size). Drafts and archived
   * courses exist only for their author and admins: anyone else gets "not found".
   */
  async courseBySlug(slug: string, viewer: CurrentUser | null): Promise<CourseDetail> {
    const course = await this.courses.findOne({ where: { slug }, relations: { topic: true } });
    if (!course || !canSee(course, viewer)) throw new NotFound('There is no course at this address');
    const [modules, lessons] = await Promise.all([
      this.modules.find({ where: { courseId: course.id }, order: { position: 'ASC' }, select: { id: true, title: true, position: true } }),
      this.lessons.find({ where: { courseId: course.id }, order: { position: 'ASC' }, select: { id: true, moduleId: true, title: true, kind: true, minutes: true, required: true, position: true, videoSeconds: true } }),
    ]);
    return {
      ...toCard(course),
      description: course.description,
      whoFor: course.whoFor,
      status: course.status,
      authorId: course.authorId,
      modules: modules.map((m) => ({
        id: m.id,
        title: m.title,
        lessons: lessons
          .filter((l) => l.moduleId === m.id)
          .map((l) => ({ id: l.id, title: l.title, kind: l.kind, minutes: l.minutes, required: l.required, durationSeconds: l.kind === 'video' ? l.videoSeconds : null })),
      })),
    };
  }

  /** Published course ids and their titles, for the learning module's lists. */
  /** Cards of these courses (kept like the catalogue's pages: My learning shows twenty of them on every visit). */
  async cards(courseIds: number[]): Promise<Map<number, CourseCard>> {
    if (!courseIds.length) return new Map();
    const cards = await this.cardCache.rememberMany(courseIds, async (ids) => {
      const rows = await this.courses.find({ where: { id: In(ids) }, relations: { topic: true } });
      return new Map(rows.map((c) => [c.id, toCard(c)]));
    });
    // In the order asked, as before.
    return new Map(courseIds.filter((id) => cards.has(id)).map((id) => [id, cards.get(id)!]));
  }

  /** Which of these topic ids exist (read fresh, not from the catalogue cache). */
  async existingTopicIds(ids: number[]): Promise<number[]> {
    if (!ids.length) return [];
    return (await this.topics.find({ where: { id: In(ids) }, select: { id: true } })).map((t) => t.id);
  }

  /** Courses published since a date in any of the topics, newest first (for the weekly digest). */
  async publishedSince(topicIds: number[], since: Date, limit = 10): Promise<CourseCard[]> {
    if (!topicIds.length) return [];
    const rows = await this.courses.find({
      where: { topicId: In(topicIds), status: 'published', publishedAt: MoreThanOrEqual(since) },
      relations: { topic: true },
      order: { publishedAt: 'DESC' },
      take: limit,
    });
    return rows.map(toCard);
  }

  /** Published courses in any of the topics, the most enrolled first (for "related" lists elsewhere, such as the exchange). */
  async popularInTopics(topicIds: readonly number[], limit: number): Promise<CourseCard[]> {
    if (!topicIds.length) return [];
    const rows = await this.courses.find({ where: { topicId: In([...topicIds]), status: 'published' }, relations: { topic: true }, order: { enrolmentCount: 'DESC', publishedAt: 'DESC', id: 'DESC' }, take: limit });
    return rows.map(toCard);
  }

  /** Title, slug and CPD minutes of any course, whatever its status (for certificates of past completions). */
  courseFacts(courseId: number): Promise<Pick<Course, 'id' | 'slug' | 'title' | 'cpdMinutes'> | null> {
    return this.courses.findOne({ where: { id: courseId }, select: { id: true, slug: true, title: true, cpdMinutes: true } });
  }

  /** Slug, title, status and author of any course (discussions decide who sees what); null if there is none. */
  async courseSubject(courseId: number): Promise<Pick<Course, 'id' | 'slug' | 'title' | 'status' | 'authorId'> | null> {
    // Kept like the catalogue's pages: every page of a course's discussion asks.
    return (
      (
        await this.subjectCache.rememberMany([courseId], async (ids) => {
          const rows = await this.courses.find({ where: { id: In(ids) }, select: { id: true, slug: true, title: true, status: true, authorId: true } });
          return new Map(rows.map((c) => [c.id, c]));
        })
      ).get(courseId) ?? null
    );
  }

  /** Whether a learner may enrol: the course exists and is published. */
  async requirePublished(courseId: number): Promise<Course> {
    const course = await this.courses.findOne({ where: { id: courseId, status: 'published' }, select: { id: true, slug: true, title: true } });
    if (!course) throw new NotFound('There is no published course with that id');
    return course;
  }

  /** Keeps the "most popular" counter in step with enrolments, inside the enrolment's transaction. */
  async countEnrolment(manager: EntityManager, courseId: number, delta: 1 | -1): Promise<void> {
    await manager.getRepository(Course).increment({ id: courseId }, 'enrolmentCount', delta);
  }
}

function canSee(course: Course, viewer: CurrentUser | null): boolean {
  if (course.status === 'published') return true;
  return !!viewer && (viewer.role === 'admin' || viewer.id === course.authorId);
}

function toCard(c: Course): CourseCard {
  return {
    id: c.id,
    slug: c.slug,
    title: c.title,
    summary: c.summary,
    level: c.level,
    estimatedMinutes: c.estimatedMinutes,
    cpdHours: cpdHours(c.cpdMinutes),
    topic: { slug: c.topic!.slug, name: c.topic!.name },
    enrolmentCount: c.enrolmentCount,
    publishedAt: c.publishedAt,
  };
}

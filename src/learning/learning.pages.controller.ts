import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public, SignedInUser, type CurrentUser } from '../accounts/identity';
import { CatalogueQueryDto } from '../catalogue/catalogue.dto';
import { CATALOGUE_CACHE_MS, CatalogueService, LENGTHS, SORTS } from '../catalogue/catalogue.service';
import { CertificateDirectory } from '../common/certificate-directory';
import { RelatedExchange } from '../common/related-exchange';
import { TtlCache } from '../common/ttl-cache';
import { COURSE_LEVELS } from '../catalogue/entities/course.entity';
import { parseForm } from '../common/forms';
import { renderMarkdown } from '../common/markdown';
import { LearningService } from './learning.service';
import { nextLessonIn, ProgressService } from './progress.service';

const LENGTH_LABELS: Record<string, string> = { short: 'Up to 30 minutes', medium: '30 minutes to an hour', long: 'Over an hour' };
const SORT_LABELS: Record<string, string> = { newest: 'Newest', shortest: 'Shortest', popular: 'Most popular' };
const LEVEL_LABELS: Record<string, string> = { introductory: 'Introductory', intermediate: 'Intermediate', advanced: 'Advanced' };

/** The learner's side of courses: the catalogue with their progress, a course page, enrolling and "My learning". */
@ApiExcludeController()
@Controller()
export class LearningPagesController {
  constructor(
    private readonly catalogue: CatalogueService,
    private readonly learning: LearningService,
    private readonly progress: ProgressService,
    private readonly certificates: CertificateDirectory,
    private readonly related: RelatedExchange,
  ) {}

  private readonly anonymousCatalogue = new TtlCache<string>(CATALOGUE_CACHE_MS, 500);

  @Public()
  @Get('courses')
  async cataloguePage(@Query() raw: Record<string, string>, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<FastifyReply> {
    const query = await parseForm(CatalogueQueryDto, raw);
    const user = request.identity?.user;
    if (user) return reply.view('learning/catalogue', await this.catalogueView(query, user.id));
    // Anonymous visitors all see the same page for the same search: it is kept whole, as briefly as the data.
    const key = `${this.catalogue.generation}:${JSON.stringify(stringEntries(query))}:${query.page ?? 1}`;
    const html = await this.anonymousCatalogue.remember(key, async () => reply.renderView('learning/catalogue', await this.catalogueView(query, null)));
    return reply.type('text/html; charset=utf-8').send(html);
  }

  private async catalogueView(query: CatalogueQueryDto, userId: number | null) {
    const [result, topics] = await Promise.all([this.catalogue.search(query), this.catalogue.listTopics()]);
    const progress = userId ? await this.learning.progressByCourse(userId, result.items.map((c) => c.id)) : new Map();
    const pageLink = (page: number) => `/courses?${new URLSearchParams({ ...stringEntries(query), page: String(page) })}`;
    return {
      pageTitle: query.q ? `Courses matching “${query.q}”` : 'Courses',
      query,
      result,
      courses: result.items.map((c) => ({ ...c, levelLabel: LEVEL_LABELS[c.level], progress: progress.get(c.id) })),
      topics: topics.map((t) => ({ value: t.slug, text: t.name, selected: t.slug === query.topic })),
      levels: COURSE_LEVELS.map((l) => ({ value: l, text: LEVEL_LABELS[l], selected: l === query.level })),
      lengths: Object.keys(LENGTHS).map((l) => ({ value: l, text: LENGTH_LABELS[l], selected: l === query.length })),
      sorts: SORTS.map((s) => ({ value: s, text: SORT_LABELS[s], selected: s === (query.sort ?? 'newest') })),
      previous: result.page > 1 ? { href: pageLink(result.page - 1), title: `Page ${result.page - 1} of ${result.pages}` } : null,
      next: result.page < result.pages ? { href: pageLink(result.page + 1), title: `Page ${result.page + 1} of ${result.pages}` } : null,
    };
  }

  @Public()
  @Get('courses/:slug')
  async coursePage(@Param('slug') slug: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const user = request.identity?.user ?? null;
    const course = await this.catalogue.courseBySlug(slug, user);
    const found = user ? await this.learning.enrolmentFor(user.id, course.id) : null;
    const enrolment = found && found.status !== 'withdrawn' ? found : null;
    const done = enrolment ? await this.progress.progressOf(enrolment.id) : new Map();
    const canOpenLessons = !!enrolment || (!!user && (user.role === 'admin' || user.id === course.authorId));
    const lessonHref = (id: number) => (canOpenLessons ? `/courses/${course.slug}/lessons/${id}` : null);
    const lessons = course.modules.flatMap((m) => m.lessons);
    // The syllabus and this learner's progress are both at hand: no need to ask the database again.
    const nextId = enrolment ? nextLessonIn(lessons, (id) => !!done.get(id)?.completedAt) : null;
    // "From the exchange": what organisations shared on the course's topic.
    const topic = await this.catalogue.topicBySlug(course.topic.slug);
    const fromExchange = topic ? await this.related.itemsOnTopics([topic.id]) : [];
    return reply.view('learning/course', {
      pageTitle: course.title,
      course: {
        ...course,
        levelLabel: LEVEL_LABELS[course.level],
        modules: course.modules.map((m) => ({ ...m, lessons: m.lessons.map((l) => ({ ...l, href: lessonHref(l.id), done: !!done.get(l.id)?.completedAt })) })),
      },
      continueLesson: nextId ? { href: lessonHref(nextId), title: lessons.find((l) => l.id === nextId)?.title, started: done.size > 0 } : null,
      certificate: enrolment?.status === 'completed' ? ((await this.certificates.find(user!.id, 'course', course.id)) ?? { preparing: true }) : null,
      previewLesson: !enrolment && canOpenLessons && lessons[0] ? lessonHref(lessons[0].id) : null,
      descriptionHtml: renderMarkdown(course.description, { demoteHeadings: true }),
      whoForHtml: renderMarkdown(course.whoFor, { demoteHeadings: true }),
      enrolment,
      preview: course.status !== 'published',
      related: { exchangeItems: fromExchange, exploreHref: `/exchange?topic=${encodeURIComponent(course.topic.slug)}` },
      // Who reads the course's discussion: its learners, its author, administrators and moderators (discussions' rule).
      discussionHref: canOpenLessons || user?.role === 'moderator' ? `/courses/${course.slug}/discussion` : null,
    });
  }

  @Post('courses/:slug/enrol')
  async enrol(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const course = await this.catalogue.courseBySlug(slug, user);
    await this.learning.enrol(user.id, course.id);
    return reply.redirect(`/courses/${course.slug}`, 303);
  }

  @Post('courses/:slug/withdraw')
  async withdraw(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const course = await this.catalogue.courseBySlug(slug, user);
    await this.learning.withdraw(user.id, course.id);
    return reply.redirect('/my-learning', 303);
  }

  @Get('my-learning')
  async myLearning(@SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const enrolments = await this.learning.listFor(user.id);
    const inProgress = enrolments.filter((e) => e.status === 'active');
    const next = await this.progress.nextLessons(inProgress);
    return reply.view('learning/my-learning', {
      pageTitle: 'My learning',
      inProgress: inProgress.map((e) => ({ ...e, continueHref: next.get(e.id) ? `/courses/${e.course.slug}/lessons/${next.get(e.id)}` : `/courses/${e.course.slug}` })),
      completed: enrolments.filter((e) => e.status === 'completed'),
    });
  }
}

function stringEntries(query: object): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter(([k, v]) => v !== undefined && k !== 'page').map(([k, v]) => [k, String(v)]));
}

import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../accounts/identity';
import { CatalogueService } from '../catalogue/catalogue.service';
import { LessonReader } from '../catalogue/lesson.reader';
import { TtlCache } from '../common/ttl-cache';
import { LearningService } from '../learning/learning.service';
import { ProgressService } from '../learning/progress.service';

const HOME = { pageTitle: 'Learn from peers across health and care IT' };

@ApiExcludeController()
@Controller()
export class HomeController {
  /**
   * Every anonymous visitor sees the same home page: rendered once a minute, not on every request, and again at once
   * when the catalogue changes on any instance (it may show the courses).
   */
  private readonly anonymousPage = new TtlCache<string>(60_000, 1);

  constructor(
    private readonly learning: LearningService,
    private readonly progress: ProgressService,
    private readonly lessons: LessonReader,
    catalogue: CatalogueService,
  ) {
    catalogue.onCatalogueChange(() => this.anonymousPage.clear());
  }

  @Public()
  @Get()
  async home(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const user = request.identity?.user;
    if (user) return reply.view('home/index', { ...HOME, continueLearning: await this.continueLearning(user.id) });
    let html = this.anonymousPage.get('home');
    if (html === undefined) {
      html = reply.renderView('home/index', HOME);
      this.anonymousPage.set('home', html);
    }
    return reply.type('text/html; charset=utf-8').send(html);
  }

  /** "Continue where you left off": the course worked on last and its next lesson, as My learning finds it. */
  private async continueLearning(userId: number) {
    const enrolment = await this.learning.latestActive(userId);
    if (!enrolment) return null;
    const nextId = (await this.progress.nextLessons([enrolment])).get(enrolment.id) ?? null;
    const next = nextId ? await this.lessons.lesson(nextId) : null;
    return {
      ...enrolment,
      nextLesson: next ? { title: next.title, href: `/courses/${enrolment.course.slug}/lessons/${next.id}` } : null,
      continueHref: next ? `/courses/${enrolment.course.slug}/lessons/${next.id}` : `/courses/${enrolment.course.slug}`,
    };
  }
}

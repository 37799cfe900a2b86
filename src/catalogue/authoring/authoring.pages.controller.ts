import { Body, Controller, Get, Param, ParseIntPipe, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Roles, SignedInUser, type CurrentUser } from '../../accounts/identity';
import { FieldErrors, NotFound } from '../../common/errors';
import { errorView, formErrors, parseForm } from '../../common/forms';
import { renderMarkdown } from '../../common/markdown';
import { readMultipartHead, type PendingUpload } from '../../common/multipart';
import { AppConfig } from '../../config/config';
import { InjectConfig } from '../../config/config.module';
import { cpdHours } from '../catalogue.service';
import { COURSE_LEVELS, type Course, type CourseStatus } from '../entities/course.entity';
import { LESSON_KINDS, type Lesson } from '../entities/lesson.entity';
import { CourseDetailsDto, LessonDto, MAX_OPTIONS, NewLessonDto, parseQuestionForm, TitleDto } from './authoring.dto';
import { AuthoringService, CourseOutline, DeletionPreview, Direction, LESSON_KIND_LABELS, LessonForEditing, PublishBlocked } from './authoring.service';
import { UploadTooLarge } from './uploads';

const idOf = (what: string) => new ParseIntPipe({ exceptionFactory: () => new NotFound(`There is no ${what} at this address`) });
const courseId = idOf('course');
const moduleId = idOf('module');
const lessonId = idOf('lesson');
const questionId = idOf('question');

const LEVEL_LABELS: Record<string, string> = { introductory: 'Introductory', intermediate: 'Intermediate', advanced: 'Advanced' };
const STATUS_TAGS: Record<CourseStatus, { text: string; colour: string }> = {
  draft: { text: 'Draft', colour: 'grey' },
  published: { text: 'Published', colour: 'green' },
  archived: { text: 'Archived', colour: 'orange' },
};
const NOTICES: Record<string, string> = {
  created: 'Course created. Add modules and lessons, then publish it when it is ready.',
  saved: 'Your changes have been saved.',
  published: 'The course is published: learners can find it in the catalogue.',
  unpublished: 'The course is archived: learners can no longer see it. Publish it again when it is ready.',
  'module-added': 'Module added.',
  'module-deleted': 'Module deleted.',
  moved: 'The order has been changed.',
  'lesson-deleted': 'Lesson deleted.',
  'lesson-added': 'Lesson added. Fill in its details below.',
  'file-uploaded': 'File uploaded.',
  'captions-uploaded': 'Captions uploaded.',
  'question-added': 'Question added.',
  'question-deleted': 'Question deleted.',
};
const DETAIL_FIELDS = ['title', 'slug', 'summary', 'description', 'whoFor', 'topicId', 'newTopic', 'level', 'cpdHours'];

const counted = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const has = (n: number) => (n === 1 ? 'has' : 'have');

/** The view of a page that asks to confirm deleting a module or a lesson: what goes with it, in words. */
function deletionView(preview: DeletionPreview, what: 'module' | 'lesson') {
  const { course, module, lessons, questionCount, fileCount, activity } = preview;
  const lesson = lessons[0];
  const these = what === 'module' ? 'these lessons' : 'this lesson';
  const items: string[] = [];
  if (what === 'module') {
    items.push(`the module “${module.title}”`);
    if (lessons.length) items.push(`its ${counted(lessons.length, 'lesson')}`);
    if (fileCount) items.push(`their ${counted(fileCount, 'file')} (videos, captions and downloads)`);
    if (questionCount) items.push(`their ${counted(questionCount, 'quiz question')}`);
  } else {
    items.push(`the lesson “${lesson.title}” from the module “${module.title}”`);
    if (lesson.kind === 'video' && lesson.fileKey) items.push(lesson.captionsKey ? 'its video and captions' : 'its video');
    else if (lesson.fileKey) items.push(`its file “${lesson.fileName ?? 'download'}”`);
    if (questionCount) items.push(`its ${counted(questionCount, 'quiz question')}`);
  }
  if (activity.learners) items.push(`the progress of ${counted(activity.learners, 'learner')} in ${these}`);
  const finished = activity.completed ? `, and ${activity.completed} ${has(activity.completed)} finished ${what === 'module' ? 'at least one of them' : 'it'}` : '';
  const base = what === 'module' ? `/author/modules/${module.id}` : `/author/lessons/${lesson.id}`;
  const name = what === 'module' ? module.title : lesson.title;
  return {
    pageTitle: `Delete the ${what} “${name}”?`,
    back: { href: base, text: `Back to the ${what}` },
    caption: what === 'module' ? `Module in ${course.title}` : `Lesson in ${course.title}`,
    heading: `Are you sure you want to delete the ${what} “${name}”?`,
    items,
    lessonTitles: what === 'module' && lessons.length ? lessons.map((l) => l.title) : null,
    learnerWarning: activity.learners ? `${counted(activity.learners, 'learner')} ${has(activity.learners)} started ${these}${finished}. Their progress in ${these} will be deleted.` : null,
    noProgress: activity.learners ? null : what === 'module' && !lessons.length ? null : `No learner has started ${these} yet.`,
    published: course.status === 'published' && lessons.length > 0,
    action: `${base}/delete`,
    confirmLabel: `Yes, delete this ${what}`,
  };
}

const direction = (value: unknown): Direction => (value === 'up' ? 'up' : 'down');
const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** Course authoring pages: authors build their own courses, administrators anyone's (checked in the service). */
@ApiExcludeController()
@Roles('author')
@Controller('author')
export class AuthoringPagesController {
  constructor(
    private readonly authoring: AuthoringService,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Get()
  home(@Res() reply: FastifyReply) {
    return reply.redirect('/author/courses', 303);
  }

  // ---------------------------------------------------------------- courses

  @Get('courses')
  async courses(@SignedInUser() user: CurrentUser, @Res() reply: FastifyReply, @Query('notice') notice?: string) {
    const courses = await this.authoring.listCourses(user);
    return reply.view('authoring/courses', {
      pageTitle: user.role === 'admin' ? 'All courses' : 'Your courses',
      heading: user.role === 'admin' ? 'All courses' : 'Your courses',
      isAdmin: user.role === 'admin',
      notice: notice ? NOTICES[notice] : undefined,
      courses: courses.map((c) => ({ ...c, tag: STATUS_TAGS[c.status] })),
    });
  }

  @Get('courses/new')
  async newCourse(@Res() reply: FastifyReply) {
    return reply.view('authoring/course-new', { pageTitle: 'Create a course', ...(await this.detailsForm({ level: 'introductory', cpdHours: '1' })) });
  }

  @Post('courses')
  async createCourse(@SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(CourseDetailsDto, { ...body, slug: undefined });
      const course = await this.authoring.createCourse(user, input);
      return reply.redirect(`/author/courses/${course.id}?notice=created`, 303);
    } catch (err) {
      const errors = formErrors(err);
      return reply.status(400).view('authoring/course-new', { pageTitle: 'Error: Create a course', ...(await this.detailsForm(body)), ...errorView(errors, DETAIL_FIELDS) });
    }
  }

  @Get('courses/:courseId')
  async course(@Param('courseId', courseId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply, @Query('notice') notice?: string) {
    const outline = await this.authoring.outline(user, id);
    return this.renderCourse(reply, outline, { notice });
  }

  @Post('courses/:courseId')
  async saveCourse(@Param('courseId', courseId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(CourseDetailsDto, body);
      await this.authoring.updateCourse(user, id, input);
      return reply.redirect(`/author/courses/${id}?notice=saved`, 303);
    } catch (err) {
      const errors = formErrors(err);
      return this.renderCourse(reply.status(400), await this.authoring.outline(user, id), { values: body, errors, order: DETAIL_FIELDS });
    }
  }

  @Post('courses/:courseId/publish')
  async publish(@Param('courseId', courseId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    try {
      await this.authoring.publish(user, id);
      return reply.redirect(`/author/courses/${id}?notice=published`, 303);
    } catch (err) {
      if (!(err instanceof PublishBlocked)) throw err;
      return this.renderCourse(reply.status(400), await this.authoring.outline(user, id), { publishErrors: err.problems });
    }
  }

  @Post('courses/:courseId/unpublish')
  async unpublish(@Param('courseId', courseId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    await this.authoring.unpublish(user, id);
    return reply.redirect(`/author/courses/${id}?notice=unpublished`, 303);
  }

  // ---------------------------------------------------------------- modules

  @Post('courses/:courseId/modules')
  async addModule(@Param('courseId', courseId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(TitleDto, { title: body?.moduleTitle });
      const module = await this.authoring.addModule(user, id, input.title);
      return reply.redirect(`/author/courses/${id}?notice=module-added#module-${module.id}`, 303);
    } catch (err) {
      const errors = formErrors(err);
      return this.renderCourse(reply.status(400), await this.authoring.outline(user, id), { values: { moduleTitle: body?.moduleTitle }, errors: { moduleTitle: errors.title ?? Object.values(errors)[0] } });
    }
  }

  @Get('modules/:moduleId')
  async module(@Param('moduleId', moduleId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const { course, module, lessonCount } = await this.authoring.module(user, id);
    return reply.view('authoring/module', { pageTitle: `Module: ${module.title}`, course, module, lessonCount, values: { title: module.title } });
  }

  @Post('modules/:moduleId')
  async renameModule(@Param('moduleId', moduleId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(TitleDto, body);
      const module = await this.authoring.renameModule(user, id, input.title);
      return reply.redirect(`/author/courses/${module.courseId}?notice=saved#module-${module.id}`, 303);
    } catch (err) {
      const errors = formErrors(err);
      const { course, module, lessonCount } = await this.authoring.module(user, id);
      return reply.status(400).view('authoring/module', { pageTitle: `Error: Module: ${module.title}`, course, module, lessonCount, values: { title: body?.title }, ...errorView(errors, ['title']) });
    }
  }

  @Get('modules/:moduleId/delete')
  async confirmDeleteModule(@Param('moduleId', moduleId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    return reply.view('authoring/delete-confirm', deletionView(await this.authoring.moduleDeletion(user, id), 'module'));
  }

  @Post('modules/:moduleId/delete')
  async deleteModule(@Param('moduleId', moduleId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const course = await this.authoring.deleteModule(user, id);
    return reply.redirect(`/author/courses/${course}?notice=module-deleted#modules`, 303);
  }

  @Post('modules/:moduleId/move')
  async moveModule(@Param('moduleId', moduleId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    const course = await this.authoring.moveModule(user, id, direction(body?.direction));
    return reply.redirect(`/author/courses/${course}?notice=moved#module-${id}`, 303);
  }

  @Post('modules/:moduleId/lessons')
  async addLesson(@Param('moduleId', moduleId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(NewLessonDto, { title: body?.[`lessonTitle-${id}`], kind: body?.[`lessonKind-${id}`] });
      const lesson = await this.authoring.addLesson(user, id, input);
      return reply.redirect(`/author/lessons/${lesson.id}?notice=lesson-added`, 303);
    } catch (err) {
      const errors = formErrors(err);
      const { course } = await this.authoring.module(user, id);
      const keyed: FieldErrors = {};
      if (errors.title) keyed[`lessonTitle-${id}`] = errors.title;
      if (errors.kind) keyed[`lessonKind-${id}`] = errors.kind;
      return this.renderCourse(reply.status(400), await this.authoring.outline(user, course.id), { errors: keyed, newLesson: { moduleId: id, title: text(body?.[`lessonTitle-${id}`]), kind: text(body?.[`lessonKind-${id}`]) } });
    }
  }

  // ---------------------------------------------------------------- lessons

  @Get('lessons/:lessonId')
  async lesson(@Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply, @Query('notice') notice?: string) {
    return this.renderLesson(reply, await this.authoring.lessonForEditing(user, id), { notice });
  }

  @Post('lessons/:lessonId')
  async saveLesson(@Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(LessonDto, body);
      await this.authoring.updateLesson(user, id, input);
      return reply.redirect(`/author/lessons/${id}?notice=saved`, 303);
    } catch (err) {
      const errors = formErrors(err);
      return this.renderLesson(reply.status(400), await this.authoring.lessonForEditing(user, id), { values: body, errors, order: ['title', 'minutes', 'required', 'passMark', 'videoSeconds', 'body'] });
    }
  }

  @Get('lessons/:lessonId/delete')
  async confirmDeleteLesson(@Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    return reply.view('authoring/delete-confirm', deletionView(await this.authoring.lessonDeletion(user, id), 'lesson'));
  }

  @Post('lessons/:lessonId/delete')
  async deleteLesson(@Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const course = await this.authoring.deleteLesson(user, id);
    return reply.redirect(`/author/courses/${course}?notice=lesson-deleted#modules`, 303);
  }

  @Post('lessons/:lessonId/move')
  async moveLesson(@Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    const course = await this.authoring.moveLesson(user, id, direction(body?.direction));
    return reply.redirect(`/author/courses/${course}?notice=moved#lesson-${id}`, 303);
  }

  /** The video or resource file (multipart: the CSRF token and, for WebM, the length come before the file). */
  @Post('lessons/:lessonId/file')
  async uploadFile(@Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const upload = await this.upload(request);
    try {
      await this.authoring.attachLessonFile(user, id, upload);
      return reply.redirect(`/author/lessons/${id}?notice=file-uploaded`, 303);
    } catch (err) {
      // The upload form's length field has its own id: the lesson form below may show one too.
      const { videoSeconds, ...others } = formErrors(err);
      const errors: FieldErrors = videoSeconds ? { 'upload-videoSeconds': videoSeconds, ...others } : others;
      const status = err instanceof UploadTooLarge ? 413 : 400;
      return this.renderLesson(reply.status(status), await this.authoring.lessonForEditing(user, id), { values: upload.fields, errors, order: ['upload-videoSeconds', 'file'] });
    }
  }

  @Post('lessons/:lessonId/captions')
  async uploadCaptions(@Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const upload = await this.upload(request);
    try {
      await this.authoring.attachCaptions(user, id, upload);
      return reply.redirect(`/author/lessons/${id}?notice=captions-uploaded`, 303);
    } catch (err) {
      const errors = formErrors(err);
      const status = err instanceof UploadTooLarge ? 413 : 400;
      return this.renderLesson(reply.status(status), await this.authoring.lessonForEditing(user, id), { errors, order: ['captions'] });
    }
  }

  // ---------------------------------------------------------------- quiz questions

  @Get('lessons/:lessonId/questions/new')
  async newQuestion(@Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const { course, lesson } = await this.quizLesson(user, id);
    return reply.view('authoring/question', { pageTitle: 'Add a question', course, lesson, isNew: true, action: `/author/lessons/${lesson.id}/questions`, ...questionForm({ answerType: 'single' }) });
  }

  @Post('lessons/:lessonId/questions')
  async addQuestion(@Param('lessonId', lessonId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    const { course, lesson } = await this.quizLesson(user, id);
    try {
      await this.authoring.addQuestion(user, id, await parseQuestionForm(body ?? {}));
      return reply.redirect(`/author/lessons/${id}?notice=question-added#questions`, 303);
    } catch (err) {
      const errors = formErrors(err);
      return reply
        .status(400)
        .view('authoring/question', { pageTitle: 'Error: Add a question', course, lesson, isNew: true, action: `/author/lessons/${lesson.id}/questions`, ...questionForm(body ?? {}), ...errorView(errors, QUESTION_FIELDS) });
    }
  }

  @Get('questions/:questionId')
  async question(@Param('questionId', questionId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply, @Query('notice') notice?: string) {
    const { course, lesson, question, options } = await this.authoring.question(user, id);
    const values: Record<string, unknown> = { prompt: question.prompt, answerType: question.multiple ? 'multiple' : 'single', explanation: question.explanation, correct: [] as string[] };
    options.forEach((o, i) => {
      values[`option${i + 1}`] = o.text;
      if (o.correct) (values.correct as string[]).push(String(i + 1));
    });
    return reply.view('authoring/question', { pageTitle: 'Edit a question', course, lesson, question, action: `/author/questions/${id}`, notice: notice ? NOTICES[notice] : undefined, ...questionForm(values) });
  }

  @Post('questions/:questionId')
  async saveQuestion(@Param('questionId', questionId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    try {
      await this.authoring.updateQuestion(user, id, await parseQuestionForm(body ?? {}));
      const { lesson } = await this.authoring.question(user, id);
      return reply.redirect(`/author/lessons/${lesson.id}?notice=saved#question-${id}`, 303);
    } catch (err) {
      const errors = formErrors(err);
      const { course, lesson, question } = await this.authoring.question(user, id);
      return reply.status(400).view('authoring/question', { pageTitle: 'Error: Edit a question', course, lesson, question, action: `/author/questions/${id}`, ...questionForm(body ?? {}), ...errorView(errors, QUESTION_FIELDS) });
    }
  }

  @Post('questions/:questionId/delete')
  async deleteQuestion(@Param('questionId', questionId) id: number, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const lesson = await this.authoring.deleteQuestion(user, id);
    return reply.redirect(`/author/lessons/${lesson}?notice=question-deleted#questions`, 303);
  }

  @Post('questions/:questionId/move')
  async moveQuestion(@Param('questionId', questionId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, unknown>, @Res() reply: FastifyReply) {
    const lesson = await this.authoring.moveQuestion(user, id, direction(body?.direction));
    return reply.redirect(`/author/lessons/${lesson}?notice=moved#question-${id}`, 303);
  }

  // ---------------------------------------------------------------- views

  /** The multipart form's fields and its file part, still unread (the CSRF guard has read the fields). */
  private async upload(request: FastifyRequest): Promise<PendingUpload> {
    if (request.pendingUpload) return request.pendingUpload;
    if (typeof request.isMultipart === 'function' && request.isMultipart()) return readMultipartHead(request);
    return { fields: (request.body as Record<string, string>) ?? {}, file: null };
  }

  private async quizLesson(user: CurrentUser, id: number) {
    const editing = await this.authoring.lessonForEditing(user, id);
    if (editing.lesson.kind !== 'quiz') throw new NotFound('There is no quiz at this address');
    return editing;
  }

  private async detailsForm(values: Record<string, unknown>) {
    const topics = await this.authoring.topics();
    const topicId = text(values.topicId);
    return {
      values,
      topics: topics.map((t) => ({ value: String(t.id), text: t.name, selected: String(t.id) === topicId })),
      levels: COURSE_LEVELS.map((l) => ({ value: l, text: LEVEL_LABELS[l], selected: l === values.level })),
    };
  }

  private async renderCourse(
    reply: FastifyReply,
    outline: CourseOutline,
    options: {
      notice?: string;
      values?: Record<string, unknown>;
      errors?: FieldErrors;
      order?: string[];
      publishErrors?: Array<{ href: string; text: string }>;
      newLesson?: { moduleId: number; title: string; kind: string };
    },
  ) {
    const { course, topic, modules, problems } = outline;
    const saved = { ...detailValues(course), topicId: String(topic.id) };
    const values = { ...saved, ...(options.values ?? {}) };
    const errors = errorView(options.errors ?? {}, options.order);
    const lessonCount = modules.reduce((n, m) => n + m.lessons.length, 0);
    let seen = 0;
    return reply.view('authoring/course', {
      pageTitle: `${options.errors || options.publishErrors ? 'Error: ' : ''}${course.title}`,
      course,
      tag: STATUS_TAGS[course.status],
      isDraft: course.status === 'draft',
      isPublished: course.status === 'published',
      notice: options.notice ? NOTICES[options.notice] : undefined,
      errors: errors.errors,
      errorList: options.publishErrors ?? errors.errorList,
      publishBlocked: !!options.publishErrors,
      problems,
      cpdHoursText: cpdHours(course.cpdMinutes),
      ...(await this.detailsForm(values)),
      modules: modules.map((m, index) => ({
        id: m.id,
        title: m.title,
        first: index === 0,
        last: index === modules.length - 1,
        lessons: m.lessons.map((l) => {
          seen++;
          return { ...lessonSummary(l), first: seen === 1, last: seen === lessonCount };
        }),
        newLesson: {
          titleId: `lessonTitle-${m.id}`,
          kindId: `lessonKind-${m.id}`,
          title: options.newLesson?.moduleId === m.id ? options.newLesson.title : '',
          titleError: errors.errors[`lessonTitle-${m.id}`],
          kindError: errors.errors[`lessonKind-${m.id}`],
          kinds: LESSON_KINDS.map((k) => ({ value: k, text: LESSON_KIND_LABELS[k], selected: options.newLesson?.moduleId === m.id && options.newLesson.kind === k })),
        },
      })),
    });
  }

  private renderLesson(reply: FastifyReply, editing: LessonForEditing, options: { notice?: string; values?: Record<string, unknown>; errors?: FieldErrors; order?: string[] }) {
    const { course, module, lesson, questions } = editing;
    const saved: Record<string, unknown> = {
      title: lesson.title,
      minutes: String(lesson.minutes),
      required: lesson.required ? 'yes' : undefined,
      body: lesson.body,
      passMark: lesson.passMark === null ? '' : String(lesson.passMark),
      videoSeconds: lesson.videoSeconds === null ? '' : String(lesson.videoSeconds),
    };
    // A failed lesson form shows what was typed; a failed upload keeps the lesson's saved values.
    const values = options.values && 'minutes' in options.values ? { ...saved, ...options.values } : { ...saved, videoSeconds: options.values?.videoSeconds ?? saved.videoSeconds };
    const kind = lesson.kind;
    const maxMb = Math.floor(this.config.uploads.maxBytes / (1024 * 1024));
    return reply.view('authoring/lesson', {
      pageTitle: `${options.errors ? 'Error: ' : ''}${lesson.title}`,
      course,
      module,
      lesson: { ...lessonSummary(lesson), fileName: lesson.fileName, fileType: lesson.fileType, hasCaptions: !!lesson.captionsKey, isWebm: lesson.fileType === 'video/webm' },
      kindLabel: LESSON_KIND_LABELS[kind],
      isText: kind === 'text',
      isVideo: kind === 'video',
      isQuiz: kind === 'quiz',
      isResource: kind === 'resource',
      bodyLabel: kind === 'text' ? 'Text of the lesson' : 'Introduction',
      values,
      notice: options.notice ? NOTICES[options.notice] : undefined,
      ...errorView(options.errors ?? {}, options.order),
      maxMb,
      previewHtml: lesson.body ? renderMarkdown(lesson.body, { demoteHeadings: true }) : '',
      questions: questions.map(({ question, options: answers }, index) => ({
        id: question.id,
        number: index + 1,
        prompt: question.prompt,
        multiple: question.multiple,
        first: index === 0,
        last: index === questions.length - 1,
        answers: answers.map((a) => ({ text: a.text, correct: a.correct })),
      })),
    });
  }
}

const QUESTION_FIELDS = ['prompt', 'answerType', ...Array.from({ length: MAX_OPTIONS }, (_, i) => `option${i + 1}`), 'correct', 'explanation'];

function questionForm(values: Record<string, unknown>) {
  const ticked = new Set([values.correct].flat().filter((v): v is string => typeof v === 'string'));
  return {
    values,
    options: Array.from({ length: MAX_OPTIONS }, (_, i) => ({
      number: i + 1,
      id: `option${i + 1}`,
      correctId: i === 0 ? 'correct' : `correct-${i + 1}`,
      value: text(values[`option${i + 1}`]),
      correct: ticked.has(String(i + 1)),
    })),
    isMultiple: values.answerType === 'multiple',
  };
}

function detailValues(course: Course): Record<string, unknown> {
  return {
    title: course.title,
    slug: course.slug,
    summary: course.summary,
    description: course.description,
    whoFor: course.whoFor,
    level: course.level,
    cpdHours: String(cpdHours(course.cpdMinutes)),
  };
}

/** A lesson as the outline lists it, with what it still lacks. */
function lessonSummary(l: Lesson) {
  const missing: string[] = [];
  if ((l.kind === 'video' || l.kind === 'resource') && !l.fileKey) missing.push('no file yet');
  if (l.kind === 'video' && l.fileKey && !l.videoSeconds) missing.push('no length');
  if (l.kind === 'text' && !l.body.trim()) missing.push('no text yet');
  return {
    id: l.id,
    title: l.title,
    kind: l.kind,
    kindLabel: LESSON_KIND_LABELS[l.kind],
    minutes: l.minutes,
    required: l.required,
    videoSeconds: l.videoSeconds,
    duration: l.videoSeconds ? `${Math.floor(l.videoSeconds / 60)}:${String(l.videoSeconds % 60).padStart(2, '0')}` : null,
    missing: missing.join(', '),
  };
}

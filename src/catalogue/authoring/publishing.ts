import type { CourseModule } from '../entities/course-module.entity';
import type { Course } from '../entities/course.entity';
import type { Lesson } from '../entities/lesson.entity';
import type { QuizOption, QuizQuestion } from '../entities/quiz-question.entity';

/** One thing to fix before a course can be published, with where to fix it. */
export interface PublishProblem {
  href: string;
  text: string;
}

export interface CourseContents {
  course: Pick<Course, 'id' | 'description' | 'whoFor'>;
  modules: Array<Pick<CourseModule, 'id' | 'title'>>;
  lessons: Array<Pick<Lesson, 'id' | 'moduleId' | 'kind' | 'title' | 'body' | 'fileKey' | 'videoSeconds' | 'passMark'>>;
  questions: Array<Pick<QuizQuestion, 'id' | 'lessonId' | 'multiple'>>;
  options: Array<Pick<QuizOption, 'questionId' | 'text' | 'correct'>>;
}

/**
 * Everything that stops a course being published: learners must never meet a video without a file or a
 * length, a download without a file, or a quiz that cannot be passed. Empty when it may be published.
 */
export function publishingProblems({ course, modules, lessons, questions, options }: CourseContents): PublishProblem[] {
  const problems: PublishProblem[] = [];
  const details = `/author/courses/${course.id}`;
  if (!course.description.trim()) problems.push({ href: `${details}#description`, text: 'Write a description of the course' });
  if (!course.whoFor.trim()) problems.push({ href: `${details}#whoFor`, text: 'Say who the course is for' });
  if (!lessons.length) problems.push({ href: `${details}#modules`, text: 'Add at least one lesson' });
  for (const module of modules) {
    if (lessons.length && !lessons.some((l) => l.moduleId === module.id)) {
      problems.push({ href: `/author/modules/${module.id}`, text: `Module “${module.title}” has no lessons: add one or delete the module` });
    }
  }
  for (const lesson of lessons) {
    const href = `/author/lessons/${lesson.id}`;
    const name = `“${lesson.title}”`;
    switch (lesson.kind) {
      case 'text':
        if (!lesson.body.trim()) problems.push({ href, text: `${name}: write the text of the lesson` });
        break;
      case 'video':
        if (!lesson.fileKey) problems.push({ href, text: `${name}: upload the video` });
        else if (!lesson.videoSeconds || lesson.videoSeconds < 1) problems.push({ href, text: `${name}: give the length of the video in seconds` });
        break;
      case 'resource':
        if (!lesson.fileKey) problems.push({ href, text: `${name}: upload the file learners will download` });
        break;
      case 'quiz': {
        if (!lesson.passMark || lesson.passMark < 1 || lesson.passMark > 100) problems.push({ href, text: `${name}: set a pass mark between 1 and 100` });
        const own = questions.filter((q) => q.lessonId === lesson.id);
        if (!own.length) problems.push({ href, text: `${name}: add at least one question` });
        own.forEach((question, index) => {
          const qHref = `/author/questions/${question.id}`;
          const answers = options.filter((o) => o.questionId === question.id && o.text.trim());
          const correct = answers.filter((o) => o.correct).length;
          if (answers.length < 2) problems.push({ href: qHref, text: `${name}, question ${index + 1}: give at least two answers` });
          if (!correct) problems.push({ href: qHref, text: `${name}, question ${index + 1}: mark the correct answer` });
          else if (!question.multiple && correct > 1) problems.push({ href: qHref, text: `${name}, question ${index + 1}: mark exactly one answer as correct, or let learners choose all that apply` });
        });
        break;
      }
    }
  }
  return problems;
}

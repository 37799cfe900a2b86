import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { FieldErrors, ValidationFailed } from '../../common/errors';
import { parseForm } from '../../common/forms';
import { emptyToUndefined, markdownText, trimmed, wholeNumber } from '../../common/form-fields';
import { COURSE_LEVELS, type CourseLevel } from '../entities/course.entity';
import { LESSON_KINDS, type LessonKind } from '../entities/lesson.entity';

export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export class CourseDetailsDto {
  @trimmed()
  @IsString({ message: 'Enter a title' })
  @IsNotEmpty({ message: 'Enter a title' })
  @MaxLength(120, { message: 'Title must be 120 characters or fewer' })
  title!: string;

  /** Only while the course is a draft; generated from the title when a course is created. */
  @emptyToUndefined()
  @IsOptional()
  @IsString({ message: 'Enter the web address as lower-case letters, numbers and hyphens' })
  @MaxLength(120, { message: 'Web address must be 120 characters or fewer' })
  @Matches(SLUG_PATTERN, { message: 'Web address must be lower-case letters, numbers and single hyphens, like clinical-safety-basics' })
  slug?: string;

  @trimmed()
  @IsString({ message: 'Enter a summary' })
  @IsNotEmpty({ message: 'Enter a summary' })
  @MaxLength(300, { message: 'Summary must be 300 characters or fewer' })
  summary!: string;

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter a description' })
  @MaxLength(20_000, { message: 'Description must be 20,000 characters or fewer' })
  description?: string;

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Say who the course is for' })
  @MaxLength(5_000, { message: 'Who it is for must be 5,000 characters or fewer' })
  whoFor?: string;

  /** An existing topic's id, or empty when `newTopic` names a new one. */
  @wholeNumber()
  @IsOptional()
  @IsInt({ message: 'Choose a topic from the list' })
  topicId?: number;

  @emptyToUndefined()
  @IsOptional()
  @IsString({ message: 'Enter the new topic as text' })
  @MaxLength(80, { message: 'New topic must be 80 characters or fewer' })
  @Matches(/[A-Za-z0-9]/, { message: 'New topic must contain letters or numbers' })
  newTopic?: string;

  @IsIn(COURSE_LEVELS, { message: 'Choose a level' })
  level!: CourseLevel;

  @trimmed()
  @IsString({ message: 'Enter the CPD hours, for example 1.5' })
  @Matches(/^\d{1,3}(\.\d{1,2})?$/, { message: 'Enter the CPD hours as a number with at most two decimal places, for example 1.5 or 1.25' })
  cpdHours!: string;
}

export class TitleDto {
  @trimmed()
  @IsString({ message: 'Enter a title' })
  @IsNotEmpty({ message: 'Enter a title' })
  @MaxLength(120, { message: 'Title must be 120 characters or fewer' })
  title!: string;
}

export class NewLessonDto extends TitleDto {
  @IsIn(LESSON_KINDS, { message: 'Choose the kind of lesson' })
  kind!: LessonKind;
}

export class LessonDto extends TitleDto {
  @wholeNumber()
  @Min(1, { message: 'Minutes must be 1 or more' })
  @Max(600, { message: 'Minutes must be 600 or fewer' })
  @IsInt({ message: 'Enter the minutes as a whole number, for example 10' })
  minutes!: number;

  /** A checkbox: "yes" when ticked, absent when not. */
  @IsOptional()
  @IsIn(['yes'], { message: 'Choose whether the lesson is required' })
  required?: 'yes';

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter the text as Markdown' })
  @MaxLength(50_000, { message: 'Text must be 50,000 characters or fewer' })
  body?: string;

  /** Quizzes only. */
  @wholeNumber()
  @IsOptional()
  @Min(1, { message: 'Pass mark must be between 1 and 100' })
  @Max(100, { message: 'Pass mark must be between 1 and 100' })
  @IsInt({ message: 'Enter the pass mark as a whole number from 1 to 100' })
  passMark?: number;

  /** WebM videos only: their length cannot be read from the file. */
  @wholeNumber()
  @IsOptional()
  @Min(1, { message: 'Length must be at least 1 second' })
  @Max(86_400, { message: 'Length must be 86,400 seconds (24 hours) or fewer' })
  @IsInt({ message: 'Enter the length of the video in whole seconds, for example 95' })
  videoSeconds?: number;
}

export const MAX_OPTIONS = 6;

export class QuestionDto {
  @markdownText()
  @IsString({ message: 'Enter the question' })
  @IsNotEmpty({ message: 'Enter the question' })
  @MaxLength(2_000, { message: 'Question must be 2,000 characters or fewer' })
  prompt!: string;

  @IsIn(['single', 'multiple'], { message: 'Choose whether learners pick one answer or all that apply' })
  answerType!: 'single' | 'multiple';

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter the explanation as text' })
  @MaxLength(2_000, { message: 'Explanation must be 2,000 characters or fewer' })
  explanation?: string;
}

export class WebmLengthDto {
  @wholeNumber()
  @Min(1, { message: 'Length must be at least 1 second' })
  @Max(86_400, { message: 'Length must be 86,400 seconds (24 hours) or fewer' })
  @IsInt({ message: 'Enter the length of the WebM video in whole seconds, for example 95' })
  videoSeconds!: number;
}

export interface QuestionInput {
  prompt: string;
  multiple: boolean;
  explanation: string;
  options: Array<{ text: string; correct: boolean }>;
}

/**
 * A question form: the prompt, one answer per field option1…option6 (empty ones dropped), the correct ones
 * ticked in `correct` (their numbers), and whether one or several answers are right.
 */
export async function parseQuestionForm(body: Record<string, unknown>): Promise<QuestionInput> {
  const errors: FieldErrors = {};
  let dto: QuestionDto | undefined;
  try {
    dto = await parseForm(QuestionDto, body);
  } catch (err) {
    if (!(err instanceof ValidationFailed)) throw err;
    Object.assign(errors, err.fieldErrors);
  }
  const ticked = new Set([body.correct].flat().filter((v): v is string => typeof v === 'string'));
  const options: QuestionInput['options'] = [];
  for (let i = 1; i <= MAX_OPTIONS; i++) {
    const raw = body[`option${i}`];
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (raw !== undefined && typeof raw !== 'string') errors[`option${i}`] = `Answer ${i} must be text`;
    else if (text.length > 500) errors[`option${i}`] = `Answer ${i} must be 500 characters or fewer`;
    else if (!text && ticked.has(String(i))) errors[`option${i}`] = `Answer ${i} is marked as correct but is empty: write the answer or untick it`;
    if (text) options.push({ text, correct: ticked.has(String(i)) });
  }
  if (options.length < 2) errors.option1 ??= 'Give at least two answers';
  const right = options.filter((o) => o.correct).length;
  if (options.length && !right) errors.correct = 'Mark the correct answer';
  else if (dto?.answerType === 'single' && right > 1) errors.correct = 'Mark exactly one correct answer, or let learners choose all the answers that apply';
  if (Object.keys(errors).length || !dto) throw new ValidationFailed(errors);
  return { prompt: dto.prompt, multiple: dto.answerType === 'multiple', explanation: dto.explanation ?? '', options };
}

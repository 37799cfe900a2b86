import type { QuizDefinition } from '../catalogue/lesson.reader';
import { ValidationFailed } from '../common/errors';

export type QuizAnswers = Record<string, number[]>;

export interface QuestionResult {
  questionId: number;
  correct: boolean;
  chosenOptionIds: number[];
  correctOptionIds: number[];
  explanation: string;
}

export interface QuizGrade {
  scorePercent: number;
  passed: boolean;
  passMark: number;
  questions: QuestionResult[];
}

/**
 * What a learner is told about one question. After a pass: everything. After a failure: only whether it was
 * right; the right options are left out (absent, not null), and so is the explanation of a question answered
 * wrongly, since an explanation usually names the answer. A question answered rightly keeps its explanation:
 * it tells the learner nothing they did not choose.
 */
export interface QuestionFeedback {
  questionId: number;
  correct: boolean;
  chosenOptionIds: number[];
  correctOptionIds?: number[];
  explanation?: string;
}

export interface QuizFeedback {
  scorePercent: number;
  passed: boolean;
  passMark: number;
  questions: QuestionFeedback[];
}

/** The grade as the learner may see it: the right answers only once this attempt has passed. */
export function learnerFeedback(grade: QuizGrade): QuizFeedback {
  if (grade.passed) return grade;
  return {
    ...grade,
    questions: grade.questions.map(({ questionId, correct, chosenOptionIds, explanation }) =>
      correct ? { questionId, correct, chosenOptionIds, explanation } : { questionId, correct, chosenOptionIds },
    ),
  };
}

/**
 * Checks answers against the quiz before grading: every question answered, only questions of this quiz,
 * only options of their question, one option for a single-choice question. Field errors are keyed
 * `question-<id>` so a form can show each message beside its question.
 */
export function validateAnswers(quiz: QuizDefinition, answers: unknown): Map<number, number[]> {
  if (typeof answers !== 'object' || answers === null || Array.isArray(answers)) {
    throw new ValidationFailed({ answers: 'answers must be an object of question ids to lists of option ids' }, 'answers must be an object of question ids to lists of option ids');
  }
  const errors: Record<string, string> = {};
  const chosen = new Map<number, number[]>();
  const questions = new Map(quiz.questions.map((q) => [q.id, q]));
  for (const [key, value] of Object.entries(answers)) {
    const question = /^\d+$/.test(key) ? questions.get(Number(key)) : undefined;
    if (!question) {
      errors[`question-${key}`] = `Question ${key} is not part of this quiz`;
      continue;
    }
    const ids = Array.isArray(value) ? value : [value];
    const optionIds = new Set(question.options.map((o) => o.id));
    if (!ids.every((id) => Number.isInteger(id) && optionIds.has(id))) {
      errors[`question-${key}`] = `Answers to “${question.prompt}” must be options of that question`;
    } else if (!question.multiple && ids.length > 1) {
      errors[`question-${key}`] = `Choose one answer for “${question.prompt}”`;
    } else if (ids.length) chosen.set(question.id, [...new Set(ids as number[])]);
  }
  for (const question of quiz.questions) {
    if (!chosen.has(question.id) && !errors[`question-${question.id}`]) errors[`question-${question.id}`] = `Answer “${question.prompt}”`;
  }
  if (Object.keys(errors).length) throw new ValidationFailed(errors, Object.values(errors)[0]);
  return chosen;
}

/** A question is right when exactly its correct options were chosen. */
export function gradeQuiz(quiz: QuizDefinition, chosen: Map<number, number[]>): QuizGrade {
  const questions = quiz.questions.map((q) => {
    const correctOptionIds = q.options.filter((o) => o.correct).map((o) => o.id);
    const chosenOptionIds = chosen.get(q.id) ?? [];
    const correct = chosenOptionIds.length === correctOptionIds.length && chosenOptionIds.every((id) => correctOptionIds.includes(id));
    return { questionId: q.id, correct, chosenOptionIds, correctOptionIds, explanation: q.explanation };
  });
  const right = questions.filter((q) => q.correct).length;
  const scorePercent = questions.length ? Math.round((right / questions.length) * 100) : 0;
  return { scorePercent, passed: scorePercent >= quiz.passMark, passMark: quiz.passMark, questions };
}

import type { QuizDefinition } from '../catalogue/lesson.reader';
import { gradeQuiz, learnerFeedback } from './quiz-grading';

const quiz: QuizDefinition = {
  passMark: 100,
  questions: [
    { id: 1, prompt: 'One', multiple: false, explanation: 'It is A.', options: [{ id: 11, text: 'A', correct: true }, { id: 12, text: 'B', correct: false }] },
    { id: 2, prompt: 'Two', multiple: true, explanation: 'C and D.', options: [{ id: 21, text: 'C', correct: true }, { id: 22, text: 'D', correct: true }, { id: 23, text: 'E', correct: false }] },
  ],
};

describe('quiz feedback', () => {
  it('after a failure, says which questions were wrong but never the right options, nor the explanation of a wrong one', () => {
    const feedback = learnerFeedback(gradeQuiz(quiz, new Map([[1, [11]], [2, [21]]])));
    expect(feedback).toMatchObject({ passed: false, scorePercent: 50 });
    expect(feedback.questions).toEqual([
      { questionId: 1, correct: true, chosenOptionIds: [11], explanation: 'It is A.' },
      { questionId: 2, correct: false, chosenOptionIds: [21] },
    ]);
    for (const q of feedback.questions) expect(q).not.toHaveProperty('correctOptionIds');
  });

  it('after a pass, gives the right options and every explanation', () => {
    const feedback = learnerFeedback(gradeQuiz({ ...quiz, passMark: 50 }, new Map([[1, [11]], [2, [23]]])));
    expect(feedback.passed).toBe(true);
    expect(feedback.questions).toEqual([
      { questionId: 1, correct: true, chosenOptionIds: [11], correctOptionIds: [11], explanation: 'It is A.' },
      { questionId: 2, correct: false, chosenOptionIds: [23], correctOptionIds: [21, 22], explanation: 'C and D.' },
    ]);
  });
});

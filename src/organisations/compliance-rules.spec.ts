import { addDays, addMonths, compliancePercent, daysBetween, evaluate, firstDueOn, isCalendarDay, isoWeekday, isoWeekOf, noticeStage, requirementRag, type PersonFacts, type RequirementTerms } from './compliance-rules';

const days = (n: number, renewalMonths: number | null = null, setOn = '2026-01-10'): RequirementTerms => ({ due: { kind: 'days', days: n }, renewalMonths, setOn });
const byDate = (date: string, renewalMonths: number | null = null): RequirementTerms => ({ due: { kind: 'date', date }, renewalMonths, setOn: '2026-01-10' });
const person = (joinedOn: string, achievedOn: string[] = [], started = false): PersonFacts => ({ joinedOn, achievedOn, started });

describe('calendar days', () => {
  it('adds days across months, years and leap days', () => {
    expect(addDays('2026-01-31', 1)).toBe('2026-02-01');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });

  it('adds months, clamping to the last day of a shorter month', () => {
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2028-01-31', 1)).toBe('2028-02-29');
    expect(addMonths('2026-05-15', 12)).toBe('2027-05-15');
    expect(addMonths('2026-11-30', 3)).toBe('2027-02-28');
  });

  it('counts days between, either way, ignoring clock changes', () => {
    expect(daysBetween('2026-03-28', '2026-03-30')).toBe(2);
    expect(daysBetween('2026-03-30', '2026-03-28')).toBe(-2);
    expect(daysBetween('2026-01-01', '2027-01-01')).toBe(365);
  });

  it('knows real calendar days', () => {
    expect(isCalendarDay('2026-02-28')).toBe(true);
    expect(isCalendarDay('2026-02-30')).toBe(false);
    expect(isCalendarDay('2026-2-3')).toBe(false);
    expect(isCalendarDay('yesterday')).toBe(false);
  });
});

describe('the first due date', () => {
  it('is N days after joining when they joined after the requirement was set', () => {
    expect(firstDueOn(days(30, null, '2026-01-10'), '2026-02-01')).toBe('2026-03-03');
  });

  it('is N days after the requirement was set when they had joined before', () => {
    expect(firstDueOn(days(30, null, '2026-01-10'), '2025-06-01')).toBe('2026-02-09');
  });

  it('is the fixed date for a date rule, whenever they joined', () => {
    expect(firstDueOn(byDate('2026-03-31'), '2026-03-30')).toBe('2026-03-31');
    expect(firstDueOn(byDate('2026-03-31'), '2020-01-01')).toBe('2026-03-31');
  });
});

describe('a person and a requirement', () => {
  it('is not due while the due date is more than 30 days away', () => {
    expect(evaluate(days(60), person('2026-02-01'), '2026-02-10')).toEqual({ status: 'not_due', dueOn: '2026-04-02', completedOn: null, daysLeft: 51, renewing: false, expiresOn: null });
  });

  it('is due (amber) within 30 days of it, and on the day itself', () => {
    expect(evaluate(days(60), person('2026-02-01'), '2026-03-03').status).toBe('due');
    expect(evaluate(days(60), person('2026-02-01'), '2026-04-02')).toMatchObject({ status: 'due', daysLeft: 0 });
  });

  it('is due (amber) when they have started the course, however far away the date', () => {
    expect(evaluate(days(90), person('2026-02-01', [], true), '2026-02-02').status).toBe('due');
  });

  it('is overdue (red) from the day after the due date', () => {
    expect(evaluate(days(60), person('2026-02-01'), '2026-04-03')).toMatchObject({ status: 'overdue', dueOn: '2026-04-02', daysLeft: -1 });
  });

  it('is complete with any valid certificate when there is no renewal, however old, even one earned before joining', () => {
    expect(evaluate(days(30), person('2026-02-01', ['2019-05-04']), '2030-01-01')).toEqual({ status: 'complete', dueOn: null, completedOn: '2019-05-04', daysLeft: null, renewing: false, expiresOn: null });
  });

  it('is complete with a certificate achieved within the renewal period, next due when it expires', () => {
    expect(evaluate(days(30, 12), person('2026-02-01', ['2025-11-20']), '2026-03-01')).toEqual({ status: 'complete', dueOn: '2026-11-20', completedOn: '2025-11-20', daysLeft: 264, renewing: true, expiresOn: '2026-11-20' });
  });

  it('takes the latest of several certificates', () => {
    expect(evaluate(days(30, 12), person('2026-02-01', ['2024-01-01', '2026-01-15', '2025-03-01']), '2026-06-01')).toMatchObject({ status: 'complete', completedOn: '2026-01-15', dueOn: '2027-01-15' });
  });

  it('falls due again on the day the certificate expires, and is overdue the day after', () => {
    const terms = days(30, 12);
    const facts = person('2025-01-01', ['2025-03-10']);
    expect(evaluate(terms, facts, '2026-03-09')).toMatchObject({ status: 'complete', dueOn: '2026-03-10', daysLeft: 1 });
    expect(evaluate(terms, facts, '2026-03-10')).toEqual({ status: 'due', dueOn: '2026-03-10', completedOn: null, daysLeft: 0, renewing: true, expiresOn: '2026-03-10' });
    expect(evaluate(terms, facts, '2026-03-11')).toMatchObject({ status: 'overdue', dueOn: '2026-03-10' });
  });

  it('is due by the rule, not by an old expiry, when the certificate ran out before the requirement first fell due', () => {
    // Certificate of 2022, renewed yearly: it ran out in 2023, long before they joined; they get the days after joining.
    expect(evaluate(days(30, 12, '2026-01-10'), person('2026-02-01', ['2022-06-01']), '2026-02-05')).toMatchObject({ status: 'due', dueOn: '2026-03-03', renewing: true, expiresOn: '2023-06-01' });
  });

  it('gives a newcomer whose certificate runs out before the first due date until that date', () => {
    // Joined 1 February, due 60 days later (2 April); their certificate of last April expires on 15 February.
    const terms = days(60, 10, '2026-01-10');
    const facts = person('2026-02-01', ['2025-04-15']);
    expect(evaluate(terms, facts, '2026-02-10')).toMatchObject({ status: 'complete', dueOn: '2026-04-02', expiresOn: '2026-02-15' });
    expect(evaluate(terms, facts, '2026-02-16')).toMatchObject({ status: 'not_due', dueOn: '2026-04-02', renewing: true });
    expect(evaluate(terms, facts, '2026-04-03').status).toBe('overdue');
  });

  it('uses a fixed date rule for the first due date and the expiry after it', () => {
    expect(evaluate(byDate('2026-03-31', 6), person('2026-01-01'), '2026-04-01').status).toBe('overdue');
    expect(evaluate(byDate('2026-03-31', 6), person('2026-01-01', ['2026-03-15']), '2026-09-14').status).toBe('complete');
    expect(evaluate(byDate('2026-03-31', 6), person('2026-01-01', ['2026-03-15']), '2026-09-15')).toMatchObject({ status: 'due', dueOn: '2026-09-15' });
  });
});

describe('notices', () => {
  it('asks for due_soon within 14 days of the due date, overdue after it, nothing otherwise', () => {
    const terms = days(60);
    const facts = person('2026-02-01');
    expect(noticeStage(evaluate(terms, facts, '2026-03-18'))).toBeNull(); // 15 days left
    expect(noticeStage(evaluate(terms, facts, '2026-03-19'))).toBe('due_soon'); // 14 days left
    expect(noticeStage(evaluate(terms, facts, '2026-04-02'))).toBe('due_soon'); // the day itself
    expect(noticeStage(evaluate(terms, facts, '2026-04-03'))).toBe('overdue');
  });

  it('reminds a person whose certificate expires within 14 days to renew, and nobody whose certificate lasts for ever', () => {
    expect(noticeStage(evaluate(days(30, 12), person('2025-01-01', ['2025-03-10']), '2026-02-25'))).toBe('due_soon');
    expect(noticeStage(evaluate(days(30, 12), person('2025-01-01', ['2025-03-10']), '2026-02-20'))).toBeNull();
    expect(noticeStage(evaluate(days(30), person('2025-01-01', ['2025-03-10']), '2026-02-25'))).toBeNull();
  });
});

describe('a requirement as a whole', () => {
  it('has compliance complete ÷ audience, rounded down', () => {
    expect(compliancePercent(2, 3)).toBe(66);
    expect(compliancePercent(999, 1000)).toBe(99);
    expect(compliancePercent(0, 0)).toBe(100);
  });

  it('is red with anyone overdue, green when everyone is complete, amber otherwise', () => {
    expect(requirementRag({ audience: 10, complete: 9, overdue: 1 })).toBe('red');
    expect(requirementRag({ audience: 10, complete: 10, overdue: 0 })).toBe('green');
    expect(requirementRag({ audience: 10, complete: 5, overdue: 0 })).toBe('amber');
  });
});

describe('ISO weeks', () => {
  it('numbers weeks from Monday, week 1 holding the first Thursday', () => {
    expect(isoWeekOf('2026-12-07')).toBe('2026-W50');
    expect(isoWeekOf('2026-12-13')).toBe('2026-W50');
    expect(isoWeekOf('2026-12-14')).toBe('2026-W51');
    expect(isoWeekOf('2027-01-01')).toBe('2026-W53');
    expect(isoWeekOf('2024-12-30')).toBe('2025-W01');
  });

  it('knows Mondays', () => {
    expect(isoWeekday('2026-12-07')).toBe(1);
    expect(isoWeekday('2026-12-13')).toBe(7);
  });
});

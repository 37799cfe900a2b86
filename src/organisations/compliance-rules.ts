/**
 * The rules of required learning (docs/organisations.md, "Required learning and compliance"), as pure functions of
 * calendar days, so that they can be tested without a database and give the same answer on every engine.
 *
 * Days are London calendar days written "YYYY-MM-DD" (the caller turns moments into them with londonIsoDate): a due
 * date is the last day on which the learning is on time, so a person is overdue from the day after it.
 *
 * - A person **meets** a requirement when they hold a valid certificate for its course achieved no longer ago than
 *   the renewal period (any certificate, earned anywhere, under any employer); without renewal any valid certificate
 *   counts for ever. A certificate achieved on day A with renewal of N months expires on A + N months: it counts up to
 *   the day before.
 * - The **first due date** comes from the rule: N days after the later of joining and the requirement being set, or
 *   a fixed date.
 * - After a qualifying certificate expires, the expiry is the next due date, but never earlier than the first due
 *   date: a newcomer whose certificate runs out (or ran out) before then has until the rule's date, like everyone.
 * - Status: `complete` (met), `overdue` (not met, past its due date), `due` (not met, due within 30 days, or the
 *   course started), `not_due` (not met, due later).
 */

export type ComplianceStatus = 'complete' | 'due' | 'overdue' | 'not_due';
export type NoticeStage = 'due_soon' | 'overdue';

export type DueRule = { kind: 'days'; days: number } | { kind: 'date'; date: string };

export interface RequirementTerms {
  due: DueRule;
  /** Months a certificate counts for; null: for ever. */
  renewalMonths: number | null;
  /** The London day the requirement was set (for this person: the later of that and when they were named). */
  setOn: string;
}

export interface PersonFacts {
  /** The London day their membership became active. */
  joinedOn: string;
  /** The London days on which their valid certificates for the course were achieved (any order). */
  achievedOn: readonly string[];
  /** Whether they are working through the course (an enrolment, not withdrawn, with some progress). */
  started: boolean;
}

export interface Evaluation {
  status: ComplianceStatus;
  /**
   * The day the learning is (next) due: for people who meet it with renewal, the day their certificate expires; null
   * for people who meet it without renewal (it never falls due again).
   */
  dueOn: string | null;
  /** The day the certificate that meets it was achieved (the latest), when met. */
  completedOn: string | null;
  /** Days from today to the due date (negative when overdue); null without a due date. */
  daysLeft: number | null;
  /** Whether they hold (or held) a certificate that runs out (or ran out): what is due is a renewal. */
  renewing: boolean;
  /** The day their latest certificate stops (or stopped) counting; null without one, or without renewal. */
  expiresOn: string | null;
}

/** Amber within this many days of the due date. */
export const DUE_WITHIN_DAYS = 30;
/** The "due soon" e-mail goes this many days (or fewer) before the due date. */
export const DUE_SOON_DAYS = 14;

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether the text is a real calendar day "YYYY-MM-DD" (2026-02-30 is not). */
export function isCalendarDay(text: string): boolean {
  const match = ISO_DAY.exec(text);
  if (!match) return false;
  const [y, m, d] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

function parts(day: string): [number, number, number] {
  const match = ISO_DAY.exec(day);
  if (!match) throw new Error(`Not a calendar day: ${day}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

const format = (date: Date) => date.toISOString().slice(0, 10);

/** The day N days after (or before, for negative N). */
export function addDays(day: string, days: number): string {
  const [y, m, d] = parts(day);
  return format(new Date(Date.UTC(y, m - 1, d + days)));
}

/** The same day N months later; the month's last day when it is shorter (31 January + 1 month = 28 or 29 February). */
export function addMonths(day: string, months: number): string {
  const [y, m, d] = parts(day);
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = index % 12;
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return format(new Date(Date.UTC(year, month, Math.min(d, last))));
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  const [y1, m1, d1] = parts(from);
  const [y2, m2, d2] = parts(to);
  return Math.round((Date.UTC(y2, m2 - 1, d2) - Date.UTC(y1, m1 - 1, d1)) / 86_400_000);
}

const later = (a: string, b: string) => (a >= b ? a : b);

/** The first due date the rule gives this person. */
export function firstDueOn(terms: RequirementTerms, joinedOn: string): string {
  if (terms.due.kind === 'date') return terms.due.date;
  return addDays(later(joinedOn, terms.setOn), terms.due.days);
}

/** The day a certificate achieved on `achievedOn` stops counting; null when it counts for ever. */
export function expiresOn(achievedOn: string, renewalMonths: number | null): string | null {
  return renewalMonths === null ? null : addMonths(achievedOn, renewalMonths);
}

/** Where one person stands with one requirement today. */
export function evaluate(terms: RequirementTerms, person: PersonFacts, today: string): Evaluation {
  const latest = person.achievedOn.reduce<string | null>((best, day) => (best === null || day > best ? day : best), null);
  const expiry = latest === null ? null : expiresOn(latest, terms.renewalMonths);
  const first = firstDueOn(terms, person.joinedOn);
  // The next due date is when the certificate expires, but never before the rule's first due date.
  const next = expiry === null ? first : later(first, expiry);
  if (latest !== null && (expiry === null || today < expiry)) {
    const dueOn = expiry === null ? null : next;
    return { status: 'complete', dueOn, completedOn: latest, daysLeft: dueOn === null ? null : daysBetween(today, dueOn), renewing: expiry !== null, expiresOn: expiry };
  }
  const daysLeft = daysBetween(today, next);
  const status: ComplianceStatus = daysLeft < 0 ? 'overdue' : daysLeft <= DUE_WITHIN_DAYS || person.started ? 'due' : 'not_due';
  return { status, dueOn: next, completedOn: null, daysLeft, renewing: latest !== null, expiresOn: expiry };
}

/**
 * Which e-mail this person should have had by today for this due date: `overdue` once past it, `due_soon` within
 * DUE_SOON_DAYS of it (a person who meets it now but whose certificate expires by then is reminded to renew), or none.
 */
export function noticeStage(evaluation: Evaluation): NoticeStage | null {
  if (evaluation.dueOn === null || evaluation.daysLeft === null) return null;
  if (evaluation.status === 'overdue') return 'overdue';
  if (evaluation.daysLeft >= 0 && evaluation.daysLeft <= DUE_SOON_DAYS) return 'due_soon';
  return null;
}

/** Red, amber or green for a requirement from its compliance: green at 100%, red when anyone is overdue, amber otherwise. */
export type Rag = 'green' | 'amber' | 'red';
export function requirementRag(counts: { audience: number; complete: number; overdue: number }): Rag {
  if (counts.overdue > 0) return 'red';
  if (counts.complete >= counts.audience) return 'green';
  return 'amber';
}

/** Compliance as a whole percentage, rounded down (so 99.9% is never shown as 100%); 100% of an empty audience. */
export function compliancePercent(complete: number, audience: number): number {
  if (audience <= 0) return 100;
  return Math.floor((complete / audience) * 100);
}

/** The ISO 8601 week of a calendar day, e.g. "2026-W48" (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeekOf(day: string): string {
  const [y, m, d] = parts(day);
  const date = new Date(Date.UTC(y, m - 1, d));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** 1 for Monday … 7 for Sunday. */
export function isoWeekday(day: string): number {
  const [y, m, d] = parts(day);
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay() || 7;
}

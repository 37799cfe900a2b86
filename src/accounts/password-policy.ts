import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';
import { ValidationFailed } from '../common/errors';

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;
/** zxcvbn's score (0-4) a new password must reach: 3 is "safely unguessable" (about 10^8 guesses or more). */
export const PASSWORD_MIN_SCORE = 3;

const ADVICE = 'A few unrelated words, like four words picked at random, make a password that is hard to guess and easy to remember.';
export const PASSWORD_PERSONAL_MESSAGE = `Your password must not contain your name or e-mail address. ${ADVICE}`;

/** Whose password it is: what it must not contain, and what zxcvbn should treat as easy to guess. */
export interface PasswordOwner {
  email: string;
  name: string;
}

/**
 * The strength estimator, built once per process (its dictionaries take a few hundred milliseconds to rank)
 * and only when a password is first checked, so processes that never set one never pay for it.
 * Its cost grows fast with length and with l33t substitutions, so it is bounded: Levenshtein matching is off (it
 * makes every check cost about half a second, for little gain over the dictionary, l33t, reversed and pattern
 * matchers); only the first 64 characters are estimated (more characters never make a password easier to
 * guess, so a strong start is enough); at most 6 l33t substitutions are tried ("P@ssw0rd12" is still caught).
 * A check then costs a few milliseconds, and under 100 for the worst 128 characters (a random or keyboard-walk
 * string of 128 took 0.7-1.6 s of CPU with the defaults: a cheap way to stall the process through sign-up).
 */
/** How many characters of a password the estimator reads (its cost grows fast with length). */
export const ESTIMATED_PREFIX = 64;

let estimator: ZxcvbnFactory | undefined;
function zxcvbn(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    translations: english.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...english.dictionary },
    maxLength: ESTIMATED_PREFIX,
    l33tMaxSubstitutions: 6,
  });
  return estimator;
}

const compact = (text: string) => text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');

/**
 * What must not appear in the password: the e-mail's local part and the full name (whatever their length),
 * and each word of either of four letters or more ("priya", "shah", "okafor"; shorter ones such as "Jo" or
 * "Ian" would refuse many good passphrases, and zxcvbn still counts them as easy to guess).
 */
function personalWords(owner: PasswordOwner): string[] {
  const local = owner.email.trim().toLowerCase().split('@')[0] ?? '';
  const words = [...local.split(/[^\p{L}\p{N}]+/u), ...owner.name.split(/[^\p{L}\p{N}]+/u)].map(compact).filter((w) => w.length >= 4);
  return [...new Set([compact(local), compact(owner.name), ...words])].filter((w) => w.length >= 3);
}

/** Why this password may not be used, as a sentence that also says what to do; null when it is fine. */
export function passwordProblem(password: string, owner: PasswordOwner): string | null {
  if (typeof password !== 'string' || password.length < PASSWORD_MIN) return `Your password must be at least ${PASSWORD_MIN} characters`;
  if (password.length > PASSWORD_MAX) return `Your password must be at most ${PASSWORD_MAX} characters`;
  const personal = personalWords(owner);
  const compacted = compact(password);
  if (personal.some((word) => compacted.includes(word))) return PASSWORD_PERSONAL_MESSAGE;
  const result = zxcvbn().check(password, personal);
  if (result.score >= PASSWORD_MIN_SCORE) return null;
  const why = result.feedback.warning ?? 'It would be easy to guess.';
  const suggestion = result.feedback.suggestions.find((s) => !/less common|capitali[sz]e/i.test(s));
  return `Choose a password that is harder to guess. ${why}${suggestion ? ` ${suggestion}` : ''} ${ADVICE}`;
}

/** Throws ValidationFailed naming `field` when the password may not be used. The one check behind every new password. */
export function assertStrongPassword(password: string, owner: PasswordOwner, field = 'password'): void {
  const problem = passwordProblem(password, owner);
  if (problem) throw new ValidationFailed({ [field]: problem }, problem);
}

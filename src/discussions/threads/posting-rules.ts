import { Forbidden, TooManyRequests, ValidationFailed, type FieldErrors } from '../../common/errors';
import { londonDateTime, londonTime } from '../../common/london-time';
import { THREAD_KINDS, type ThreadKind } from '../entities';

/** How fast one person may post: at most POSTS_PER_WINDOW posts (threads and replies) in any POSTING_WINDOW_MS. Moderators are not limited. */
export const POSTS_PER_WINDOW = 6;
export const POSTING_WINDOW_MS = 10 * 60 * 1000;
/** Accounts younger than this (or with an unverified address) have their posts held for a moderator. */
export const NEW_ACCOUNT_MS = 24 * 3600 * 1000;

export const TITLE_MAX_LENGTH = 200;
export const BODY_MAX_LENGTH = 20_000;
export const THREADS_PER_PAGE = 20;
export const REPLIES_PER_PAGE = 25;

/** What a held post's statusReason says, for moderators. */
export type HeldReason = 'new-account' | 'unverified';

export class ThreadLocked extends Forbidden {
  constructor() {
    super('This thread is locked by a moderator, so nobody can reply to it or change its posts', 'thread_locked');
  }
}

export class ThreadClosed extends Forbidden {
  constructor() {
    super('This thread is not open for replies until a moderator has looked at it', 'thread_not_open');
  }
}

/** A suspension from posting, with what the person is told: until when (London time) and why. */
export class PostingSuspended extends Forbidden {
  constructor(
    readonly endsAt: Date,
    readonly reason: string,
  ) {
    super(`You are suspended from posting in discussions until ${londonDateTime(endsAt)}. The moderators gave this reason: ${reason}`, 'suspended');
  }
}

/** Too many posts in the window: when the person may post again. */
export class PostingTooFast extends TooManyRequests {
  constructor(
    retryAfterSeconds: number,
    readonly nextAt: Date,
  ) {
    super(retryAfterSeconds);
    this.message = `You have posted ${POSTS_PER_WINDOW} times in the last ${POSTING_WINDOW_MS / 60_000} minutes. You can post again at ${londonTime(nextAt)}.`;
  }
}

export const NOT_YOUR_POST = 'You can only change or delete your own posts';

const textErrors = (errors: FieldErrors, field: 'title' | 'body', value: unknown, max: number, what: string) => {
  if (typeof value !== 'string' || value.trim() === '') errors[field] = `Enter ${what}`;
  else if (value.length > max) {
    const noun = what.replace(/^(a|the|your) /, '');
    errors[field] = `${noun[0].toUpperCase()}${noun.slice(1)} must be ${max.toLocaleString('en-GB')} characters or fewer`;
  }
};

/** A new thread's fields, checked: the kind, a title of 1 to 200 characters, a body of 1 to 20,000. */
export function checkThreadInput(input: { kind?: unknown; title?: unknown; body?: unknown }): { kind: ThreadKind; title: string; body: string } {
  const errors: FieldErrors = {};
  if (!THREAD_KINDS.includes(input.kind as ThreadKind)) errors.kind = 'Choose whether you are starting a discussion or asking a question';
  textErrors(errors, 'title', input.title, TITLE_MAX_LENGTH, 'a title');
  textErrors(errors, 'body', input.body, BODY_MAX_LENGTH, 'your message');
  if (Object.keys(errors).length) throw new ValidationFailed(errors);
  return { kind: input.kind as ThreadKind, title: (input.title as string).trim(), body: input.body as string };
}

/** A post's body (and an opening post's title, when given), checked. */
export function checkPostInput(input: { body?: unknown; title?: unknown }, withTitle: boolean): { body: string; title?: string } {
  const errors: FieldErrors = {};
  textErrors(errors, 'body', input.body, BODY_MAX_LENGTH, 'your message');
  if (withTitle && input.title !== undefined) textErrors(errors, 'title', input.title, TITLE_MAX_LENGTH, 'a title');
  if (Object.keys(errors).length) throw new ValidationFailed(errors);
  return { body: input.body as string, title: withTitle && typeof input.title === 'string' ? input.title.trim() : undefined };
}

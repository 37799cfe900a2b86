import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * Signed double-submit CSRF tokens: a random secret lives in an HttpOnly cookie, and forms carry
 * HMAC(SESSION_SECRET, secret). A forged form cannot know the secret, so cannot carry the token.
 * The secret is replaced at sign-in and sign-out.
 */
/** 122 random bits; randomUUID draws from a pooled buffer, far cheaper per request than randomBytes. */
export const newCsrfSecret = () => randomUUID().replace(/-/g, '');

export const csrfTokenFor = (secret: string, key: string) => createHmac('sha256', key).update(`csrf:${secret}`).digest('base64url');

export function csrfTokenMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

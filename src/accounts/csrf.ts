import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signed double-submit CSRF tokens: a random secret lives in an HttpOnly cookie, and forms carry
 * HMAC(SESSION_SECRET, secret). A forged form cannot know the secret, so cannot carry the token.
 * The secret is replaced at sign-in and sign-out.
 */
export const newCsrfSecret = () => randomBytes(24).toString('base64url');

export const csrfTokenFor = (secret: string, key: string) => createHmac('sha256', key).update(`csrf:${secret}`).digest('base64url');

export function csrfTokenMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

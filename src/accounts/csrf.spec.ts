import { csrfTokenFor, csrfTokenMatches, newCsrfSecret } from './csrf';
import { safeNext } from './accounts.pages.controller';

describe('CSRF tokens', () => {
  it('derive from the cookie secret and the server key, so another secret or key gives another token', () => {
    const secret = newCsrfSecret();
    const token = csrfTokenFor(secret, 'server-key');
    expect(csrfTokenMatches(token, csrfTokenFor(secret, 'server-key'))).toBe(true);
    expect(csrfTokenMatches(token, csrfTokenFor(newCsrfSecret(), 'server-key'))).toBe(false);
    expect(csrfTokenMatches(token, csrfTokenFor(secret, 'other-key'))).toBe(false);
  });

  it('refuse missing, non-string and wrong-length tokens', () => {
    const expected = csrfTokenFor(newCsrfSecret(), 'k');
    expect(csrfTokenMatches(undefined, expected)).toBe(false);
    expect(csrfTokenMatches(['x'], expected)).toBe(false);
    expect(csrfTokenMatches('short', expected)).toBe(false);
  });
});

describe('safeNext', () => {
  it.each([
    ['/account', '/account'],
    ['/courses?topic=fhir', '/courses?topic=fhir'],
    ['/courses/fhir-basics/lessons/12', '/courses/fhir-basics/lessons/12'],
    ['//evil.example', '/my-learning'],
    ['/\\evil.example', '/my-learning'],
    ['/\\/evil.example', '/my-learning'],
    ['https://evil.example/', '/my-learning'],
    ['HTTPS://evil.example/', '/my-learning'],
    ['javascript:alert(1)', '/my-learning'],
    ['/\tevil', '/my-learning'],
    ['/a\nLocation: //evil.example', '/my-learning'],
    ['/caf\u00e9', '/my-learning'],
    ['', '/my-learning'],
    [undefined, '/my-learning'],
    [['/courses'], '/my-learning'],
  ])('%s → %s', (next, expected) => {
    expect(safeNext(next)).toBe(expected);
  });
});

import { randomBytes } from 'node:crypto';
import { ValidationFailed } from '../common/errors';
import { assertStrongPassword, PASSWORD_PERSONAL_MESSAGE, passwordProblem, ESTIMATED_PREFIX } from './password-policy';

const priya = { email: 'priya.shah@example.nhs.uk', name: 'Priya Shah' };

describe('password policy (zxcvbn with the common and English dictionaries)', () => {
  it.each(['1234567890', 'password12', 'Password123', 'P@ssw0rd12', 'qwertyuiop', 'iloveyou12', 'letmein123456', 'trustno1trustno1'])('refuses the guessable %s, saying why and what to do', (password) => {
    const problem = passwordProblem(password, priya);
    expect(problem).toMatch(/^Choose a password that is harder to guess\. /);
    expect(problem).toContain('A few unrelated words');
  });

  it('passes on the estimator\'s own warning, such as a commonly used password', () => {
    expect(passwordProblem('Password123', priya)).toContain('This is a commonly used password.');
    expect(passwordProblem('1234567890', priya)).toContain('This is a frequently used password.');
  });

  it.each(['priya.shah.2024!', 'Shah family holiday home', 'PRIYA likes long walks', 'my priyashah passphrase', 'xpriyashahx-gardens-nine'])('refuses %s, which holds the name or e-mail', (password) => {
    expect(passwordProblem(password, priya)).toBe(PASSWORD_PERSONAL_MESSAGE);
  });

  it('finds the whole local part of the e-mail even when it is not a name', () => {
    expect(passwordProblem('blue kx77q lantern orchard', { email: 'kx77q@example.nhs.uk', name: 'Ian Lee' })).toBe(PASSWORD_PERSONAL_MESSAGE);
    expect(passwordProblem('ianlee was here in 2019', { email: 'x1@example.nhs.uk', name: 'Ian Lee' })).toBe(PASSWORD_PERSONAL_MESSAGE);
  });

  it('does not refuse a passphrase for holding a short part of a name', () => {
    expect(passwordProblem('librarian of distant orchards', { email: 'ian.lee@example.nhs.uk', name: 'Ian Lee' })).toBeNull();
  });

  it.each(['a long enough password', 'granite lantern orchard seventy', 'my reset password', 'a brand new password'])('accepts the passphrase %s', (password) => {
    expect(passwordProblem(password, priya)).toBeNull();
  });

  it('accepts the random demo passwords (12 base64url characters)', () => {
    for (let i = 0; i < 100; i++) {
      const password = randomBytes(9).toString('base64url');
      expect([password, passwordProblem(password, priya)]).toEqual([password, null]);
    }
  });

  it('checks the length first, and throws ValidationFailed naming the field', () => {
    expect(passwordProblem('short', priya)).toBe('Your password must be at least 10 characters');
    expect(passwordProblem('x'.repeat(129), priya)).toBe('Your password must be at most 128 characters');
    let error: unknown;
    try {
      assertStrongPassword('password12', priya, 'newPassword');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationFailed);
    expect(Object.keys((error as ValidationFailed).fieldErrors)).toEqual(['newPassword']);
  });

  // Its cost is measured in npm run bench, not asserted here (a timing in a Jest assertion fails on a loaded machine). What
  // keeps it cheap is that the estimator sees a bounded prefix: the verdict on 128 characters is the one on the prefix.
  it('judges 128 characters of random text or keyboard walk by a bounded prefix (unbounded, zxcvbn took 0.7-1.6 s for these)', () => {
    const costly = ['x'.repeat(128), randomBytes(96).toString('base64url'), '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/'.repeat(3), '!1|l!1|l@4a@4a$5s$5s0o0o3e3e7t7t'.repeat(4)];
    for (const password of costly) expect([password.slice(0, 12), passwordProblem(password, priya)]).toEqual([password.slice(0, 12), passwordProblem(password.slice(0, ESTIMATED_PREFIX), priya)]);
  });
});

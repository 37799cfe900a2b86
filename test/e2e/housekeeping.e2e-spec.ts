import { DataSource } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { ApiToken } from '../../src/accounts/entities/api-token.entity';
import { PasswordReset } from '../../src/accounts/entities/password-reset.entity';
import { startTestApp, TestApp } from '../support/app';

describe('housekeeping', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('deletes password-reset links a day past expiry and API tokens a month past theirs, keeping live ones', async () => {
    const ds = t.app.get(DataSource);
    const accounts = t.app.get(AccountsService);
    const learner = await t.signedIn('learner');
    await accounts.requestPasswordReset(learner.email);
    await accounts.issueApiToken(learner.userId);
    await accounts.issueApiToken(learner.userId);
    const [reset] = await ds.getRepository(PasswordReset).findBy({ userId: learner.userId });
    const [stale, live] = await ds.getRepository(ApiToken).find({ where: { userId: learner.userId }, order: { id: 'ASC' } });
    const now = new Date();
    await ds.getRepository(PasswordReset).update({ id: reset.id }, { expiresAt: new Date(now.getTime() - 2 * 24 * 3600_000) });
    await ds.getRepository(ApiToken).update({ id: stale.id }, { expiresAt: new Date(now.getTime() - 31 * 24 * 3600_000) });

    expect(await accounts.pruneExpired(now)).toEqual({ resets: 1, tokens: 1 });
    expect(await ds.getRepository(PasswordReset).countBy({ userId: learner.userId })).toBe(0);
    expect((await ds.getRepository(ApiToken).findBy({ userId: learner.userId })).map((x) => x.id)).toEqual([live.id]);
    expect(await accounts.pruneExpired(now)).toEqual({ resets: 0, tokens: 0 });
  });
});

import { DataSource } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { User } from '../../src/accounts/entities/user.entity';
import { UserAdminService } from '../../src/accounts/user-admin.service';
import { startTestApp, TestApp } from '../support/app';
import { usingRealEngines } from '../support/engines';

/**
 * Who a signed-in person is, kept per person (in Redis, shared by every web instance) instead of read from the
 * database on every page: every change that matters is seen by the next request, on any instance.
 */
describe('the identity of a signed-in person, kept between requests', () => {
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    first = await startTestApp();
    // Another instance of the same academy on MariaDB + Redis; on embedded defaults the one instance again.
    second = usingRealEngines() ? await startTestApp({ ...first.engines.env }) : first;
  });
  afterAll(async () => {
    if (second !== first) await second.app.close();
    await first.close();
  });

  it('takes a role an administrator removed away at the next request, on another instance too', async () => {
    const author = await first.signedIn('author');
    const admin = await first.signedIn('admin');
    // The author's browser goes to the second instance (sessions are shared): the identity is kept there.
    const elsewhere = second.visitor();
    for (const [name, value] of author.cookies) elsewhere.cookies.set(name, value);
    expect((await elsewhere.get('/author/courses')).status).toBe(200);
    await first.app.get(UserAdminService).changeRole({ id: admin.userId, name: 'Test admin' }, author.userId, 'learner');
    expect((await elsewhere.get('/author/courses')).status).toBe(403);
    expect((await author.get('/author/courses')).status).toBe(403);
  });

  it('shows a corrected name at once, and keeps serving the kept identity without reading the database', async () => {
    const learner = await first.signedIn('learner', { name: 'Ada Lovlace' });
    expect((await learner.get('/my-learning')).body).toContain('Ada Lovlace');
    await first.app.get(AccountsService).updateDetails(learner.userId, { name: 'Ada Lovelace', jobRole: 'Tester' });
    const page = await learner.get('/my-learning');
    expect(page.body).toContain('Ada Lovelace');
    expect(page.body).not.toContain('Ada Lovlace');

    // A change written behind the academy's back (not through a service that says so) is not read until the kept
    // identity expires or a change is announced: the page is served from what is kept.
    await first.app.get(DataSource).getRepository(User).update({ id: learner.userId }, { name: 'Someone Else' });
    expect((await learner.get('/my-learning')).body).toContain('Ada Lovelace');
    await first.app.get(AccountsService).identitiesChanged([learner.userId]);
    expect((await learner.get('/my-learning')).body).toContain('Someone Else');
  });
});

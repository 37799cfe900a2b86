import { DataSource } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { User } from '../../src/accounts/entities/user.entity';
import { Clock } from '../../src/common/clock';
import { ExchangeItem } from '../../src/exchange/entities/exchange-item.entity';
import { ReviewDates } from '../../src/exchange/moderation/review-dates';
import { reviewDueFrom } from '../../src/exchange/search-projection';
import { JobsService } from '../../src/jobs/jobs.service';
import { MailMessage } from '../../src/mail/mail-message.entity';
import { Membership } from '../../src/organisations/entities/membership.entity';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { createItem } from '../support/exchange';
import { addMember, createOrganisation } from '../support/organisations';

type Signed = Visitor & { email: string; password: string; userId: number };

const DAY = 86400_000;
const decoded = (html: string) => html.replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');

/**
 * Review dates on the academy's one Clock: items published now fall due 24 months on, so the clock is moved past that
 * and the sweep run (straight, twice, at once, and through the jobs port), on both engine sets.
 */
describe('exchange moderation: review dates', () => {
  let t: TestApp;
  let db: DataSource;
  let clock: Clock;
  let author: Signed;
  let manager: Signed;
  let organisationId: number;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    clock = t.app.get(Clock);
    [author, manager] = await Promise.all([t.signedIn('learner', { name: 'Rae Reviewer' }), t.signedIn('org_manager', { name: 'Max Manager' })]);
    organisationId = (await createOrganisation(t, { name: `Review Date Trust ${process.pid}-${Date.now()}` })).id;
    await addMember(t, organisationId, author.userId);
    await addMember(t, organisationId, manager.userId, { manager: true });
  });
  afterAll(() => t?.close());

  const reviews = () => t.app.get(ReviewDates);
  const published = (title: string, options: { authorId?: number; organisationId?: number; status?: 'published' | 'draft' } = {}) =>
    createItem(t, { authorId: options.authorId ?? author.userId, organisationId: options.organisationId ?? organisationId, title, publishedAt: clock.now(), status: options.status });
  const itemOf = (id: number) => db.getRepository(ExchangeItem).findOneByOrFail({ id });
  const asked = (to: string) => db.getRepository(MailMessage).find({ where: { template: 'exchange-review-due', toAddress: to }, order: { id: 'ASC' } });
  const askedAbout = async (to: string, title: string) => (await asked(to)).filter((m) => JSON.parse(m.payload).title === title);
  /** Moves the clock to just past the item's review date. */
  const passReviewDate = async (itemId: number) => {
    const due = (await itemOf(itemId)).reviewDueAt!;
    clock.travel(due.getTime() - clock.now().getTime() + DAY);
  };
  /** Sessions end while the clock moves two years: sign in again. */
  const fresh = async (who: Signed) => {
    await who.signIn(who.email, who.password);
    return who;
  };

  it('asks nobody before the review date; past it, e-mails each author once, though the sweep runs twice, at once, and as jobs', async () => {
    const items = [await published('Due review one'), await published('Due review two'), await published('Due review three')];
    expect((await itemOf(items[0].id)).reviewDueAt!.getTime()).toBe(reviewDueFrom(items[0].publishedAt!).getTime());
    await reviews().sendDue();
    expect(await asked(author.email)).toEqual([]);
    clock.travel(DAY * 700); // not yet 24 months
    await reviews().sendDue();
    expect(await asked(author.email)).toEqual([]);

    await passReviewDate(items[0].id);
    const counts = await Promise.all([reviews().sendDue(), reviews().sendDue()]);
    expect(counts[0] + counts[1]).toBe(3);
    expect(await reviews().sendDue()).toBe(0);
    await t.app.get(JobsService).enqueue('exchange.reviews.due', {}, { jobId: `reviews-${Date.now()}-a` });
    await t.app.get(JobsService).enqueue('exchange.reviews.due', {}, { jobId: `reviews-${Date.now()}-b` });
    await t.drainJobs();

    const mail = await asked(author.email);
    expect(mail.map((m) => JSON.parse(m.payload).title).sort()).toEqual(['Due review one', 'Due review three', 'Due review two']);
    for (const item of items) {
      const after = await itemOf(item.id);
      expect(after.reviewRequestedAt).not.toBeNull();
      const message = mail.find((m) => JSON.parse(m.payload).title === item.title)!;
      expect(message.dedupeKey).toBe(`exchange-review:${item.id}:${after.reviewDueAt!.getTime()}:${author.userId}`);
      expect(JSON.parse(message.payload)).toMatchObject({ name: 'Rae Reviewer', asManager: false, confirmUrl: `http://academy.test/exchange/${item.slug}/confirm-current`, editUrl: `http://academy.test/exchange/${item.slug}/edit` });
    }
    await t.drainJobs();
    expect((await asked(author.email)).map((m) => m.status)).toEqual(['sent', 'sent', 'sent']);
    expect(await asked(manager.email)).toEqual([]);
  });

  it('asks the managers of its organisation when the author’s account is gone or deactivated; with none, waits until one is appointed', async () => {
    const orphan = await published('Orphaned review');
    await db.getRepository(ExchangeItem).update({ id: orphan.id }, { authorId: null });
    const leaver = await t.signedIn('learner');
    await addMember(t, organisationId, leaver.userId);
    const deactivated = await published('Deactivated author review', { authorId: leaver.userId });
    await db.getRepository(User).update({ id: leaver.userId }, { deactivatedAt: clock.now() });
    await t.app.get(AccountsService).identitiesChanged([leaver.userId]);
    const lonelyOrganisation = (await createOrganisation(t)).id;
    const lonely = await published('Nobody to ask review', { organisationId: lonelyOrganisation });
    await db.getRepository(ExchangeItem).update({ id: lonely.id }, { authorId: null });

    await passReviewDate(orphan.id);
    await reviews().sendDue();
    for (const title of ['Orphaned review', 'Deactivated author review']) {
      const [message] = await askedAbout(manager.email, title);
      expect(JSON.parse(message.payload)).toMatchObject({ name: 'Max Manager', asManager: true });
    }
    expect(await asked(leaver.email)).toEqual([]);
    expect((await itemOf(deactivated.id)).reviewRequestedAt).not.toBeNull();
    // Nobody to ask: not claimed, so the next sweep after a manager is appointed asks them.
    expect((await itemOf(lonely.id)).reviewRequestedAt).toBeNull();
    expect(await reviews().sendDue()).toBe(0);
    const newManager = await t.signedIn('org_manager');
    await addMember(t, lonelyOrganisation, newManager.userId, { manager: true });
    expect(await reviews().sendDue()).toBe(1);
    expect(await askedAbout(newManager.email, 'Nobody to ask review')).toHaveLength(1);
    expect((await itemOf(lonely.id)).reviewRequestedAt).not.toBeNull();
    expect(await reviews().sendDue()).toBe(0);
  });

  it('the author confirms it is still right: due again in 24 months, not asked until then, and asked again after; twice is harmless', async () => {
    const item = await published('Confirmed review');
    await passReviewDate(item.id);
    await reviews().sendDue();
    expect(await askedAbout(author.email, 'Confirmed review')).toHaveLength(1);
    await fresh(author);

    const page = await author.get(`/exchange/${item.slug}/confirm-current`);
    expect(page.status).toBe(200);
    expect(decoded(page.body)).toContain('Is Confirmed review still right?');
    expect(decoded(page.body)).toContain('has passed');
    expect(page.body).toContain(`action="/exchange/${item.slug}/confirm-current"`);
    expect(page.body).toContain(`href="/exchange/${item.slug}/edit"`);

    const before = clock.now();
    const answer = await author.submit(`/exchange/${item.slug}/confirm-current`, {});
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe(`/exchange/${item.slug}?notice=review-confirmed`);
    let after = await itemOf(item.id);
    expect(after.reviewRequestedAt).toBeNull();
    expect(after.reviewDueAt!.getTime()).toBeGreaterThanOrEqual(reviewDueFrom(before).getTime());
    expect(after.reviewDueAt!.getTime()).toBeLessThanOrEqual(reviewDueFrom(clock.now()).getTime());
    expect(after.status).toBe('published');
    const firstDue = after.reviewDueAt!.getTime();

    // Twice (a second click): harmless, still due 24 months from now, still not asked.
    await author.get(`/exchange/${item.slug}/confirm-current`);
    expect((await author.submit(`/exchange/${item.slug}/confirm-current`, {})).status).toBe(303);
    after = await itemOf(item.id);
    expect(after.reviewRequestedAt).toBeNull();
    expect(after.reviewDueAt!.getTime()).toBeGreaterThanOrEqual(firstDue);

    clock.travel(DAY * 30);
    await reviews().sendDue();
    expect(await askedAbout(author.email, 'Confirmed review')).toHaveLength(1);
    await passReviewDate(item.id);
    await reviews().sendDue();
    const mail = await askedAbout(author.email, 'Confirmed review');
    expect(mail).toHaveLength(2);
    expect(mail[0].dedupeKey).not.toBe(mail[1].dedupeKey);
  });

  it('an active manager of its organisation may confirm it; anyone else is refused as the visibility rules say, changing nothing', async () => {
    const item = await published('Who may confirm');
    const draft = await published('Unpublished draft', { status: 'draft' });
    await passReviewDate(item.id);
    await reviews().sendDue();
    const requestedAt = (await itemOf(item.id)).reviewRequestedAt;
    expect(requestedAt).not.toBeNull();
    for (const who of [author, manager]) await fresh(who);

    const [stranger, moderator, admin, formerManager] = await Promise.all([t.signedIn('learner'), t.signedIn('moderator'), t.signedIn('admin'), t.signedIn('org_manager')]);
    await addMember(t, organisationId, formerManager.userId, { manager: true });
    await db.getRepository(Membership).update({ organisationId, userId: formerManager.userId }, { status: 'left' });
    const otherManager = await t.signedIn('org_manager');
    await addMember(t, (await createOrganisation(t)).id, otherManager.userId, { manager: true });

    for (const [who, visitor] of [
      ['a learner', stranger],
      ['a moderator', moderator],
      ['an administrator', admin],
      ['a manager who has left', formerManager],
      ['another organisation’s manager', otherManager],
    ] as Array<[string, Signed]>) {
      expect([who, (await visitor.get(`/exchange/${item.slug}/confirm-current`)).status]).toEqual([who, 403]);
      await visitor.get('/account');
      const answer = await visitor.submit(`/exchange/${item.slug}/confirm-current`, {});
      expect([who, answer.status]).toEqual([who, 403]);
      expect(decoded(answer.body)).toContain('Only its author, or a manager of its organisation');
      // An unpublished item does not exist for those who may not see it (moderators and admins may: refused, not hidden).
      const hidden = await visitor.submit(`/exchange/${draft.slug}/confirm-current`, {});
      expect([who, hidden.status]).toEqual([who, ['a moderator', 'an administrator'].includes(who) ? 403 : 404]);
    }
    expect((await itemOf(item.id)).reviewRequestedAt?.getTime()).toBe(requestedAt!.getTime());

    // Unknown or malformed addresses.
    for (const slug of ['no-such-item', 'BAD!slug', 'x'.repeat(100)]) expect([slug, (await author.submit(`/exchange/${encodeURIComponent(slug)}/confirm-current`, {})).status]).toEqual([slug, 404]);
    // Without its CSRF token, even from its author; and not signed in.
    expect((await author.submit(`/exchange/${item.slug}/confirm-current`, {}, { withCsrf: false })).status).toBe(403);
    const anonymous = await t.visitor().get(`/exchange/${item.slug}/confirm-current`);
    expect(anonymous.headers.location).toMatch(/^\/sign-in/);
    expect((await itemOf(item.id)).reviewRequestedAt).not.toBeNull();
    // The author of an unpublished item has no review date to confirm.
    const notPublished = await author.submit(`/exchange/${draft.slug}/confirm-current`, {});
    expect(notPublished.status).toBe(409);
    expect(decoded(notPublished.body)).toContain('Only a published item has a review date to confirm');

    await manager.get(`/exchange/${item.slug}/confirm-current`);
    const confirmed = await manager.submit(`/exchange/${item.slug}/confirm-current`, {});
    expect(confirmed.status).toBe(303);
    const after = await itemOf(item.id);
    expect(after.reviewRequestedAt).toBeNull();
    expect(after.reviewDueAt!.getTime()).toBeGreaterThan(clock.now().getTime());
    expect((await itemOf(draft.id)).reviewDueAt).toBeNull();
  });
});

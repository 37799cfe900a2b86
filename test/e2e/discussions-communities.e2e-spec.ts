import { DataSource } from 'typeorm';
import { slugify } from '../../src/common/slug';
import { DiscussionAccess } from '../../src/discussions/core/discussion-access';
import { DiscussionFollow, DiscussionSpace, DiscussionSpaceMember } from '../../src/discussions/entities';
import { DESCRIPTION_TOO_LONG, TITLE_LENGTH, TITLE_MISSING, CHOOSE_ACCESS } from '../../src/discussions/communities/communities.dto';
import { addressTaken, COMMUNITIES_PER_PAGE, MODERATORS_REMOVED_BY_SITE, NOT_A_SPACE_MODERATOR, ONLY_SITE_MODERATORS_APPOINT } from '../../src/discussions/communities/communities.service';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { saveCommunity, saveMember, saveThread } from '../support/discussions';
import { decodeHtml } from '../support/html-forms';

type Person = Visitor & { userId: number; email: string; password: string };

/** The visible text of a page fragment: tags dropped, references decoded, spaces collapsed. */
const text = (html: string) => decodeHtml(html.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
/** A community's card on the list. */
const cardOf = (html: string, slug: string) => {
  const match = new RegExp(`<li class="nhsuk-card" id="community-${slug}"[\\s\\S]*?</li>\\s*(?=<li class="nhsuk-card"|</ul>)`).exec(html);
  if (!match) throw new Error(`the list has no card for ${slug}`);
  return match[0];
};
const WAITING = 'Your request is waiting for the community’s moderators';

let counter = 0;
/** A title no other test of this file uses, starting with a capital so that both engines sort it alike. */
const unique = (title: string) => `${title} ${process.pid} ${++counter}`;

describe('discussion communities: list, administration, membership and moderators', () => {
  let t: TestApp;
  let ds: DataSource;
  let admin: Person;
  let siteModerator: Person;

  const audit = async (action: string, targetId?: number) =>
    (await ds.query(`SELECT actor_id, target_id, target_type, details FROM audit_log WHERE action = ?${targetId === undefined ? '' : ' AND target_id = ?'} ORDER BY id`, targetId === undefined ? [action] : [action, targetId])).map(
      (r: { actor_id: number; target_id: number; target_type: string; details: string }) => ({ actorId: Number(r.actor_id), targetId: Number(r.target_id), targetType: r.target_type, details: JSON.parse(r.details) }),
    );
  const auditCount = async () => Number((await ds.query('SELECT COUNT(*) AS n FROM audit_log'))[0].n);
  const membership = (spaceId: number, userId: number) => ds.getRepository(DiscussionSpaceMember).findOneBy({ spaceId, userId });
  const follows = (spaceId: number, userId: number) => ds.getRepository(DiscussionFollow).countBy({ spaceId, userId });
  const canRead = async (person: Person, space: DiscussionSpace) => (await t.app.get(DiscussionAccess).of({ id: person.userId, role: 'learner' }, space)).canRead;
  const space = (id: number) => ds.getRepository(DiscussionSpace).findOneByOrFail({ id });

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    admin = await t.signedIn('admin', { name: 'Ada Admin' });
    siteModerator = await t.signedIn('moderator', { name: 'Mo Moderator' });
  });
  afterAll(() => t?.close());

  describe('administrators create and edit communities', () => {
    it('creates a community at the address made from its name, audited in the same transaction, and lists it', async () => {
      const title = unique('Clinical safety officers');
      expect((await admin.get('/admin/communities/new')).status).toBe(200);
      const before = await auditCount();
      const made = await admin.submit('/admin/communities/new', { title, description: 'Where **DCB0129** officers meet.\n\nA second paragraph.', access: 'members' });
      expect(made.status).toBe(303);
      const slug = slugify(title, 120);
      expect(made.headers.location).toBe(`/communities?notice=created&community=${slug}#community-${slug}`);
      const row = await ds.getRepository(DiscussionSpace).findOneByOrFail({ slug });
      expect(row).toMatchObject({ kind: 'community', title, access: 'members', description: 'Where **DCB0129** officers meet.\n\nA second paragraph.', createdById: admin.userId, threadCount: 0, subjectId: null });
      expect(await auditCount()).toBe(before + 1);
      expect(await audit('discussion.community.created', row.id)).toEqual([{ actorId: admin.userId, targetId: row.id, targetType: 'discussion_space', details: { slug, title, access: 'members' } }]);

      const list = await admin.get(made.headers.location as string);
      expect(text(list.body)).toContain(`${title} is created.`);
      const card = cardOf(list.body, slug);
      expect(card).toContain(`href="/communities/${slug}"`);
      expect(card).toContain('<strong>DCB0129</strong>');
      expect(card).not.toContain('second paragraph');
      expect(text(card)).toContain('Members only');
      expect(card).toContain(`href="/admin/communities/${row.id}/edit"`);
    });

    it('refuses a name too short or too long, a description over 5,000 characters, no access, and an address already taken, writing nothing', async () => {
      const taken = await saveCommunity(t, { title: unique('Cyber security leads') });
      await ds.getRepository(DiscussionSpace).update({ id: taken.id }, { slug: slugify(taken.title, 120) });
      const before = { audit: await auditCount(), spaces: await ds.getRepository(DiscussionSpace).countBy({ kind: 'community' }) };
      const cases: Array<[Record<string, string>, string, string]> = [
        [{ title: '', access: 'open' }, 'title', TITLE_MISSING],
        [{ title: 'ab', access: 'open' }, 'title', TITLE_LENGTH],
        [{ title: 'x'.repeat(121), access: 'open' }, 'title', TITLE_LENGTH],
        [{ title: 'Long description', description: 'y'.repeat(5001), access: 'open' }, 'description', DESCRIPTION_TOO_LONG],
        [{ title: 'No access chosen' }, 'access', CHOOSE_ACCESS],
        [{ title: 'Access unknown', access: 'everyone' }, 'access', CHOOSE_ACCESS],
        [{ title: '!!! ??? ...', access: 'open' }, 'title', 'The name must contain letters or digits: the community’s address is made from them'],
        [{ title: taken.title, access: 'open' }, 'title', addressTaken(slugify(taken.title, 120))],
        [{ title: taken.title.toUpperCase(), access: 'members' }, 'title', addressTaken(slugify(taken.title, 120))],
      ];
      for (const [form, field, message] of cases) {
        const answer = await admin.submit('/admin/communities/new', form);
        expect([form.title, answer.status]).toEqual([form.title, 400]);
        expect(answer.body).toContain('There is a problem');
        expect(decodeHtml(answer.body)).toContain(`<a href="#${field}">${message}</a>`);
        // What was typed is shown again.
        if (form.title) expect(decodeHtml(answer.body)).toContain(`value="${form.title}"`);
      }
      expect(await auditCount()).toBe(before.audit);
      expect(await ds.getRepository(DiscussionSpace).countBy({ kind: 'community' })).toBe(before.spaces);
      // A description of exactly 5,000 characters is fine.
      expect((await admin.submit('/admin/communities/new', { title: unique('Exactly five thousand'), description: 'z'.repeat(5000), access: 'open' })).status).toBe(303);
    });

    it('edits name, description and access, keeping the address; saving it unchanged twice changes and records nothing', async () => {
      const community = await saveCommunity(t, { title: unique('EPR programme leads'), access: 'open', description: 'Leads of *EPR* programmes.' });
      const stored = await space(community.id);
      const form = await admin.get(`/admin/communities/${community.id}/edit`);
      expect(form.status).toBe(200);
      expect(decodeHtml(form.body)).toContain(`value="${community.title}"`);
      expect(form.body).toContain('Leads of *EPR* programmes.</textarea>');
      expect(form.body).toMatch(/id="access" name="access" type="radio" value="open"[^>]*checked/);

      const before = await auditCount();
      for (let i = 0; i < 2; i++) {
        const same = await admin.submit(`/admin/communities/${community.id}/edit`, { title: community.title, description: 'Leads of *EPR* programmes.', access: 'open' });
        expect(same.status).toBe(303);
        expect(same.headers.location).toContain('notice=unchanged');
      }
      expect(await auditCount()).toBe(before);
      expect((await space(community.id)).updatedAt.getTime()).toBe(stored.updatedAt.getTime());

      const renamed = `${community.title} and deputies`;
      const changed = await admin.submit(`/admin/communities/${community.id}/edit`, { title: renamed, description: '', access: 'members' });
      expect(changed.status).toBe(303);
      expect(changed.headers.location).toContain('notice=edited');
      expect(await space(community.id)).toMatchObject({ title: renamed, description: null, access: 'members', slug: community.slug });
      expect(await audit('discussion.community.edited', community.id)).toEqual([
        { actorId: admin.userId, targetId: community.id, targetType: 'discussion_space', details: { slug: community.slug, title: { from: community.title, to: renamed }, description: 'changed', access: { from: 'open', to: 'members' } } },
      ]);
      // A refused change shows the form again with the error and leaves the community as it was.
      const refused = await admin.submit(`/admin/communities/${community.id}/edit`, { title: 'no', access: 'open' });
      expect(refused.status).toBe(400);
      expect(decodeHtml(refused.body)).toContain(TITLE_LENGTH);
      expect((await space(community.id)).title).toBe(renamed);
      expect((await admin.get('/admin/communities/99999999/edit')).status).toBe(404);
      expect((await admin.submit('/admin/communities/99999999/edit', { title: 'Nothing here', access: 'open' })).status).toBe(404);
      expect((await admin.get('/admin/communities/abc/edit')).status).toBe(404);
    });

    it('is for administrators only: learners, authors and site moderators get 403 and nothing is written', async () => {
      const community = await saveCommunity(t, { title: unique('Information governance') });
      const before = { audit: await auditCount(), spaces: await ds.getRepository(DiscussionSpace).countBy({ kind: 'community' }) };
      for (const role of ['learner', 'author', 'moderator'] as const) {
        const person = await t.signedIn(role);
        expect([role, (await person.get('/admin/communities/new')).status]).toEqual([role, 403]);
        expect([role, (await person.get(`/admin/communities/${community.id}/edit`)).status]).toEqual([role, 403]);
        await person.get('/communities');
        expect([role, (await person.submit('/admin/communities/new', { title: unique('Sneaky'), access: 'open' })).status]).toEqual([role, 403]);
        expect([role, (await person.submit(`/admin/communities/${community.id}/edit`, { title: 'Sneaky rename', access: 'members' })).status]).toEqual([role, 403]);
        expect((await person.get('/communities')).body).not.toContain('/admin/communities/new');
      }
      expect(await auditCount()).toBe(before.audit);
      expect(await ds.getRepository(DiscussionSpace).countBy({ kind: 'community' })).toBe(before.spaces);
      expect((await space(community.id)).title).toBe(community.title);
      const anonymous = t.visitor();
      expect((await anonymous.get('/admin/communities/new')).status).toBe(303);
      expect((await anonymous.get('/communities')).headers.location).toBe(`/sign-in?next=${encodeURIComponent('/communities')}`);
    });

    it('offers the communities from the admin index, the header menu of signed-in people, and names the audit actions in words', async () => {
      expect((await admin.get('/admin')).body).toContain('<a href="/communities">Communities</a>');
      const learner = await t.signedIn('learner');
      expect((await learner.get('/my-learning')).body).toMatch(/<a class="nhsuk-header__navigation-link" href="\/communities"[^>]*>Communities<\/a>/);
      expect((await t.visitor().get('/')).body).not.toContain('href="/communities"');
      const log = await admin.get('/admin/audit?action=discussion.community.created');
      expect(log.status).toBe(200);
      expect(text(log.body)).toContain('Discussion community created');
    });
  });

  describe('the list of communities', () => {
    it('shows every community by title with its access, description excerpt, thread count and the viewer’s state, paged', async () => {
      const learner = await t.signedIn('learner');
      const author = await t.signedIn('author');
      const prefix = `Aaa ${process.pid}`;
      const open = await saveCommunity(t, { title: `${prefix} Alpha open`, access: 'open', description: '# About\n\nShare **hazard logs** and <script>alert(1)</script> templates.\n\nMore below.' });
      const closed = await saveCommunity(t, { title: `${prefix} Beta closed`, access: 'members', description: 'x '.repeat(400) });
      const asked = await saveCommunity(t, { title: `${prefix} Gamma asked`, access: 'members' });
      const moderated = await saveCommunity(t, { title: `${prefix} Delta moderated`, access: 'open' });
      await saveMember(t, open.id, learner.userId);
      await saveMember(t, asked.id, learner.userId, { status: 'requested' });
      await saveMember(t, moderated.id, learner.userId, { role: 'moderator' });
      await saveThread(t, { spaceId: open.id, authorId: author.userId });
      await saveThread(t, { spaceId: open.id, authorId: author.userId, title: 'Another one' });
      await saveThread(t, { spaceId: moderated.id, authorId: author.userId });

      const page = await learner.get('/communities');
      expect(page.status).toBe(200);
      const html = page.body;
      const positions = [open, closed, moderated, asked].map((c) => html.indexOf(`id="community-${c.slug}"`));
      expect(positions.every((p) => p > 0)).toBe(true);
      // "Alpha", "Beta", "Delta", "Gamma": by title.
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);

      const openCard = cardOf(html, open.slug!);
      expect(text(openCard)).toContain('Open to all members');
      expect(openCard).toContain('<strong>hazard logs</strong>');
      expect(openCard).not.toContain('<script');
      expect(openCard).not.toContain('More below');
      expect(text(openCard)).toContain('2 threads');
      expect(openCard).toContain('data-membership="member"');
      expect(text(openCard)).toContain('You are a member');
      expect(openCard).toContain(`action="/communities/${open.slug}/leave"`);
      expect(openCard).not.toContain('/members"');
      expect(openCard).not.toContain('/edit"');

      const closedCard = cardOf(html, closed.slug!);
      expect(text(closedCard)).toContain('Members only');
      expect(text(closedCard)).toContain('0 threads');
      expect(text(closedCard)).toContain('Ask to join');
      expect(text(closedCard)).toContain('x x x…');
      expect(closedCard).not.toContain('data-membership');

      expect(cardOf(html, asked.slug!)).toContain('data-membership="requested"');
      expect(text(cardOf(html, asked.slug!))).toContain('Withdraw your request');
      const moderatedCard = cardOf(html, moderated.slug!);
      expect(moderatedCard).toContain('data-membership="moderator"');
      expect(text(moderatedCard)).toContain('1 thread ');
      expect(moderatedCard).toContain(`href="/communities/${moderated.slug}/members"`);

      // Site moderators manage the members of all of them; administrators edit them too.
      expect(cardOf((await siteModerator.get('/communities')).body, closed.slug!)).toContain(`href="/communities/${closed.slug}/members"`);
      expect(cardOf((await admin.get('/communities')).body, closed.slug!)).toContain(`href="/admin/communities/${closed.id}/edit"`);
    });

    it('pages the list, and brings a person back to the page of the community they joined', async () => {
      const learner = await t.signedIn('learner');
      const total = await ds.getRepository(DiscussionSpace).countBy({ kind: 'community' });
      const needed = COMMUNITIES_PER_PAGE * 2 + 1 - total;
      for (let i = 0; i < needed; i++) await saveCommunity(t, { title: `Mmm ${process.pid} filler ${String(i).padStart(3, '0')}` });
      const last = await saveCommunity(t, { title: 'Zzz the last community' });
      const first = await learner.get('/communities');
      expect(text(first.body)).toContain('page 1 of 3');
      expect(first.body.match(/class="nhsuk-card"/g)).toHaveLength(COMMUNITIES_PER_PAGE);
      expect(decodeHtml(first.body)).toContain('href="/communities?page=2"');
      const third = await learner.get('/communities?page=3');
      expect(third.body).toContain(`id="community-${last.slug}"`);
      expect(decodeHtml(third.body)).toContain('href="/communities?page=2"');
      expect((await learner.get('/communities?page=0')).status).toBe(400);
      const joined = await learner.submit(`/communities/${last.slug}/join`, {});
      expect(joined.status).toBe(303);
      expect(joined.headers.location).toBe(`/communities?page=3&notice=joined&community=${last.slug}#community-${last.slug}`);
      const back = await learner.get(joined.headers.location as string);
      expect(text(back.body)).toContain(`You joined ${last.title}.`);
      expect(back.body).toContain(`href="/communities/${last.slug}">Go to ${last.title}</a>`);
    });
  });

  describe('joining and leaving', () => {
    it('joins an open community at once and follows it; joining twice is joining once; leaving stops both', async () => {
      const learner = await t.signedIn('learner');
      const community = await saveCommunity(t, { title: unique('Digital nurses'), access: 'open' });
      await learner.get('/communities');
      for (let i = 0; i < 2; i++) {
        const answer = await learner.submit(`/communities/${community.slug}/join`, {});
        expect(answer.status).toBe(303);
        expect(answer.headers.location).toContain(i === 0 ? 'notice=joined' : 'notice=already_member');
      }
      expect(await ds.getRepository(DiscussionSpaceMember).countBy({ spaceId: community.id, userId: learner.userId })).toBe(1);
      expect(await membership(community.id, learner.userId)).toMatchObject({ status: 'member', role: 'member' });
      expect(await follows(community.id, learner.userId)).toBe(1);

      const left = await learner.submit(`/communities/${community.slug}/leave`, {});
      expect(left.headers.location).toContain('notice=left');
      expect(await membership(community.id, learner.userId)).toBeNull();
      expect(await follows(community.id, learner.userId)).toBe(0);
      expect((await learner.submit(`/communities/${community.slug}/leave`, {})).headers.location).toContain('notice=not_a_member');
      // Two presses at once still make one member.
      await Promise.all([learner.submit(`/communities/${community.slug}/join`, {}), learner.submit(`/communities/${community.slug}/join`, {})]);
      expect(await ds.getRepository(DiscussionSpaceMember).countBy({ spaceId: community.id, userId: learner.userId })).toBe(1);
      expect(await follows(community.id, learner.userId)).toBe(1);
      // From the community's own page, back to it.
      await learner.submit(`/communities/${community.slug}/leave`, {});
      expect((await learner.submit(`/communities/${community.slug}/join`, { from: 'community' })).headers.location).toBe(`/communities/${community.slug}?notice=joined`);
    });

    it('asks a members-only community: one request however often, unreadable until approved, withdrawable', async () => {
      const learner = await t.signedIn('learner');
      const community = await saveCommunity(t, { title: unique('Chief clinical information officers'), access: 'members' });
      await learner.get('/communities');
      for (let i = 0; i < 2; i++) {
        const answer = await learner.submit(`/communities/${community.slug}/join`, { from: 'community' });
        expect(answer.status).toBe(303);
        expect(answer.headers.location).toContain(i === 0 ? 'notice=requested' : 'notice=already_requested');
        expect(text((await learner.get(answer.headers.location as string)).body)).toContain(WAITING);
      }
      expect(await ds.getRepository(DiscussionSpaceMember).countBy({ spaceId: community.id, userId: learner.userId })).toBe(1);
      expect(await membership(community.id, learner.userId)).toMatchObject({ status: 'requested', decidedAt: null });
      expect(await follows(community.id, learner.userId)).toBe(0);
      expect(await canRead(learner, community)).toBe(false);
      expect((await learner.get(`/communities/${community.slug}/members`)).status).toBe(404);

      const withdrawn = await learner.submit(`/communities/${community.slug}/leave`, {});
      expect(withdrawn.headers.location).toContain('notice=withdrawn');
      expect(await membership(community.id, learner.userId)).toBeNull();
      expect(text((await learner.get(withdrawn.headers.location as string)).body)).toContain(`You withdrew your request to join ${community.title}.`);
    });

    it('answers 404 for a community that does not exist, and sends visitors to sign in', async () => {
      const learner = await t.signedIn('learner');
      await learner.get('/communities');
      for (const path of ['join', 'leave']) expect((await learner.submit(`/communities/no-such-community/${path}`, {})).status).toBe(404);
      expect((await learner.get('/communities/no-such-community/members')).status).toBe(404);
      const anonymous = t.visitor();
      const community = await saveCommunity(t, { title: unique('Anonymous tries') });
      expect((await anonymous.submit(`/communities/${community.slug}/join`, {})).status).toBe(303);
      expect(await ds.getRepository(DiscussionSpaceMember).countBy({ spaceId: community.id })).toBe(0);
    });
  });

  describe('the members page and moderators’ decisions', () => {
    it('lets a community’s moderator approve a request (once, audited), after which the person reads it', async () => {
      const community = await saveCommunity(t, { title: unique('Pharmacy informatics'), access: 'members' });
      const moderator = await t.signedIn('learner', { name: 'Sam Spacemod' });
      await saveMember(t, community.id, moderator.userId, { role: 'moderator' });
      const asker = await t.signedIn('learner', { name: 'Asha Asker' });
      await asker.get('/communities');
      await asker.submit(`/communities/${community.slug}/join`, {});
      // Waiting, the community's page is not there for them (the threads part's page, through DiscussionAccess).
      expect((await asker.get(`/communities/${community.slug}`)).status).toBe(404);
      expect((await moderator.get(`/communities/${community.slug}`)).status).toBe(200);

      const page = await moderator.get(`/communities/${community.slug}/members`);
      expect(page.status).toBe(200);
      const requests = /<table[^>]*data-requests[\s\S]*?<\/table>/.exec(page.body)![0];
      expect(text(requests)).toContain('Asha Asker');
      expect(text(requests)).toContain('Learner');
      expect(text(requests)).toContain('Test Trust');
      expect(requests).toContain(`action="/communities/${community.slug}/members/${asker.userId}/approve"`);
      expect(requests).toContain(`action="/communities/${community.slug}/members/${asker.userId}/decline"`);
      const moderators = /<table[^>]*data-moderators[\s\S]*?<\/table>/.exec(page.body)![0];
      expect(text(moderators)).toContain('Sam Spacemod Moderator');
      // A community's own moderator does not appoint others.
      expect(page.body).not.toContain('/moderator"');

      const approved = await moderator.submit(`/communities/${community.slug}/members/${asker.userId}/approve`, {});
      expect(approved.status).toBe(303);
      expect(approved.headers.location).toBe(`/communities/${community.slug}/members?notice=approve.done&person=${asker.userId}`);
      expect(text((await moderator.get(approved.headers.location as string)).body)).toContain('Asha Asker is now a member.');
      expect(await membership(community.id, asker.userId)).toMatchObject({ status: 'member', decidedById: moderator.userId });
      expect(await follows(community.id, asker.userId)).toBe(1);
      expect(await canRead(asker, community)).toBe(true);
      expect((await asker.get(`/communities/${community.slug}`)).status).toBe(200);
      expect(await audit('discussion.member.approved', asker.userId)).toEqual([{ actorId: moderator.userId, targetId: asker.userId, targetType: 'user', details: { community: { id: community.id, slug: community.slug, title: community.title } } }]);

      // Approving again finds it done and records nothing more.
      const again = await moderator.submit(`/communities/${community.slug}/members/${asker.userId}/approve`, {});
      expect(again.headers.location).toContain('notice=approve.unchanged');
      expect(await audit('discussion.member.approved', asker.userId)).toHaveLength(1);
      const members = /<table[^>]*data-members[\s\S]*?<\/table>/.exec((await moderator.get(`/communities/${community.slug}/members`)).body)![0];
      expect(text(members)).toContain('Asha Asker');
      expect(members).toContain(`/members/${asker.userId}/remove"`);
    });

    it('declines and removes, each audited; a moderator removes members but not other moderators', async () => {
      const community = await saveCommunity(t, { title: unique('Cyber incident responders'), access: 'members' });
      const moderator = await t.signedIn('learner');
      const otherModerator = await t.signedIn('learner');
      await saveMember(t, community.id, moderator.userId, { role: 'moderator' });
      await saveMember(t, community.id, otherModerator.userId, { role: 'moderator' });
      const asker = await t.signedIn('learner');
      const member = await t.signedIn('learner');
      await saveMember(t, community.id, asker.userId, { status: 'requested' });
      await saveMember(t, community.id, member.userId);
      await moderator.get(`/communities/${community.slug}/members`);

      const declined = await moderator.submit(`/communities/${community.slug}/members/${asker.userId}/decline`, {});
      expect(declined.headers.location).toContain('notice=decline.done');
      expect(await membership(community.id, asker.userId)).toBeNull();
      expect(await audit('discussion.member.declined', asker.userId)).toHaveLength(1);
      expect((await moderator.submit(`/communities/${community.slug}/members/${asker.userId}/decline`, {})).headers.location).toContain('notice=decline.gone');
      expect((await moderator.submit(`/communities/${community.slug}/members/${asker.userId}/approve`, {})).headers.location).toContain('notice=approve.gone');
      expect(await audit('discussion.member.declined', asker.userId)).toHaveLength(1);
      expect(await audit('discussion.member.approved', asker.userId)).toHaveLength(0);

      // Declining someone who is a member already does not remove them.
      expect((await moderator.submit(`/communities/${community.slug}/members/${member.userId}/decline`, {})).headers.location).toContain('notice=decline.unchanged');
      expect(await membership(community.id, member.userId)).not.toBeNull();

      await ds.getRepository(DiscussionFollow).insert({ userId: member.userId, spaceId: community.id, threadId: null, createdAt: new Date() });
      const removed = await moderator.submit(`/communities/${community.slug}/members/${member.userId}/remove`, {});
      expect(removed.headers.location).toContain('notice=remove.done');
      expect(await membership(community.id, member.userId)).toBeNull();
      expect(await follows(community.id, member.userId)).toBe(0);
      expect(await canRead(member, community)).toBe(false);
      expect((await member.get(`/communities/${community.slug}`)).status).toBe(404);
      expect(await audit('discussion.member.removed', member.userId)).toHaveLength(1);

      const before = await auditCount();
      const refused = await moderator.submit(`/communities/${community.slug}/members/${otherModerator.userId}/remove`, {});
      expect(refused.status).toBe(403);
      expect(decodeHtml(refused.body)).toContain(MODERATORS_REMOVED_BY_SITE);
      for (const action of ['moderator', 'member']) {
        const answer = await moderator.submit(`/communities/${community.slug}/members/${otherModerator.userId}/${action}`, {});
        expect([action, answer.status]).toEqual([action, 403]);
        expect(decodeHtml(answer.body)).toContain(ONLY_SITE_MODERATORS_APPOINT);
      }
      expect(await membership(community.id, otherModerator.userId)).toMatchObject({ status: 'member', role: 'moderator' });
      expect(await auditCount()).toBe(before);
      expect((await moderator.submit(`/communities/${community.slug}/members/${member.userId}/promote`, {})).status).toBe(404);
      expect((await moderator.submit(`/communities/${community.slug}/members/abc/approve`, {})).status).toBe(404);
    });

    it('lets administrators and site moderators appoint a member as the community’s moderator and stand them down, audited', async () => {
      const community = await saveCommunity(t, { title: unique('Analysts network'), access: 'members' });
      const person = await t.signedIn('learner', { name: 'Nia Newmod' });
      await saveMember(t, community.id, person.userId);
      expect((await person.get(`/communities/${community.slug}/members`)).status).toBe(403);

      const page = await admin.get(`/communities/${community.slug}/members`);
      expect(page.status).toBe(200);
      expect(page.body).toContain(`action="/communities/${community.slug}/members/${person.userId}/moderator"`);
      const appointed = await admin.submit(`/communities/${community.slug}/members/${person.userId}/moderator`, {});
      expect(appointed.headers.location).toContain('notice=moderator.done');
      expect(text((await admin.get(appointed.headers.location as string)).body)).toContain('Nia Newmod is now one of the community’s moderators.');
      expect(await membership(community.id, person.userId)).toMatchObject({ status: 'member', role: 'moderator' });
      expect(await audit('discussion.member.moderator-appointed', person.userId)).toEqual([expect.objectContaining({ actorId: admin.userId })]);
      expect((await person.get(`/communities/${community.slug}/members`)).status).toBe(200);
      expect((await t.app.get(DiscussionAccess).of({ id: person.userId, role: 'learner' }, community)).canModerate).toBe(true);
      // Appointing again changes nothing.
      expect((await admin.submit(`/communities/${community.slug}/members/${person.userId}/moderator`, {})).headers.location).toContain('notice=moderator.unchanged');
      expect(await audit('discussion.member.moderator-appointed', person.userId)).toHaveLength(1);

      await siteModerator.get(`/communities/${community.slug}/members`);
      const stoodDown = await siteModerator.submit(`/communities/${community.slug}/members/${person.userId}/member`, {});
      expect(stoodDown.headers.location).toContain('notice=member.done');
      expect(await membership(community.id, person.userId)).toMatchObject({ status: 'member', role: 'member' });
      expect(await audit('discussion.member.moderator-removed', person.userId)).toEqual([expect.objectContaining({ actorId: siteModerator.userId })]);
      expect((await person.get(`/communities/${community.slug}/members`)).status).toBe(403);

      // Only members are made moderators: a waiting request is approved first.
      const asker = await t.signedIn('learner');
      await saveMember(t, community.id, asker.userId, { status: 'requested' });
      expect((await admin.submit(`/communities/${community.slug}/members/${asker.userId}/moderator`, {})).headers.location).toContain('notice=moderator.gone');
      expect(await membership(community.id, asker.userId)).toMatchObject({ status: 'requested', role: 'member' });

      // A moderator who leaves stops being one.
      await admin.submit(`/communities/${community.slug}/members/${person.userId}/moderator`, {});
      await person.get('/communities');
      expect((await person.submit(`/communities/${community.slug}/leave`, {})).headers.location).toContain('notice=left');
      expect(await membership(community.id, person.userId)).toBeNull();
      expect((await person.get(`/communities/${community.slug}/members`)).status).toBe(404);
    });

    it('refuses the members page and every decision to people who do not moderate the community: 404 if they cannot read it, 403 if they can; nothing is written', async () => {
      const closed = await saveCommunity(t, { title: unique('Closed shop'), access: 'members' });
      const open = await saveCommunity(t, { title: unique('Open house'), access: 'open' });
      const outsider = await t.signedIn('learner');
      const closedMember = await t.signedIn('author');
      await saveMember(t, closed.id, closedMember.userId);
      const waiting = await t.signedIn('learner');
      await saveMember(t, closed.id, waiting.userId, { status: 'requested' });
      await saveMember(t, open.id, waiting.userId, { status: 'requested' });
      const before = await auditCount();
      await outsider.get('/communities');
      await closedMember.get('/communities');

      const tries: Array<[Person, DiscussionSpace, number]> = [
        [outsider, closed, 404],
        [outsider, open, 403],
        [closedMember, closed, 403],
        [waiting, closed, 404],
      ];
      for (const [person, community, status] of tries) {
        const page = await person.get(`/communities/${community.slug}/members`);
        expect([community.title, page.status]).toEqual([community.title, status]);
        if (status === 403) expect(decodeHtml(page.body)).toContain(NOT_A_SPACE_MODERATOR);
        await person.get('/communities');
        for (const action of ['approve', 'decline', 'remove', 'moderator', 'member']) {
          const answer = await person.submit(`/communities/${community.slug}/members/${waiting.userId}/${action}`, {});
          expect([community.title, action, answer.status]).toEqual([community.title, action, status]);
        }
      }
      expect(await membership(closed.id, waiting.userId)).toMatchObject({ status: 'requested' });
      expect(await membership(open.id, waiting.userId)).toMatchObject({ status: 'requested' });
      expect(await membership(closed.id, closedMember.userId)).toMatchObject({ status: 'member', role: 'member' });
      expect(await auditCount()).toBe(before);
      // Site moderators and administrators manage every community's members.
      expect((await siteModerator.get(`/communities/${closed.slug}/members`)).status).toBe(200);
      expect((await admin.get(`/communities/${open.slug}/members`)).status).toBe(200);
    });

    it('approves once when two moderators approve the same request at the same moment: one approval, one audit entry', async () => {
      const community = await saveCommunity(t, { title: unique('Race to approve'), access: 'members' });
      const first = await t.signedIn('learner');
      const second = await t.signedIn('learner');
      await saveMember(t, community.id, first.userId, { role: 'moderator' });
      await saveMember(t, community.id, second.userId, { role: 'moderator' });
      for (let round = 0; round < 3; round++) {
        const asker = await t.signedIn('learner');
        await saveMember(t, community.id, asker.userId, { status: 'requested' });
        await Promise.all([first.get(`/communities/${community.slug}/members`), second.get(`/communities/${community.slug}/members`)]);
        const answers = await Promise.all([first, second, siteModerator].map((m) => m.submit(`/communities/${community.slug}/members/${asker.userId}/approve`, {})));
        expect(answers.map((a) => a.status)).toEqual([303, 303, 303]);
        const notices = answers.map((a) => /notice=approve\.(\w+)/.exec(a.headers.location as string)![1]).sort();
        expect(notices).toEqual(['done', 'unchanged', 'unchanged']);
        expect(await audit('discussion.member.approved', asker.userId)).toHaveLength(1);
        expect(await membership(community.id, asker.userId)).toMatchObject({ status: 'member' });
        expect(await follows(community.id, asker.userId)).toBe(1);
      }
    });
  });

  describe('the API', () => {
    it('lists every community with the caller’s membership, documented in the OpenAPI document', async () => {
      const learner = await t.signedIn('learner');
      const api = await t.apiClient(learner.email, learner.password);
      const prefix = `Aab ${process.pid}`;
      const open = await saveCommunity(t, { title: `${prefix} open`, access: 'open', description: 'Open **to all**.' });
      const asked = await saveCommunity(t, { title: `${prefix} requested`, access: 'members' });
      const moderated = await saveCommunity(t, { title: `${prefix} moderated`, access: 'members' });
      const none = await saveCommunity(t, { title: `${prefix} none`, access: 'members' });
      await saveMember(t, open.id, learner.userId);
      await saveMember(t, asked.id, learner.userId, { status: 'requested' });
      await saveMember(t, moderated.id, learner.userId, { role: 'moderator' });
      await saveThread(t, { spaceId: open.id, authorId: learner.userId });

      const answer = await api.get('/api/v1/discussions/communities');
      expect(answer.status).toBe(200);
      const body = answer.json();
      expect(body).toMatchObject({ page: 1, total: expect.any(Number), pages: expect.any(Number) });
      const all = [body];
      for (let page = 2; page <= body.pages; page++) all.push((await api.get(`/api/v1/discussions/communities?page=${page}`)).json());
      const items = all.flatMap((p) => p.items);
      expect(items).toHaveLength(body.total);
      const ours = items.filter((i: { title: string }) => i.title.startsWith(prefix));
      expect(ours).toEqual([
        { id: moderated.id, slug: moderated.slug, title: moderated.title, description: moderated.description, access: 'members', threadCount: 0, membership: 'moderator', url: `/communities/${moderated.slug}` },
        { id: none.id, slug: none.slug, title: none.title, description: none.description, access: 'members', threadCount: 0, membership: null, url: `/communities/${none.slug}` },
        { id: open.id, slug: open.slug, title: open.title, description: 'Open **to all**.', access: 'open', threadCount: 1, membership: 'member', url: `/communities/${open.slug}` },
        { id: asked.id, slug: asked.slug, title: asked.title, description: asked.description, access: 'members', threadCount: 0, membership: 'requested', url: `/communities/${asked.slug}` },
      ]);
      expect((await t.visitor().get('/api/v1/discussions/communities')).status).toBe(401);
      const bad = await api.get('/api/v1/discussions/communities?page=0');
      expect(bad.status).toBe(400);
      expect(bad.json().code).toBe('validation_failed');

      const doc = (await t.visitor().get('/api/docs/openapi.json')).json();
      const operation = doc.paths['/api/v1/discussions/communities'].get;
      expect(operation.operationId).toBe('listDiscussionCommunities');
      expect(operation.tags).toEqual(['discussions']);
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '503']));
      const schema = doc.components.schemas.DiscussionCommunityResponse;
      expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(ours[0]).sort());
      expect(schema.properties.membership).toMatchObject({ nullable: true, enum: ['requested', 'member', 'moderator'] });
    });
  });
});

import { DataSource } from 'typeorm';
import { ExchangeFile } from '../../src/exchange/entities/exchange-file.entity';
import { ExchangeItem } from '../../src/exchange/entities/exchange-item.entity';
import { ExchangeAdoption, ExchangeHelpfulVote, ExchangeSave } from '../../src/exchange/entities/exchange-signals.entity';
import { CHOOSE_ORGANISATION, NOTE_TOO_LONG } from '../../src/exchange/signals/signals.dto';
import { NOT_A_MEMBER, NOT_YOUR_ORGANISATION, OWN_ITEM_HELPFUL, OWN_ORGANISATION, PANEL_ADOPTIONS, SAVED_PER_PAGE } from '../../src/exchange/signals/signals.service';
import type { Organisation } from '../../src/organisations/entities/organisation.entity';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { usingRealEngines } from '../support/engines';
import { createItem } from '../support/exchange';
import { decodeHtml, formEntries, urlencoded } from '../support/html-forms';
import { addMember, createOrganisation } from '../support/organisations';

type Person = Visitor & { userId: number; email: string; password: string; api: Visitor };

const DAY = 86_400_000;
const ATTEMPTS = 20;

/** The visible text of a page fragment: tags dropped, references decoded, spaces collapsed. */
const text = (html: string) => decodeHtml(html.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
/** The signals panel of an item page. */
const panelOf = (html: string) => {
  const match = /<section[^>]*data-signals[\s\S]*?<\/section>/.exec(html);
  if (!match) throw new Error('the page has no signals panel');
  return match[0];
};

describe('exchange signals: helpful, saves, adoptions, My saved and usage', () => {
  let t: TestApp;
  let ds: DataSource;
  /** The organisation that shares the items; two that adopt them; one nobody in these tests belongs to. */
  let sharer: Organisation;
  let leeds: Organisation;
  let bradford: Organisation;
  let elsewhere: Organisation;
  let author: Person;

  const person = async (organisations: Array<Organisation | { organisation: Organisation; manager?: boolean; status?: 'active' | 'pending' | 'left' }> = [], role: 'learner' | 'moderator' | 'admin' = 'learner'): Promise<Person> => {
    const visitor = await t.signedIn(role);
    for (const entry of organisations) {
      const { organisation, manager, status } = 'organisation' in entry ? entry : { organisation: entry, manager: false, status: 'active' as const };
      await addMember(t, organisation.id, visitor.userId, { manager, status });
    }
    return Object.assign(visitor, { api: await t.apiClient(visitor.email, visitor.password) });
  };

  const published = (title?: string, options: { kind?: 'case_study' | 'tool' | 'hack'; publishedAt?: Date } = {}) =>
    createItem(t, { authorId: author.userId, organisationId: sharer.id, title, ...options });

  const counters = async (itemId: number) => {
    const item = await ds.getRepository(ExchangeItem).findOneByOrFail({ id: itemId });
    return { helpful: item.helpfulCount, saves: item.saveCount, adoptions: item.adoptionCount, downloads: item.downloadCount };
  };
  /** The counters and the rows they count, which must always agree. */
  const rowsAndCounters = async (itemId: number) => {
    const [helpful, saves, adoptions, counted] = await Promise.all([
      ds.getRepository(ExchangeHelpfulVote).countBy({ itemId }),
      ds.getRepository(ExchangeSave).countBy({ itemId }),
      ds.getRepository(ExchangeAdoption).countBy({ itemId }),
      counters(itemId),
    ]);
    expect({ helpful: counted.helpful, saves: counted.saves, adoptions: counted.adoptions }).toEqual({ helpful, saves, adoptions });
    return counted;
  };

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    sharer = await createOrganisation(t, { name: `Airedale NHS Foundation Trust ${process.pid}-${Date.now()}`, type: 'nhs_trust', region: 'north_east_yorkshire' });
    leeds = await createOrganisation(t, { name: `Leeds Community Healthcare ${process.pid}-${Date.now()}`, type: 'nhs_trust', region: 'north_east_yorkshire' });
    bradford = await createOrganisation(t, { name: `Bradford District Care ${process.pid}-${Date.now()}`, type: 'care_provider', region: 'north_west' });
    elsewhere = await createOrganisation(t, { name: `Somewhere Else ICB ${process.pid}-${Date.now()}`, type: 'icb', region: null });
    author = await person([sharer]);
  });
  afterAll(() => t?.close());

  describe('who may', () => {
    it('shows anonymous visitors the counts and a link to sign in, and sends them to sign in when they try', async () => {
      const item = await published('Virtual ward onboarding in a week');
      const anonymous = t.visitor();
      const page = await anonymous.get(`/exchange/${item.slug}`);
      expect(page.status).toBe(200);
      const panel = panelOf(page.body);
      expect(text(panel)).toContain('0 people found this helpful');
      expect(text(panel)).toContain('Adopted by 0 organisations');
      expect(decodeHtml(panel)).toContain(`href="/sign-in?next=${encodeURIComponent(`/exchange/${item.slug}`)}"`);
      expect(panel).not.toContain('<form');

      for (const path of ['helpful', 'helpful/remove', 'save', 'save/remove', 'adoption', 'adoption/remove']) {
        const answer = await anonymous.submit(`/exchange/${item.slug}/${path}`, { organisationId: String(leeds.id) });
        expect([path, answer.status, answer.headers.location]).toEqual([path, 303, '/sign-in']);
      }
      expect((await anonymous.get('/exchange/saved')).headers.location).toBe(`/sign-in?next=${encodeURIComponent('/exchange/saved')}`);
      expect((await anonymous.get(`/exchange/${item.slug}/adoption`)).status).toBe(303);
      expect((await anonymous.get(`/exchange/${item.slug}/usage`)).status).toBe(303);

      for (const [method, path] of [
        ['POST', 'helpful'],
        ['DELETE', 'helpful'],
        ['POST', 'saves'],
        ['DELETE', 'saves'],
        ['POST', 'adoptions'],
        ['DELETE', `adoptions/${leeds.id}`],
      ]) {
        const answer = await anonymous.request(method, `/api/v1/exchange/${item.slug}/${path}`, method === 'POST' ? { json: {} } : {});
        expect([method, path, answer.status, answer.headers['www-authenticate']]).toEqual([method, path, 401, 'Bearer realm="api"']);
      }
      expect(await rowsAndCounters(item.id)).toEqual({ helpful: 0, saves: 0, adoptions: 0, downloads: 0 });
    });

    it('answers 404 for drafts, items waiting for review, withdrawn items and unknown slugs, on pages and the API, and changes nothing', async () => {
      const reader = await person([leeds]);
      const draft = await createItem(t, { authorId: author.userId, organisationId: sharer.id, status: 'draft' });
      const submitted = await createItem(t, { authorId: author.userId, organisationId: sharer.id, status: 'submitted' });
      const withdrawn = await published();
      await ds.getRepository(ExchangeItem).update({ id: withdrawn.id }, { status: 'withdrawn' });
      for (const slug of [draft.slug, submitted.slug, withdrawn.slug, 'no-such-item-at-all', 'NOT%20A%20SLUG']) {
        for (const path of ['helpful', 'helpful/remove', 'save', 'save/remove', 'adoption', 'adoption/remove']) {
          await reader.get('/exchange/saved');
          const answer = await reader.submit(`/exchange/${slug}/${path}`, { organisationId: String(leeds.id) });
          expect([slug, path, answer.status]).toEqual([slug, path, 404]);
        }
        for (const path of ['adoption', 'adoptions']) expect([slug, path, (await reader.get(`/exchange/${slug}/${path}`)).status]).toEqual([slug, path, 404]);
        for (const [method, path] of [
          ['POST', 'helpful'],
          ['DELETE', 'helpful'],
          ['POST', 'saves'],
          ['DELETE', 'saves'],
          ['POST', 'adoptions'],
          ['DELETE', `adoptions/${leeds.id}`],
        ]) {
          const answer = await reader.api.request(method, `/api/v1/exchange/${slug}/${path}`, method === 'POST' ? { json: {} } : {});
          expect([slug, method, path, answer.status]).toEqual([slug, method, path, 404]);
          expect(answer.json().code).toBe('not_found');
        }
      }
      for (const item of [draft, submitted, withdrawn]) expect(await rowsAndCounters(item.id)).toEqual({ helpful: 0, saves: 0, adoptions: 0, downloads: 0 });
      // The author sees their draft, but it takes no signals either.
      expect((await author.api.request('POST', `/api/v1/exchange/${draft.slug}/saves`)).status).toBe(404);
    });

    it('refuses forms without their CSRF token', async () => {
      const item = await published();
      const reader = await person([leeds]);
      await reader.get(`/exchange/${item.slug}`);
      for (const path of ['helpful', 'save', 'adoption']) {
        const answer = await reader.submit(`/exchange/${item.slug}/${path}`, { organisationId: String(leeds.id) }, { withCsrf: false });
        expect([path, answer.status]).toEqual([path, 403]);
      }
      expect(await rowsAndCounters(item.id)).toEqual({ helpful: 0, saves: 0, adoptions: 0, downloads: 0 });
    });
  });

  describe('helpful', () => {
    it('marks and unmarks through the page’s own forms (no JavaScript), saying so, once however often it is pressed', async () => {
      const item = await published('Electronic observations rollout');
      const reader = await person([leeds]);
      const page = await reader.get(`/exchange/${item.slug}`);
      const panel = panelOf(page.body);
      expect(panel).toMatch(/aria-pressed="false" data-signal="helpful"/);
      expect(panel).toMatch(/aria-pressed="false" data-signal="save"/);

      // Pressing "Helpful" as a browser would: the form's own fields, CSRF token included.
      const marked = await reader.request('POST', `/exchange/${item.slug}/helpful`, {
        raw: urlencoded(formEntries(page.body, `/exchange/${item.slug}/helpful`)),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(marked.status).toBe(303);
      expect(marked.headers.location).toBe(`/exchange/${item.slug}?signal=helpful#signals`);
      const after = await reader.get(`/exchange/${item.slug}?signal=helpful`);
      const panelAfter = panelOf(after.body);
      expect(text(panelAfter)).toContain('You marked this as helpful. Thank you');
      expect(text(panelAfter)).toContain('1 person found this helpful');
      expect(panelAfter).toMatch(/action="\/exchange\/[^"]+\/helpful\/remove"/);
      expect(panelAfter).toMatch(/aria-pressed="true" data-signal="helpful"/);

      // Twice (a second tab, a double click): still one.
      expect((await reader.submit(`/exchange/${item.slug}/helpful`, {})).status).toBe(303);
      expect(await rowsAndCounters(item.id)).toMatchObject({ helpful: 1 });
      // Someone else's vote counts too; the other person does not see it as theirs.
      const other = await person();
      expect((await other.api.request('POST', `/api/v1/exchange/${item.slug}/helpful`)).status).toBe(201);
      expect(text(panelOf((await other.get(`/exchange/${item.slug}`)).body))).toContain('2 people found this helpful');
      expect(await rowsAndCounters(item.id)).toMatchObject({ helpful: 2 });

      const removed = await reader.submit(`/exchange/${item.slug}/helpful/remove`, {});
      expect(removed.headers.location).toBe(`/exchange/${item.slug}?signal=unhelpful#signals`);
      expect((await reader.submit(`/exchange/${item.slug}/helpful/remove`, {})).status).toBe(303);
      expect(await rowsAndCounters(item.id)).toMatchObject({ helpful: 1 });
      expect(panelOf((await reader.get(`/exchange/${item.slug}`)).body)).toMatch(/aria-pressed="false" data-signal="helpful"/);
    });

    it('answers the API 201 when marked, 200 when it already was, with the counts; DELETE 200 either way', async () => {
      const item = await published();
      const reader = await person([leeds]);
      const first = await reader.api.request('POST', `/api/v1/exchange/${item.slug}/helpful`);
      expect(first.status).toBe(201);
      expect(first.json()).toEqual({ slug: item.slug, helpful: true, counts: { helpful: 1, saves: 0, adoptions: 0, downloads: 0 } });
      const again = await reader.api.request('POST', `/api/v1/exchange/${item.slug}/helpful`);
      expect(again.status).toBe(200);
      expect(again.json()).toEqual({ slug: item.slug, helpful: true, counts: { helpful: 1, saves: 0, adoptions: 0, downloads: 0 } });
      const undone = await reader.api.request('DELETE', `/api/v1/exchange/${item.slug}/helpful`);
      expect(undone.status).toBe(200);
      expect(undone.json()).toEqual({ slug: item.slug, helpful: false, counts: { helpful: 0, saves: 0, adoptions: 0, downloads: 0 } });
      const undoneAgain = await reader.api.request('DELETE', `/api/v1/exchange/${item.slug}/helpful`);
      expect(undoneAgain.status).toBe(200);
      expect(undoneAgain.json().counts.helpful).toBe(0);
      expect(await rowsAndCounters(item.id)).toMatchObject({ helpful: 0 });
    });

    it('does not let an author mark their own contribution helpful, nor offers it', async () => {
      const item = await published();
      const answer = await author.api.request('POST', `/api/v1/exchange/${item.slug}/helpful`);
      expect(answer.status).toBe(409);
      expect(answer.json().detail).toBe(OWN_ITEM_HELPFUL);
      const page = await author.get(`/exchange/${item.slug}`);
      expect(panelOf(page.body)).not.toContain('data-signal="helpful"');
      expect(panelOf(page.body)).toContain('data-signal="save"');
      const form = await author.submit(`/exchange/${item.slug}/helpful`, {});
      expect(form.status).toBe(409);
      expect(decodeHtml(form.body)).toContain(OWN_ITEM_HELPFUL);
      expect(await rowsAndCounters(item.id)).toMatchObject({ helpful: 0 });
    });
  });

  describe('saves and My saved', () => {
    it('saves and unsaves, once each, on the page and the API', async () => {
      const item = await published('Bed management whiteboard');
      const reader = await person();
      const saved = await reader.submit(`/exchange/${item.slug}/save`, {});
      expect(saved.headers.location).toBe(`/exchange/${item.slug}?signal=saved#signals`);
      expect((await reader.submit(`/exchange/${item.slug}/save`, {})).status).toBe(303);
      const api = await reader.api.request('POST', `/api/v1/exchange/${item.slug}/saves`);
      expect(api.status).toBe(200);
      expect(api.json()).toEqual({ slug: item.slug, saved: true, counts: { helpful: 0, saves: 1, adoptions: 0, downloads: 0 } });
      const panel = panelOf((await reader.get(`/exchange/${item.slug}?signal=saved`)).body);
      expect(panel).toMatch(/aria-pressed="true" data-signal="save"/);
      expect(text(panel)).toContain('Saved. You can find it again in My saved.');
      expect(text(panel)).toContain('Saved by 1 person');
      expect(await rowsAndCounters(item.id)).toMatchObject({ saves: 1 });

      const removed = await reader.api.request('DELETE', `/api/v1/exchange/${item.slug}/saves`);
      expect(removed.status).toBe(200);
      expect(removed.json()).toEqual({ slug: item.slug, saved: false, counts: { helpful: 0, saves: 0, adoptions: 0, downloads: 0 } });
      expect((await reader.submit(`/exchange/${item.slug}/save/remove`, {})).headers.location).toBe(`/exchange/${item.slug}?signal=unsaved#signals`);
      const fresh = await reader.api.request('POST', `/api/v1/exchange/${item.slug}/saves`);
      expect(fresh.status).toBe(201);
      expect(await rowsAndCounters(item.id)).toMatchObject({ saves: 1 });
    });

    it('lists the person’s saved published items, newest saved first, a page at a time, each with its unsave button', async () => {
      const reader = await person();
      const stranger = await person();
      const items: ExchangeItem[] = [];
      for (let i = 0; i < SAVED_PER_PAGE + 2; i++) items.push(await published(`Saved item number ${String(i).padStart(2, '0')}`));
      const base = Date.now() - 30 * DAY;
      // Saved one a day apart, oldest first, through the API; then their times set apart so the order is certain.
      for (const [i, item] of items.entries()) {
        expect((await reader.api.request('POST', `/api/v1/exchange/${item.slug}/saves`)).status).toBe(201);
        await ds.getRepository(ExchangeSave).update({ itemId: item.id, userId: reader.userId }, { createdAt: new Date(base + i * DAY) });
      }
      await stranger.api.request('POST', `/api/v1/exchange/${items[0].slug}/saves`);
      // One is withdrawn after being saved: it no longer shows.
      await ds.getRepository(ExchangeItem).update({ id: items[5].id }, { status: 'withdrawn' });

      const first = await reader.get('/exchange/saved');
      expect(first.status).toBe(200);
      const slugs = [...first.body.matchAll(/data-saved="([^"]+)"/g)].map((m) => m[1]);
      const expected = [...items].reverse().filter((i) => i.id !== items[5].id).map((i) => i.slug);
      expect(slugs).toEqual(expected.slice(0, SAVED_PER_PAGE));
      expect(text(first.body)).toContain(`${SAVED_PER_PAGE + 1} saved: page 1 of 2`);
      expect(decodeHtml(first.body)).toContain('href="/exchange/saved?page=2"');
      expect(first.body.match(/action="\/exchange\/[^"]+\/save\/remove"/g)).toHaveLength(SAVED_PER_PAGE);
      const second = await reader.get('/exchange/saved?page=2');
      expect([...second.body.matchAll(/data-saved="([^"]+)"/g)].map((m) => m[1])).toEqual(expected.slice(SAVED_PER_PAGE));
      expect((await stranger.get('/exchange/saved')).body.match(/data-saved="/g)).toHaveLength(1);

      // Unsaving from page 2, as its form does: back to page 2 with a banner; page 2 is now empty, so the last page shows.
      const form = formEntries(second.body, `/exchange/${items[0].slug}/save/remove`);
      expect(form).toEqual(expect.arrayContaining([['from', 'saved'], ['page', '2']]));
      const unsaved = await reader.request('POST', `/exchange/${items[0].slug}/save/remove`, { raw: urlencoded(form), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(unsaved.headers.location).toBe('/exchange/saved?page=2&notice=unsaved');
      const back = await reader.get(unsaved.headers.location as string);
      expect(back.status).toBe(200);
      expect(text(back.body)).toContain('Removed from My saved.');
      expect(back.body).not.toContain(`data-saved="${items[0].slug}"`);
      expect(await rowsAndCounters(items[0].id)).toMatchObject({ saves: 1 });

      expect((await reader.get('/exchange/saved?page=0')).status).toBe(400);
      expect((await reader.get('/exchange/saved?page=abc')).status).toBe(400);
      const empty = await (await person()).get('/exchange/saved');
      expect(empty.body).toContain('data-saved-empty');
    });
  });

  describe('adoptions', () => {
    it('refuses someone who belongs to no organisation, with a clear message, on the form, its POST and the API', async () => {
      const item = await published();
      const outsider = await person([{ organisation: leeds, status: 'pending' }]);
      const form = await outsider.get(`/exchange/${item.slug}/adoption`);
      expect(form.status).toBe(200);
      expect(form.body).toContain('data-refusal');
      expect(decodeHtml(form.body)).toContain(NOT_A_MEMBER);
      expect(form.body).not.toContain(`action="/exchange/${item.slug}/adoption"`);
      const posted = await outsider.submit(`/exchange/${item.slug}/adoption`, { organisationId: String(leeds.id), note: 'We use it' });
      expect(posted.status).toBe(403);
      expect(decodeHtml(posted.body)).toContain(NOT_A_MEMBER);
      const api = await outsider.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { organisationId: leeds.id } });
      expect(api.status).toBe(403);
      expect(api.json()).toMatchObject({ code: 'not_a_member', detail: NOT_A_MEMBER });
      const panel = panelOf((await outsider.get(`/exchange/${item.slug}`)).body);
      expect(panel).not.toContain('data-adopt-link');
      expect(text(panel)).toContain('Members of an organisation can record that it adopted this');
      expect(await rowsAndCounters(item.id)).toMatchObject({ adoptions: 0 });
    });

    it('refuses an organisation the person is not an active member of, and the organisation that shared it', async () => {
      const item = await published();
      const member = await person([leeds, { organisation: bradford, status: 'left' }]);
      for (const organisationId of [elsewhere.id, bradford.id, 99_999_999]) {
        const answer = await member.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { organisationId } });
        expect([organisationId, answer.status, answer.json().detail]).toEqual([organisationId, 403, NOT_YOUR_ORGANISATION]);
      }
      const forged = await member.submit(`/exchange/${item.slug}/adoption`, { organisationId: String(elsewhere.id) });
      expect(forged.status).toBe(403);
      expect(decodeHtml(forged.body)).toContain(NOT_YOUR_ORGANISATION);

      // The sharing organisation's own people: "adopted" means another organisation took it up.
      const colleague = await person([sharer]);
      const own = await colleague.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: {} });
      expect(own.status).toBe(409);
      expect(own.json().detail).toBe(OWN_ORGANISATION);
      expect((await colleague.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { organisationId: sharer.id } })).status).toBe(409);
      const ownForm = await colleague.get(`/exchange/${item.slug}/adoption`);
      expect(decodeHtml(ownForm.body)).toContain(OWN_ORGANISATION);
      expect(panelOf((await colleague.get(`/exchange/${item.slug}`)).body)).not.toContain('data-adopt-link');
      expect(await rowsAndCounters(item.id)).toMatchObject({ adoptions: 0 });
    });

    it('records one adoption per organisation: 201, then 200 with the same note unchanged or a new note replacing it', async () => {
      const item = await published();
      const member = await person([leeds]);
      const created = await member.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { note: 'Adapted for our district nurses' } });
      expect(created.status).toBe(201);
      const body = created.json();
      expect(body).toEqual({
        slug: item.slug,
        organisationId: leeds.id,
        adopted: true,
        adoption: { organisationId: leeds.id, organisationName: leeds.name, note: 'Adapted for our district nurses', createdAt: expect.any(String), updatedAt: expect.any(String) },
        counts: { helpful: 0, saves: 0, adoptions: 1, downloads: 0 },
      });
      const same = await member.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { organisationId: leeds.id, note: 'Adapted for our district nurses' } });
      expect(same.status).toBe(200);
      expect(same.json().adoption).toEqual(body.adoption);
      // A colleague at the same organisation says it again with a new note: still one adoption, the note replaced.
      const colleague = await person([leeds]);
      const changed = await colleague.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { note: 'Now used by every community team' } });
      expect(changed.status).toBe(200);
      expect(changed.json().adoption).toMatchObject({ note: 'Now used by every community team', createdAt: body.adoption.createdAt });
      expect(changed.json().counts.adoptions).toBe(1);
      const rows = await ds.getRepository(ExchangeAdoption).findBy({ itemId: item.id });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ organisationId: leeds.id, recordedById: colleague.userId, note: 'Now used by every community team' });
      // Null or empty removes the note.
      const cleared = await member.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { note: null } });
      expect([cleared.status, cleared.json().adoption.note]).toEqual([200, null]);
      expect(await rowsAndCounters(item.id)).toMatchObject({ adoptions: 1 });
    });

    it('asks someone in several organisations which one, and checks the note', async () => {
      const item = await published();
      const member = await person([leeds, bradford]);
      const unnamed = await member.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { note: 'x' } });
      expect(unnamed.status).toBe(400);
      expect(unnamed.json()).toMatchObject({ code: 'validation_failed', errors: { organisationId: CHOOSE_ORGANISATION } });
      const long = await member.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { organisationId: leeds.id, note: 'n'.repeat(501) } });
      expect(long.status).toBe(400);
      expect(long.json().errors.note).toBe('note must be 500 characters or fewer');
      const wrongType = await member.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { organisationId: 'leeds' } });
      expect(wrongType.status).toBe(400);
      const unknownField = await member.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { organisationId: leeds.id, recordedById: 1 } });
      expect(unknownField.status).toBe(400);

      // The form: both organisations as radios; nothing chosen re-shows the form with the error, the note kept.
      const form = await member.get(`/exchange/${item.slug}/adoption`);
      expect(form.body).toContain(`value="${leeds.id}"`);
      expect(form.body).toContain(`value="${bradford.id}"`);
      expect(form.body).toContain('type="radio"');
      const none = await member.submit(`/exchange/${item.slug}/adoption`, { note: 'Our notes here' });
      expect(none.status).toBe(400);
      expect(decodeHtml(none.body)).toContain(CHOOSE_ORGANISATION);
      expect(none.body).toContain('href="#organisationId"');
      expect(none.body).toContain('Our notes here');
      const tooLong = await member.submit(`/exchange/${item.slug}/adoption`, { organisationId: String(bradford.id), note: 'n'.repeat(501) });
      expect(tooLong.status).toBe(400);
      expect(decodeHtml(tooLong.body)).toContain(NOTE_TOO_LONG);
      expect(tooLong.body).toMatch(new RegExp(`value="${bradford.id}" checked`));
      expect(await rowsAndCounters(item.id)).toMatchObject({ adoptions: 0 });

      // Chosen: recorded for that one, shown under "Adopted by" with its type, region and (sanitised) note.
      const recorded = await member.submit(`/exchange/${item.slug}/adoption`, { organisationId: String(bradford.id), note: 'We **adapted** it <script>alert(1)</script>' });
      expect(recorded.status).toBe(303);
      expect(recorded.headers.location).toBe(`/exchange/${item.slug}?signal=adopted#signals`);
      const page = await member.get(`/exchange/${item.slug}?signal=adopted`);
      const panel = panelOf(page.body);
      expect(text(panel)).toContain('Your organisation’s adoption is recorded.');
      expect(text(panel)).toContain('Adopted by 1 organisation');
      expect(panel).toContain(`data-adopter="${bradford.id}"`);
      expect(text(panel)).toContain('Care provider, North West');
      expect(panel).toContain('<strong>adapted</strong>');
      expect(panel).not.toContain('<script>');
      expect(panel).toContain(`data-own-adoption="${bradford.id}"`);
      // Leeds has not adopted it yet, so the button is still offered.
      expect(panel).toContain('data-adopt-link');

      // Changing the note through the form, pre-filled for that organisation.
      const change = await member.get(`/exchange/${item.slug}/adoption?organisationId=${bradford.id}`);
      expect(change.body).toContain('Save the note');
      expect(decodeHtml(change.body)).toContain('We **adapted** it <script>alert(1)</script>');
      const updated = await member.submit(`/exchange/${item.slug}/adoption`, { organisationId: String(bradford.id), note: 'Rolled out to all wards' });
      expect(updated.headers.location).toBe(`/exchange/${item.slug}?signal=adoption_updated#signals`);
      const unchanged = await member.submit(`/exchange/${item.slug}/adoption`, { organisationId: String(bradford.id), note: 'Rolled out to all wards' });
      expect(unchanged.headers.location).toBe(`/exchange/${item.slug}?signal=adoption_unchanged#signals`);
      expect(await rowsAndCounters(item.id)).toMatchObject({ adoptions: 1 });
    });

    it('lets any active member of the organisation withdraw its adoption, and nobody else', async () => {
      const item = await published();
      const recorder = await person([leeds]);
      const colleague = await person([leeds]);
      const stranger = await person([bradford]);
      expect((await recorder.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: {} })).status).toBe(201);

      const refused = await stranger.api.request('DELETE', `/api/v1/exchange/${item.slug}/adoptions/${leeds.id}`);
      expect(refused.status).toBe(403);
      expect(refused.json().detail).toBe(NOT_YOUR_ORGANISATION);
      expect((await stranger.submit(`/exchange/${item.slug}/adoption/remove`, { organisationId: String(leeds.id) })).status).toBe(403);
      expect((await stranger.api.request('DELETE', `/api/v1/exchange/${item.slug}/adoptions/leeds`)).status).toBe(404);
      expect(await rowsAndCounters(item.id)).toMatchObject({ adoptions: 1 });

      // The colleague withdraws it with the panel's own form.
      const page = await colleague.get(`/exchange/${item.slug}`);
      const form = formEntries(page.body, `/exchange/${item.slug}/adoption/remove`);
      expect(form).toEqual(expect.arrayContaining([['organisationId', String(leeds.id)]]));
      const withdrawn = await colleague.request('POST', `/exchange/${item.slug}/adoption/remove`, { raw: urlencoded(form), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(withdrawn.headers.location).toBe(`/exchange/${item.slug}?signal=adoption_withdrawn#signals`);
      expect(await rowsAndCounters(item.id)).toMatchObject({ adoptions: 0 });
      const again = await recorder.api.request('DELETE', `/api/v1/exchange/${item.slug}/adoptions/${leeds.id}`);
      expect(again.status).toBe(200);
      expect(again.json()).toEqual({ slug: item.slug, organisationId: leeds.id, adopted: false, adoption: null, counts: { helpful: 0, saves: 0, adoptions: 0, downloads: 0 } });
      expect(await rowsAndCounters(item.id)).toMatchObject({ adoptions: 0 });
    });

    it('shows the latest adopters on the item, newest first, with a link to all of them on a page of their own', async () => {
      const item = await published();
      const names: string[] = [];
      for (let i = 0; i < PANEL_ADOPTIONS + 2; i++) {
        const organisation = await createOrganisation(t, { name: `Adopter ${i} ${process.pid}-${Date.now()}` });
        const member = await person([organisation]);
        expect((await member.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { note: `Note from adopter ${i}` } })).status).toBe(201);
        await ds.getRepository(ExchangeAdoption).update({ itemId: item.id, organisationId: organisation.id }, { createdAt: new Date(Date.now() - (10 - i) * DAY) });
        names.push(organisation.name);
      }
      const newestFirst = [...names].reverse();
      const panel = panelOf((await t.visitor().get(`/exchange/${item.slug}`)).body);
      const shown = [...panel.matchAll(/data-adopter="\d+">\s*<strong>([^<]+)<\/strong>/g)].map((m) => decodeHtml(m[1]));
      expect(shown).toEqual(newestFirst.slice(0, PANEL_ADOPTIONS));
      expect(text(panel)).toContain(`See all ${PANEL_ADOPTIONS + 2} organisations that adopted this`);
      expect(panel).toContain(`href="/exchange/${item.slug}/adoptions"`);
      const all = await t.visitor().get(`/exchange/${item.slug}/adoptions`);
      expect(all.status).toBe(200);
      const listed = [...all.body.matchAll(/<h2 class="nhsuk-card__heading nhsuk-heading-s">([^<]+)<\/h2>/g)].map((m) => decodeHtml(m[1]));
      expect(listed).toEqual(newestFirst);
      expect(text(all.body)).toContain('Note from adopter 0');
    });
  });

  describe('many at once', () => {
    let crowd: Person[];
    let theirOrganisations: Organisation[];
    beforeAll(async () => {
      crowd = [];
      theirOrganisations = [];
      for (let i = 0; i < ATTEMPTS; i++) {
        const organisation = await createOrganisation(t);
        theirOrganisations.push(organisation);
        crowd.push(await person([organisation]));
      }
    });

    it(`keeps one row and an exact count when one person sends the same signal ${ATTEMPTS} times at once`, async () => {
      const item = await published();
      const [someone] = crowd;
      for (const path of ['helpful', 'saves', 'adoptions']) {
        const answers = await Promise.all(Array.from({ length: ATTEMPTS }, () => someone.api.request('POST', `/api/v1/exchange/${item.slug}/${path}`, path === 'adoptions' ? { json: { note: 'Same note' } } : {})));
        const statuses = answers.map((a) => a.status).sort((a, b) => a - b);
        expect([path, statuses]).toEqual([path, [...Array(ATTEMPTS - 1).fill(200), 201]]);
        expect(answers.every((a) => a.json().counts[path === 'saves' ? 'saves' : path] === 1)).toBe(true);
      }
      expect(await rowsAndCounters(item.id)).toEqual({ helpful: 1, saves: 1, adoptions: 1, downloads: 0 });
      const undo = await Promise.all([
        ...Array.from({ length: ATTEMPTS }, () => someone.api.request('DELETE', `/api/v1/exchange/${item.slug}/helpful`)),
        ...Array.from({ length: ATTEMPTS }, () => someone.api.request('DELETE', `/api/v1/exchange/${item.slug}/saves`)),
        ...Array.from({ length: ATTEMPTS }, () => someone.api.request('DELETE', `/api/v1/exchange/${item.slug}/adoptions/${theirOrganisations[0].id}`)),
      ]);
      expect(undo.map((a) => a.status)).toEqual(Array(3 * ATTEMPTS).fill(200));
      expect(undo.every((a) => a.json().counts.helpful === 0 || a.json().counts.saves === 0 || a.json().counts.adoptions === 0)).toBe(true);
      expect(await rowsAndCounters(item.id)).toEqual({ helpful: 0, saves: 0, adoptions: 0, downloads: 0 });
    });

    it(`counts ${ATTEMPTS} different people (and organisations) signalling at once exactly`, async () => {
      const item = await published();
      const answers = await Promise.all(
        crowd.flatMap((p) => [
          p.api.request('POST', `/api/v1/exchange/${item.slug}/helpful`),
          p.api.request('POST', `/api/v1/exchange/${item.slug}/saves`),
          p.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { note: `From ${p.email}` } }),
        ]),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(3 * ATTEMPTS).fill(201));
      expect(await rowsAndCounters(item.id)).toEqual({ helpful: ATTEMPTS, saves: ATTEMPTS, adoptions: ATTEMPTS, downloads: 0 });
      // And all of it taken back at once, mixed with the same again: the counts follow the rows.
      const back = await Promise.all(
        crowd.flatMap((p, i) => [
          p.api.request('DELETE', `/api/v1/exchange/${item.slug}/helpful`),
          p.api.request(i % 2 ? 'DELETE' : 'POST', `/api/v1/exchange/${item.slug}/saves`),
          p.api.request('POST', `/api/v1/exchange/${item.slug}/helpful`),
        ]),
      );
      expect(back.every((a) => a.status === 200 || a.status === 201)).toBe(true);
      const final = await rowsAndCounters(item.id);
      expect(final.saves).toBe(ATTEMPTS / 2);
      expect(final.adoptions).toBe(ATTEMPTS);
    });

    it('runs on the engines the environment names', () => {
      expect(t.engines.kind).toBe(usingRealEngines() ? 'mysql+redis' : 'embedded');
    });
  });

  describe('usage, for authors', () => {
    it('shows the author, their organisation’s managers, moderators and admins how it is used, and 404 to anyone else', async () => {
      const item = await published('Patient flow tool', { kind: 'tool', publishedAt: new Date(Date.now() - 70 * DAY) });
      const files = ds.getRepository(ExchangeFile);
      for (const [version, downloads] of [
        [1, 7],
        [2, 3],
      ]) {
        await files.insert({ itemId: item.id, role: 'tool', version, storageKey: `exchange/${item.id}/v${version}`, fileName: `flow-v${version}.xlsx`, contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', bytes: 100, sha256: 'a'.repeat(64), uploadedById: author.userId, downloadCount: downloads, createdAt: new Date() });
      }
      await ds.getRepository(ExchangeItem).update({ id: item.id }, { downloadCount: 10 });
      const leedsMember = await person([leeds]);
      const bradfordMember = await person([bradford]);
      expect((await leedsMember.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: { note: 'Used on the **acute** wards' } })).status).toBe(201);
      expect((await bradfordMember.api.request('POST', `/api/v1/exchange/${item.slug}/adoptions`, { json: {} })).status).toBe(201);
      await leedsMember.api.request('POST', `/api/v1/exchange/${item.slug}/helpful`);
      await bradfordMember.api.request('POST', `/api/v1/exchange/${item.slug}/saves`);
      // Leeds adopted it two months ago.
      await ds.getRepository(ExchangeAdoption).update({ itemId: item.id, organisationId: leeds.id }, { createdAt: new Date(Date.now() - 62 * DAY) });

      const manager = await person([{ organisation: sharer, manager: true }]);
      const moderator = await person([], 'moderator');
      const admin = await person([], 'admin');
      for (const viewer of [author, manager, moderator, admin]) {
        const page = await viewer.get(`/exchange/${item.slug}/usage`);
        expect(page.status).toBe(200);
        const body = text(page.body);
        expect(page.body).toContain('data-count="helpful">1 person');
        expect(page.body).toContain('data-count="saves">1 person');
        expect(page.body).toContain('data-count="adoptions">2 organisations');
        expect(page.body).toContain('data-count="downloads">10');
        expect(body).toContain('1 flow-v1.xlsx');
        expect(page.body).toMatch(/data-version="1">[\s\S]*?>7<\/td>/);
        expect(page.body).toMatch(/data-version="2">[\s\S]*?>3<\/td>/);
        expect(page.body).toMatch(new RegExp(`data-adopter="${leeds.id}">[\\s\\S]*?NHS trust[\\s\\S]*?North East and Yorkshire[\\s\\S]*?<strong>acute</strong>`));
        expect(page.body).toMatch(new RegExp(`data-adopter="${bradford.id}">[\\s\\S]*?Care provider[\\s\\S]*?North West[\\s\\S]*?No note`));
        // The chart and its table: the months since publishing, with one adoption two months ago and one this month.
        expect(page.body).toContain('<svg');
        expect(page.body).toContain('role="img"');
        const rows = [...page.body.matchAll(/<th scope="row" class="nhsuk-table__header">([A-Z][a-z]{2} \d{4})<\/th>\s*<td class="nhsuk-table__cell nhsuk-table__cell--numeric">(\d+)<\/td>/g)].map((m) => [m[1], Number(m[2])]);
        expect(rows.length).toBeGreaterThanOrEqual(3);
        expect(rows.reduce((sum, [, n]) => sum + (n as number), 0)).toBe(2);
        expect(rows[rows.length - 1][1]).toBe(1);
      }
      // My contributions links each item to its usage page; the panel links there for those who may see it, not for others.
      expect((await author.get('/exchange/mine')).body).toContain(`href="/exchange/${item.slug}/usage"`);
      expect(panelOf((await author.get(`/exchange/${item.slug}`)).body)).toContain('data-usage-link');
      expect(panelOf((await manager.get(`/exchange/${item.slug}`)).body)).toContain('data-usage-link');
      expect(panelOf((await leedsMember.get(`/exchange/${item.slug}`)).body)).not.toContain('data-usage-link');

      const plainColleague = await person([sharer]);
      const otherManager = await person([{ organisation: leeds, manager: true }]);
      const formerManager = await person([{ organisation: sharer, manager: true }]);
      await addMember(t, sharer.id, formerManager.userId, { manager: true, status: 'left' });
      for (const viewer of [plainColleague, otherManager, formerManager, leedsMember]) expect((await viewer.get(`/exchange/${item.slug}/usage`)).status).toBe(404);
      expect((await author.get('/exchange/no-such-item/usage')).status).toBe(404);

      // A draft's usage is its author's to see too (there is nothing yet).
      const draft = await createItem(t, { authorId: author.userId, organisationId: sharer.id, status: 'draft' });
      expect((await author.get(`/exchange/${draft.slug}/usage`)).status).toBe(200);
      expect((await leedsMember.get(`/exchange/${draft.slug}/usage`)).status).toBe(404);
    });
  });

  describe('personal data', () => {
    it('exports the person’s votes, saves and the adoptions they recorded; erasing deletes votes and saves and keeps the adoption as the organisation’s', async () => {
      const first = await published('First item for personal data');
      const second = await published('Second item for personal data');
      const leaving = await person([leeds]);
      const staying = await person([bradford]);
      for (const p of [leaving, staying]) {
        await p.api.request('POST', `/api/v1/exchange/${first.slug}/helpful`);
        await p.api.request('POST', `/api/v1/exchange/${second.slug}/saves`);
        await p.api.request('POST', `/api/v1/exchange/${first.slug}/adoptions`, { json: { note: `Note by ${p.email}` } });
      }
      await leaving.api.request('POST', `/api/v1/exchange/${second.slug}/helpful`);

      const document = (await leaving.api.get('/api/v1/me/data')).json();
      const section = document.sections.exchangeSignals;
      expect(section.helpful.map((v: { item: { slug: string } }) => v.item.slug).sort()).toEqual([first.slug, second.slug].sort());
      expect(section.saved).toEqual([{ item: { slug: second.slug, kind: 'case_study', title: 'Second item for personal data', status: 'published' }, savedAt: expect.any(String) }]);
      expect(section.adoptionsRecorded).toEqual([
        { item: expect.objectContaining({ slug: first.slug }), organisation: { id: leeds.id, name: leeds.name }, note: `Note by ${leaving.email}`, recordedAt: expect.any(String), updatedAt: expect.any(String) },
      ]);
      expect(JSON.stringify(section)).not.toContain(staying.email);

      await leaving.get('/account/delete');
      const deleted = await leaving.submit('/account/delete', { certificates: 'keep', password: leaving.password });
      expect(deleted.status).toBe(303);
      expect(await ds.getRepository(ExchangeHelpfulVote).countBy({ userId: leaving.userId })).toBe(0);
      expect(await ds.getRepository(ExchangeSave).countBy({ userId: leaving.userId })).toBe(0);
      expect(await rowsAndCounters(first.id)).toEqual({ helpful: 1, saves: 0, adoptions: 2, downloads: 0 });
      expect(await rowsAndCounters(second.id)).toEqual({ helpful: 0, saves: 1, adoptions: 0, downloads: 0 });
      const kept = await ds.getRepository(ExchangeAdoption).findOneByOrFail({ itemId: first.id, organisationId: leeds.id });
      expect(kept).toMatchObject({ recordedById: null, note: `Note by ${leaving.email}` });
      expect(await ds.getRepository(ExchangeAdoption).findOneByOrFail({ itemId: first.id, organisationId: bradford.id })).toMatchObject({ recordedById: staying.userId });
      // The organisation's adoption still shows on the item.
      expect(panelOf((await t.visitor().get(`/exchange/${first.slug}`)).body)).toContain(`data-adopter="${leeds.id}"`);
    });
  });
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import { ExchangeFile } from '../../src/exchange/entities/exchange-file.entity';
import { ExchangeItem } from '../../src/exchange/entities/exchange-item.entity';
import { ExchangeRevisionFile } from '../../src/exchange/entities/exchange-revision-file.entity';
import { ExchangeRevision } from '../../src/exchange/entities/exchange-revision.entity';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { topic } from '../support/courses';
import { createSystem } from '../support/exchange';
import { publishLatest, returnLatest } from '../support/exchange-publishing';
import { formEntries, urlencoded, type FormEntries } from '../support/html-forms';
import { addMember, createOrganisation } from '../support/organisations';

const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(1500, 0x20)]);

/** What happens after writing: revisions of a published item, feedback, withdrawing, the review date, My contributions, the API and personal data. */
describe('exchange contributions: revisions, withdrawing, review dates, the API and personal data', () => {
  let t: TestApp;
  let topicIds: number[];
  let system: { id: number; slug: string };
  let organisation: { id: number; name: string };
  let partner: { id: number; name: string };
  const ds = () => t.app.get(DataSource);
  const item = (slug: string) => ds().getRepository(ExchangeItem).findOneByOrFail({ slug });
  const revisionsOf = async (slug: string) => ds().getRepository(ExchangeRevision).find({ where: { itemId: (await item(slug)).id }, order: { number: 'ASC' } });

  beforeAll(async () => {
    t = await startTestApp();
    topicIds = [(await topic(t, 'Revisions topic one')).id, (await topic(t, 'Revisions topic two')).id];
    system = await createSystem(t, { name: 'SystmOne', supplier: 'TPP', category: 'gp_clinical' });
    organisation = await createOrganisation(t, { name: `Revisions Trust ${process.pid}`, type: 'nhs_trust', region: 'midlands' });
    partner = await createOrganisation(t, { name: `Revisions Partner ${process.pid}`, type: 'icb', region: 'london' });
  });
  afterAll(() => t?.close());

  const member = async () => {
    const person = await t.signedIn();
    await addMember(t, organisation.id, person.userId);
    return person;
  };
  const fill = (entries: FormEntries, fields: Record<string, string | string[]>): FormEntries => [...entries.filter(([name]) => !(name in fields)), ...Object.entries(fields).flatMap(([name, v]) => [v].flat().map((one) => [name, one] as [string, string]))];
  const post = (who: Visitor, action: string, entries: FormEntries) => who.request('POST', action, { raw: urlencoded(entries), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const saveForm = async (who: Visitor, slug: string, fields: Record<string, string | string[]> = {}) => {
    const page = await who.get(`/exchange/${slug}/edit`);
    expect(page.status).toBe(200);
    return post(who, `/exchange/${slug}/edit`, fill(formEntries(page.body, `/exchange/${slug}/edit`), fields));
  };
  const caseStudy = async (who: Visitor, title: string) => {
    const page = await who.get('/exchange/new/case-study');
    const made = await post(
      who,
      '/exchange/new/case-study',
      fill(formEntries(page.body, '/exchange/new/case-study'), {
        title,
        summary: 'The first summary.',
        partners: partner.name,
        careSetting: 'primary_care',
        context: 'Context\r\n\r\n- with a list  \r\n  and a hard break',
        actions: 'What was done.',
        results: 'It worked.',
        'figureLabel-1': 'Days to send a letter',
        'figureBefore-1': '3',
        'figureAfter-1': '1',
        'figureUnit-1': 'days',
        lessons: 'Lessons.',
        systems: String(system.id),
        topics: String(topicIds[0]),
      }),
    );
    expect(made.status).toBe(303);
    return /^\/exchange\/([a-z0-9-]+)\?/.exec(String(made.headers.location))![1];
  };

  it('edits a published item as revision 2 while revision 1 stays public; saving unchanged, twice, changes nothing', async () => {
    const author = await member();
    const slug = await caseStudy(author, 'Letters in a day');
    await author.get(`/exchange/${slug}/attachments`);
    expect((await author.upload(`/exchange/${slug}/attachments`, [{ name: 'file', filename: 'evidence.pdf', content: PDF }])).status).toBe(303);
    // A draft saved unchanged, twice: nothing changes, not even its date.
    const draftBefore = (await revisionsOf(slug))[0];
    for (let i = 0; i < 2; i++) {
      const unchanged = await saveForm(author, slug);
      expect(unchanged.headers.location).toBe(`/exchange/${slug}?notice=unchanged`);
    }
    expect((await revisionsOf(slug))[0]).toEqual(draftBefore);

    const published = await publishLatest(t, slug);
    const before = await revisionsOf(slug);
    expect(before.map((r) => [r.number, r.status])).toEqual([[1, 'published']]);
    for (let i = 0; i < 2; i++) {
      const unchanged = await saveForm(author, slug);
      expect(unchanged.status).toBe(303);
      expect(unchanged.headers.location).toBe(`/exchange/${slug}?notice=unchanged`);
    }
    expect(await revisionsOf(slug)).toEqual(before);
    expect(await item(slug)).toEqual(published);

    const changed = await saveForm(author, slug, { summary: 'The second summary.', changeNote: 'Newer figures' });
    expect(changed.headers.location).toBe(`/exchange/${slug}?revision=latest&notice=revision`);
    const after = await revisionsOf(slug);
    expect(after.map((r) => [r.number, r.status, r.summary])).toEqual([
      [1, 'published', 'The first summary.'],
      [2, 'draft', 'The second summary.'],
    ]);
    expect(after[1]).toMatchObject({ changeNote: 'Newer figures', context: after[0].context, keyFigures: after[0].keyFigures, partnerOrganisationIds: after[0].partnerOrganisationIds, authorId: author.userId });
    const links = await ds().getRepository(ExchangeRevisionFile).find({ where: { revisionId: after[1].id } });
    expect(links.map((l) => l.fileId)).toEqual((await ds().getRepository(ExchangeRevisionFile).find({ where: { revisionId: after[0].id } })).map((l) => l.fileId));
    expect(await item(slug)).toMatchObject({ status: 'published', publishedRevisionId: after[0].id, latestRevisionId: after[1].id, summary: 'The first summary.' });

    // Saved again with the same change, twice: still revision 2, untouched.
    for (let i = 0; i < 2; i++) expect((await saveForm(author, slug)).headers.location).toBe(`/exchange/${slug}?notice=unchanged`);
    expect(await revisionsOf(slug)).toEqual(after);

    const anonymous = t.visitor();
    const publicPage = await anonymous.get(`/exchange/${slug}`);
    expect(publicPage.body).toContain('The first summary.');
    expect(publicPage.body).not.toContain('The second summary.');
    expect(publicPage.body).not.toContain('data-item-status');
    expect((await anonymous.get(`/exchange/${slug}?revision=latest`)).body).not.toContain('The second summary.');
    expect((await anonymous.get(`/api/v1/exchange/${slug}`)).json().summary).toBe('The first summary.');
    const authorsPage = await author.get(`/exchange/${slug}`);
    expect(authorsPage.body).toContain('A newer revision is being written');
    expect(authorsPage.body).toContain(`href="/exchange/${slug}?revision&#x3D;latest"`);
    const latest = await author.get(`/exchange/${slug}?revision=latest`);
    expect(latest.body).toContain('The second summary.');
    expect(latest.body).toContain('Newer figures');
    // Only one unpublished revision: submitting it and then a moderator's return keeps it revision 2.
    await author.get(`/exchange/${slug}?revision=latest`);
    expect((await author.submit(`/exchange/${slug}/submit`, {})).headers.location).toBe(`/exchange/${slug}?revision=latest&notice=submitted`);
    expect((await author.get(`/exchange/${slug}`)).body).toContain('A newer revision is under review');
    expect((await item(slug)).status).toBe('published');
  });

  it('makes one revision 2 when the same change is saved three times at once, and one attachment each when two are added at once', async () => {
    const author = await member();
    const slug = await caseStudy(author, 'Saved at once');
    await publishLatest(t, slug);
    const page = await author.get(`/exchange/${slug}/edit`);
    const entries = fill(formEntries(page.body, `/exchange/${slug}/edit`), { lessons: 'Changed lessons.' });
    const answers = await Promise.all([post(author, `/exchange/${slug}/edit`, entries), post(author, `/exchange/${slug}/edit`, entries), post(author, `/exchange/${slug}/edit`, entries)]);
    expect(answers.map((a) => a.status)).toEqual([303, 303, 303]);
    expect(answers.map((a) => String(a.headers.location).replace(/.*notice=/, '')).sort()).toEqual(['revision', 'unchanged', 'unchanged']);
    const revisions = await revisionsOf(slug);
    expect(revisions.map((r) => [r.number, r.status, r.lessons])).toEqual([
      [1, 'published', 'Lessons.'],
      [2, 'draft', 'Changed lessons.'],
    ]);
    await author.get(`/exchange/${slug}/attachments`);
    const adds = await Promise.all(['a.pdf', 'b.pdf'].map((name) => author.upload(`/exchange/${slug}/attachments`, [{ name: 'file', filename: name, content: PDF }])));
    expect(adds.map((a) => a.status)).toEqual([303, 303]);
    const links = await ds().getRepository(ExchangeRevisionFile).find({ where: { revisionId: revisions[1].id }, order: { position: 'ASC' } });
    expect(links).toHaveLength(2);
    expect(new Set(links.map((l) => l.position)).size).toBe(2);
    expect(await revisionsOf(slug)).toHaveLength(2);
  });

  it('shows a returned revision’s feedback at the top of the edit page and on the item page, to the author', async () => {
    const author = await member();
    const slug = await caseStudy(author, 'Returned once');
    await author.get(`/exchange/${slug}`);
    expect((await author.submit(`/exchange/${slug}/submit`, {})).status).toBe(303);
    await returnLatest(t, slug, 'Please remove the **ward names**.');
    const edit = await author.get(`/exchange/${slug}/edit`);
    expect(edit.body).toContain('data-feedback');
    expect(edit.body).toContain('Please remove the <strong>ward names</strong>.');
    expect(edit.body.indexOf('data-feedback')).toBeLessThan(edit.body.indexOf('<h1'));
    const page = await author.get(`/exchange/${slug}`);
    expect(page.body).toContain('Please remove the <strong>ward names</strong>.');
    // Changed in place (still revision 1, still returned) and submitted again.
    expect((await saveForm(author, slug, { results: 'It worked, without ward names.' })).headers.location).toBe(`/exchange/${slug}?notice=saved`);
    const [revision] = await revisionsOf(slug);
    expect(revision).toMatchObject({ number: 1, status: 'returned', results: 'It worked, without ward names.' });
    await author.get(`/exchange/${slug}`);
    expect((await author.submit(`/exchange/${slug}/submit`, {})).status).toBe(303);
    expect(await item(slug)).toMatchObject({ status: 'submitted' });
  });

  it('withdraws after a confirmation page: 404 to the public from then on; withdrawing twice is once', async () => {
    const author = await member();
    const slug = await caseStudy(author, 'To be withdrawn');
    await publishLatest(t, slug);
    expect((await t.visitor().get(`/exchange/${slug}`)).status).toBe(200);
    const confirm = await author.get(`/exchange/${slug}/withdraw`);
    expect(confirm.status).toBe(200);
    expect(confirm.body).toContain('Are you sure you want to withdraw “To be withdrawn”?');
    expect(confirm.body).toContain(`action="/exchange/${slug}/withdraw"`);
    expect((await author.submit(`/exchange/${slug}/withdraw`, {})).headers.location).toBe(`/exchange/${slug}?notice=withdrawn`);
    expect((await author.submit(`/exchange/${slug}/withdraw`, {})).status).toBe(303);
    expect((await item(slug)).status).toBe('withdrawn');
    expect((await t.visitor().get(`/exchange/${slug}`)).status).toBe(404);
    expect((await t.visitor().get(`/api/v1/exchange/${slug}`)).status).toBe(404);
    const own = await author.get(`/exchange/${slug}`);
    expect(own.status).toBe(200);
    expect(own.body).toContain('has been withdrawn');
    const blocked = await author.get(`/exchange/${slug}/edit`);
    expect(blocked.body).toContain('It has been withdrawn, so it can no longer be changed');
    expect(blocked.body).not.toContain(`action="/exchange/${slug}/edit"`);
    expect((await author.submit(`/exchange/${slug}/edit`, { title: 'Back again' })).status).toBe(409);
    expect((await author.submit(`/exchange/${slug}/submit`, {})).status).toBe(409);
    expect((await revisionsOf(slug)).map((r) => r.title)).toEqual(['To be withdrawn']);
    // A revision waiting for review leaves the queue when its item is withdrawn.
    const waiting = await caseStudy(author, 'Withdrawn while waiting');
    await author.get(`/exchange/${waiting}`);
    await author.submit(`/exchange/${waiting}/submit`, {});
    await author.get(`/exchange/${waiting}/withdraw`);
    await author.submit(`/exchange/${waiting}/withdraw`, {});
    expect((await revisionsOf(waiting))[0].status).toBe('draft');
  });

  it('says a published item may be out of date once its review date has passed; its author gets the confirm form and a link to update it', async () => {
    const author = await member();
    const slug = await caseStudy(author, 'Due for review');
    const clock = t.app.get(Clock);
    await publishLatest(t, slug, clock.now());
    expect((await item(slug)).reviewDueAt!.getTime() - clock.now().getTime()).toBeGreaterThan(729 * 24 * 3600_000);
    // Due in an hour: not yet.
    await ds().getRepository(ExchangeItem).update({ slug }, { reviewDueAt: new Date(clock.now().getTime() + 3600_000) });
    expect((await t.visitor().get(`/exchange/${slug}`)).body).not.toContain('data-out-of-date');
    expect((await author.get(`/exchange/${slug}`)).body).not.toContain('confirm-current');
    clock.travel(3600_000 + 1000);
    try {
      const publicPage = await t.visitor().get(`/exchange/${slug}`);
      expect(publicPage.body).toContain('data-out-of-date');
      expect(publicPage.body).not.toContain('/confirm-current');
      await author.signIn(author.email, author.password);
      const own = await author.get(`/exchange/${slug}`);
      expect(own.body).toContain(`action="/exchange/${slug}/confirm-current"`);
      expect(own.body).toContain(`href="/exchange/${slug}/edit">Update this case study`);
      expect((await t.visitor().get(`/api/v1/exchange/${slug}`)).json().mayBeOutOfDate).toBe(true);
    } finally {
      clock.travel(-(3600_000 + 1000));
    }
  });

  it('lists My contributions with their status, the latest revision’s, the review date and the counters', async () => {
    const author = await member();
    const published = await caseStudy(author, 'Mine and published');
    await publishLatest(t, published, new Date('2025-01-15T12:00:00Z'));
    await saveForm(author, published, { summary: 'An update on its way' });
    await ds().getRepository(ExchangeItem).update({ slug: published }, { helpfulCount: 7, adoptionCount: 2, saveCount: 3 });
    const draft = await caseStudy(author, 'Mine and a draft');
    const page = await author.get('/exchange/mine');
    expect(page.status).toBe(200);
    const row = (slug: string) => new RegExp(`<tr class="nhsuk-table__row" data-slug="${slug}">([\\s\\S]*?)</tr>`).exec(page.body)![1];
    expect(row(published)).toContain('Published');
    expect(row(published)).toContain('Revision 2: Draft');
    expect(row(published)).toContain('15 January 2027');
    expect(row(published)).toMatch(/Helpful <\/span>7<\/td>[\s\S]*Adopted by <\/span>2<\/td>[\s\S]*Saved <\/span>3<\/td>/);
    expect(row(draft)).toContain('Draft');
    expect(row(draft)).toContain('Not published yet');
    expect(page.body.indexOf(draft)).toBeLessThan(page.body.indexOf(published));
    // Nobody else's.
    expect((await (await member()).get('/exchange/mine')).body).not.toContain(published);
  });

  it('answers GET /api/v1/exchange/{slug} with the published revision in the documented shape', async () => {
    const author = await member();
    const slug = await caseStudy(author, 'The API shape');
    await author.get(`/exchange/${slug}/attachments`);
    await author.upload(`/exchange/${slug}/attachments`, [{ name: 'file', filename: 'shape.pdf', content: PDF }]);
    await publishLatest(t, slug, new Date('2025-06-01T09:00:00Z'));
    const answer = await t.visitor().get(`/api/v1/exchange/${slug}`);
    expect(answer.status).toBe(200);
    const body = answer.json();
    const [file] = await ds().getRepository(ExchangeFile).findBy({ itemId: (await item(slug)).id });
    expect(body).toEqual({
      slug,
      kind: 'case_study',
      status: 'published',
      revision: 1,
      revisionStatus: 'published',
      title: 'The API shape',
      summary: 'The first summary.',
      organisation: { id: organisation.id, name: organisation.name, type: 'nhs_trust', region: 'midlands' },
      partnerOrganisations: [{ id: partner.id, name: partner.name, type: 'icb', region: 'london' }],
      careSetting: 'primary_care',
      sections: [
        { field: 'context', heading: 'The context and the problem', markdown: 'Context\n\n- with a list  \n  and a hard break', html: expect.stringContaining('<li>with a list<br />') },
        { field: 'actions', heading: 'What was done', markdown: 'What was done.', html: '<p>What was done.</p>\n' },
        { field: 'results', heading: 'Results', markdown: 'It worked.', html: '<p>It worked.</p>\n' },
        { field: 'lessons', heading: 'Lessons learnt', markdown: 'Lessons.', html: '<p>Lessons.</p>\n' },
      ],
      keyFigures: [{ label: 'Days to send a letter', before: 3, after: 1, unit: 'days' }],
      systems: [{ slug: system.slug, name: 'SystmOne', supplier: 'TPP' }],
      topics: [{ slug: 'revisions-topic-one', name: 'Revisions topic one' }],
      files: [{ id: file.id, fileName: 'shape.pdf', bytes: PDF.length, contentType: 'application/pdf', url: `/exchange/${slug}/files/${file.id}` }],
      tool: null,
      publishedAt: '2025-06-01T09:00:00.000Z',
      reviewDueAt: '2027-06-01T09:00:00.000Z',
      mayBeOutOfDate: false,
      counts: { helpful: 0, adoptions: 0, saves: 0, downloads: 0 },
    });
    const missing = await t.visitor().get('/api/v1/exchange/not-a-thing-000000');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.json().code).toBe('not_found');
  });

  it('exports a person’s contributions; erasing deletes what was never published (with its files) and keeps what was as the organisation’s', async () => {
    const author = await member();
    const kept = await caseStudy(author, 'Kept for the organisation');
    await publishLatest(t, kept);
    await saveForm(author, kept, { summary: 'An unfinished second revision' });
    const gone = await caseStudy(author, 'Never published');
    await author.get(`/exchange/${gone}/attachments`);
    await author.upload(`/exchange/${gone}/attachments`, [{ name: 'file', filename: 'private.pdf', content: PDF }]);
    const goneFile = await ds().getRepository(ExchangeFile).findOneByOrFail({ itemId: (await item(gone)).id });
    expect(existsSync(join(t.engines.dataDir, 'files', goneFile.storageKey))).toBe(true);

    await author.get('/account/data');
    const download = await author.submit('/account/data', {});
    expect(download.status).toBe(200);
    const exported = download.json().sections.exchangeContributions as Array<{ slug: string; revisions: Array<{ number: number; summary: string }>; files: Array<{ fileName: string }> }>;
    expect(exported.map((i) => i.slug).sort()).toEqual([kept, gone].sort());
    expect(exported.find((i) => i.slug === kept)!.revisions.map((r) => [r.number, r.summary])).toEqual([
      [1, 'The first summary.'],
      [2, 'An unfinished second revision'],
    ]);
    expect(exported.find((i) => i.slug === gone)!.files.map((f) => f.fileName)).toEqual(['private.pdf']);

    await author.get('/account/delete');
    expect((await author.submit('/account/delete', { certificates: 'keep', password: author.password })).status).toBe(303);
    expect(await ds().getRepository(ExchangeItem).countBy({ slug: gone })).toBe(0);
    expect(await ds().getRepository(ExchangeFile).countBy({ id: goneFile.id })).toBe(0);
    expect(existsSync(join(t.engines.dataDir, 'files', goneFile.storageKey))).toBe(false);
    const left = await item(kept);
    expect(left).toMatchObject({ status: 'published', authorId: null, organisationId: organisation.id, latestRevisionId: left.publishedRevisionId });
    const revisions = await revisionsOf(kept);
    expect(revisions.map((r) => [r.number, r.status, r.authorId])).toEqual([[1, 'published', null]]);
    expect((await t.visitor().get(`/exchange/${kept}`)).status).toBe(200);
  });
});

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ExchangeFile } from '../../src/exchange/entities/exchange-file.entity';
import { ExchangeItem } from '../../src/exchange/entities/exchange-item.entity';
import { ExchangeRevision } from '../../src/exchange/entities/exchange-revision.entity';
import { PeerProfile } from '../../src/exchange/entities/peer.entities';
import { Answer, startTestApp, TestApp, Visitor } from '../support/app';
import { topic } from '../support/courses';
import { createItem, createSystem } from '../support/exchange';
import { formEntries, urlencoded, type FormEntries } from '../support/html-forms';
import { addMember, createOrganisation } from '../support/organisations';

/**
 * Writing contributions through their forms, as a browser without JavaScript does: each kind created from the page's
 * own form, what the forms refuse (and that a refusal keeps what was typed and stores nothing), submitting, and who
 * may see what is not published.
 */
describe('exchange contributions: writing and who sees what', () => {
  let t: TestApp;
  let topics: { id: number; name: string }[];
  let system: { id: number; name: string };
  let trust: { id: number; name: string };
  let partner: { id: number; name: string };
  let other: { id: number; name: string };
  const ds = () => t.app.get(DataSource);
  const storedFiles = () => {
    const root = join(t.engines.dataDir, 'files', 'exchange');
    return existsSync(root) ? readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length : 0;
  };

  beforeAll(async () => {
    t = await startTestApp({ UPLOAD_MAX_MB: '1' });
    // Topics first: the catalogue keeps its list of them for a while.
    topics = [await topic(t, 'Clinical safety'), await topic(t, 'Digital discharge')];
    system = await createSystem(t, { name: 'Millennium', supplier: 'Oracle Health' });
    trust = await createOrganisation(t, { name: `Contributions Trust ${process.pid}`, type: 'nhs_trust', region: 'north_east_yorkshire' });
    partner = await createOrganisation(t, { name: `Partner Federation ${process.pid}`, type: 'gp_federation', region: 'london' });
    other = await createOrganisation(t, { name: `Elsewhere Council ${process.pid}`, type: 'local_authority' });
  });
  afterAll(() => t?.close());

  /** A signed-in active member of the organisation. */
  const member = async (organisationId: number, options: { manager?: boolean } = {}) => {
    const person = await t.signedIn();
    await addMember(t, organisationId, person.userId, options);
    return person;
  };

  /** The entries of the form on the page, with these fields set (a list sets a repeated field). */
  const fill = (entries: FormEntries, fields: Record<string, string | string[]>): FormEntries => {
    const kept = entries.filter(([name]) => !(name in fields));
    for (const [name, value] of Object.entries(fields)) for (const one of [value].flat()) kept.push([name, one]);
    return kept;
  };
  const post = (who: Visitor, action: string, entries: FormEntries) => who.request('POST', action, { raw: urlencoded(entries), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const openAndPost = async (who: Visitor, page: string, action: string, fields: Record<string, string | string[]>) => {
    const shown = await who.get(page);
    expect(shown.status).toBe(200);
    return post(who, action, fill(formEntries(shown.body, action), fields));
  };
  const slugOf = (answer: Answer) => {
    expect(answer.status).toBe(303);
    return /^\/exchange\/([a-z0-9-]+)\?/.exec(String(answer.headers.location))![1];
  };
  const itemBySlug = (slug: string) => ds().getRepository(ExchangeItem).findOneByOrFail({ slug });
  const errorSummary = (body: string) => /<div class="nhsuk-error-summary"[\s\S]*?<\/ul>/.exec(body)?.[0] ?? '';
  const count = () => ds().getRepository(ExchangeItem).count();

  it('tells someone who belongs to no organisation to join one, and writes nothing for them', async () => {
    const loner = await t.signedIn();
    for (const page of ['/exchange/new', '/exchange/new/case-study', '/exchange/new/tool', '/exchange/new/hack']) {
      const answer = await loner.get(page);
      expect(answer.status).toBe(403);
      expect(answer.body).toContain('You need to belong to an organisation first');
      expect(answer.body).toContain('href="/account/organisations"');
    }
    const before = await count();
    const refused = await loner.submit('/exchange/new/hack', { title: 'A tip', tip: 'Restart it.' });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('data-not-a-member');
    expect(await count()).toBe(before);
    // A pending membership (waiting for a manager) is not membership either.
    const waiting = await t.signedIn();
    await addMember(t, trust.id, waiting.userId, { status: 'pending' });
    expect((await waiting.get('/exchange/new')).status).toBe(403);
    // Anonymous visitors are asked to sign in.
    expect((await t.visitor().get('/exchange/new')).status).not.toBe(200);
  });

  it('creates a case study through its form: partners by name, key figures, systems and topics; the author sees the draft', async () => {
    const author = await member(trust.id);
    const choose = await author.get('/exchange/new');
    expect(choose.status).toBe(200);
    for (const href of ['/exchange/new/case-study', '/exchange/new/tool', '/exchange/new/hack']) expect(choose.body).toContain(`href="${href}"`);
    const answer = await openAndPost(author, '/exchange/new/case-study', '/exchange/new/case-study', {
      title: 'Discharge letters within a day',
      summary: 'We cut the time to send discharge letters from three days to one.',
      partners: `${partner.name}\r\n`,
      careSetting: 'acute',
      context: '## Where we started\r\n\r\nLetters took **three days**.<script>alert(1)</script>',
      actions: 'We moved letters into the EPR.',
      results: 'Most letters now go the same day.',
      'figureLabel-1': 'Letters sent within 24 hours',
      'figureBefore-1': '61',
      'figureAfter-1': '94.5',
      'figureUnit-1': '%',
      lessons: 'Start with one ward.',
      differently: 'Involve GPs sooner.',
      systems: String(system.id),
      topics: [String(topics[0].id), String(topics[1].id)],
    });
    const slug = slugOf(answer);
    expect(slug).toMatch(/^discharge-letters-within-a-day-[a-z0-9]{6}$/);
    const item = await itemBySlug(slug);
    expect(item).toMatchObject({ kind: 'case_study', status: 'draft', authorId: author.userId, organisationId: trust.id, publishedRevisionId: null });
    const revision = await ds().getRepository(ExchangeRevision).findOneByOrFail({ id: item.latestRevisionId! });
    expect(revision).toMatchObject({ number: 1, status: 'draft', careSetting: 'acute', authorId: author.userId, actions: 'We moved letters into the EPR.' });
    expect(JSON.parse(revision.keyFigures!)).toEqual([{ label: 'Letters sent within 24 hours', before: 61, after: 94.5, unit: '%' }]);
    expect(JSON.parse(revision.partnerOrganisationIds!)).toEqual([partner.id]);
    expect(JSON.parse(revision.systemIds!)).toEqual([system.id]);
    expect(JSON.parse(revision.topicIds!)).toEqual(topics.map((x) => x.id).sort((a, b) => a - b));
    // The draft as its author sees it: sanitised Markdown, the chart with its table, the organisations with type and region.
    const page = await author.get(`/exchange/${slug}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-item-status');
    expect(page.body).toContain('<strong>three days</strong>');
    expect(page.body).not.toContain('<script>alert(1)</script>');
    expect(page.body).toContain('role="img"');
    expect(page.body).toMatch(/<th scope="row" class="nhsuk-table__header">Before<\/th>\s*<td class="nhsuk-table__cell nhsuk-table__cell--numeric">61%<\/td>/);
    expect(page.body).toContain(partner.name);
    expect(page.body).toContain('GP federation');
    expect(page.body).toContain('Millennium');
    expect(page.body).toContain('Oracle Health');
    expect(page.body).toContain('action="/exchange/' + slug + '/submit"');
  });

  it('refuses a case study form with bad answers, says why by field, keeps what was typed and stores nothing', async () => {
    const author = await member(trust.id);
    const before = await count();
    const answer = await openAndPost(author, '/exchange/new/case-study', '/exchange/new/case-study', {
      title: 'Kept title &amp; <b>all</b>',
      summary: 'x'.repeat(501),
      partners: 'No Such Organisation Anywhere',
      'figureLabel-2': 'Beds',
      'figureBefore-2': 'lots',
      topics: '999999',
      systems: '888888',
    });
    expect(answer.status).toBe(400);
    const summary = errorSummary(answer.body);
    for (const field of ['summary', 'partners', 'figureBefore-2', 'figureAfter-2', 'topics', 'systems']) expect(summary).toContain(`href="#${field}"`);
    expect(answer.body).toContain('No organisation on the academy is called “No Such Organisation Anywhere”');
    expect(answer.body).toContain('value="Kept title &amp;amp; &lt;b&gt;all&lt;/b&gt;"');
    expect(answer.body).toContain('value="lots"');
    expect(answer.body).toMatch(/<title>Error: /);
    // A title is the one thing a draft must have.
    const untitled = await openAndPost(author, '/exchange/new/case-study', '/exchange/new/case-study', { title: '   ' });
    expect(untitled.status).toBe(400);
    expect(errorSummary(untitled.body)).toContain('Enter a title');
    expect(await count()).toBe(before);
  });

  it('asks someone in two organisations which one shares it, and only offers theirs', async () => {
    const author = await member(trust.id);
    await addMember(t, partner.id, author.userId);
    const form = await author.get('/exchange/new/hack');
    expect(form.body).toContain('name="organisationId"');
    expect(form.body).toContain(partner.name);
    expect(form.body).not.toContain(other.name);
    const unchosen = await post(author, '/exchange/new/hack', fill(formEntries(form.body, '/exchange/new/hack'), { title: 'Which one', tip: 'A tip' }));
    expect(unchosen.status).toBe(400);
    expect(errorSummary(unchosen.body)).toContain('href="#organisationId"');
    const forged = await post(author, '/exchange/new/hack', fill(formEntries(form.body, '/exchange/new/hack'), { title: 'Which one', tip: 'A tip', organisationId: String(other.id) }));
    expect(forged.status).toBe(400);
    const chosen = await post(author, '/exchange/new/hack', fill(formEntries(form.body, '/exchange/new/hack'), { title: 'Which one', tip: 'A tip', organisationId: String(partner.id) }));
    expect((await itemBySlug(slugOf(chosen))).organisationId).toBe(partner.id);
  });

  it('takes a hack of 1,000 characters as a person counts them and refuses one of 1,001', async () => {
    const author = await member(trust.id);
    const before = await count();
    // 999 letters and an emoji: 1,000 characters, 1,001 UTF-16 code units. Spaces around it are not counted.
    const thousand = `${'a'.repeat(999)}🩺`;
    const refused = await openAndPost(author, '/exchange/new/hack', '/exchange/new/hack', { title: 'Too long', tip: `${thousand}b`, topics: String(topics[0].id) });
    expect(refused.status).toBe(400);
    expect(errorSummary(refused.body)).toContain('The tip must be 1,000 characters or fewer: it has 1,001');
    expect(refused.body).toContain(`${thousand}b</textarea>`);
    expect(await count()).toBe(before);
    const accepted = await openAndPost(author, '/exchange/new/hack', '/exchange/new/hack', { title: 'Just short enough', tip: `  ${thousand}\r\n`, topics: String(topics[0].id), careSetting: '' });
    const item = await itemBySlug(slugOf(accepted));
    const revision = await ds().getRepository(ExchangeRevision).findOneByOrFail({ id: item.latestRevisionId! });
    expect(revision.tip!.trim()).toBe(thousand);
    expect(revision.careSetting).toBeNull();
    expect(revision.summary.length).toBeLessThanOrEqual(281);
  });

  it('creates a tool only with a file of an accepted kind under the size limit; a refusal stores nothing', async () => {
    const author = await member(trust.id);
    await author.get('/exchange/new/tool');
    const fields = [
      { name: 'title', value: 'Discharge checklist' },
      { name: 'summary', value: 'A checklist for discharge letters.' },
      { name: 'toolType', value: 'checklist' },
      { name: 'purpose', value: 'Checking letters.' },
      { name: 'howToUse', value: 'Tick each line.' },
      { name: 'licence', value: 'ogl_3' },
      { name: 'topics', value: String(topics[0].id) },
    ];
    const xlsx = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(2000, 1)]);
    const itemsBefore = await count();
    const filesBefore = storedFiles();

    const none = await author.upload('/exchange/new/tool', [...fields, { name: 'file', filename: '', content: '' }]);
    expect(none.status).toBe(400);
    expect(errorSummary(none.body)).toContain('href="#file"');
    expect(none.body).toContain('value="Discharge checklist"');
    const wrongKind = await author.upload('/exchange/new/tool', [...fields, { name: 'file', filename: 'setup.exe', content: Buffer.from('MZ\x90\x00rest') }]);
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body).toContain('“setup.exe” is not');
    const disguised = await author.upload('/exchange/new/tool', [...fields, { name: 'file', filename: 'checklist.pdf', content: Buffer.from('not a pdf at all') }]);
    expect(disguised.status).toBe(400);
    expect(disguised.body).toContain('are not a PDF');
    const huge = await author.upload('/exchange/new/tool', [...fields, { name: 'file', filename: 'big.xlsx', content: Buffer.concat([xlsx, Buffer.alloc(1024 * 1024 + 10, 1)]) }]);
    expect(huge.status).toBe(413);
    expect(huge.body).toContain('smaller than 1 MB');
    const badFields = await author.upload('/exchange/new/tool', [{ name: 'title', value: '' }, { name: 'file', filename: 'ok.xlsx', content: xlsx }]);
    expect(badFields.status).toBe(400);
    expect(badFields.body).toContain('Select the file again');
    expect(await count()).toBe(itemsBefore);
    expect(storedFiles()).toBe(filesBefore);
    expect(await ds().getRepository(ExchangeFile).count()).toBe(0);

    const made = await author.upload('/exchange/new/tool', [...fields, { name: 'file', filename: 'Discharge: checklist?.xlsx', content: xlsx }]);
    if (made.status !== 303) throw new Error(errorSummary(made.body) || made.body.slice(0, 2000));
    const item = await itemBySlug(slugOf(made));
    const revision = await ds().getRepository(ExchangeRevision).findOneByOrFail({ id: item.latestRevisionId! });
    const file = await ds().getRepository(ExchangeFile).findOneByOrFail({ id: revision.toolFileId! });
    expect(file).toMatchObject({ itemId: item.id, role: 'tool', version: 1, bytes: xlsx.length, fileName: 'Discharge_ checklist_.xlsx', uploadedById: author.userId });
    expect(file.storageKey).toMatch(new RegExp(`^exchange/${item.id}/[0-9a-f-]{36}\\.xlsx$`));
    expect(storedFiles()).toBe(filesBefore + 1);
    expect(revision).toMatchObject({ toolType: 'checklist', licence: 'ogl_3', careSetting: null });
  });

  it('submits only what is complete; submitting twice is once; what waits for review cannot be changed', async () => {
    const author = await member(trust.id);
    const slug = slugOf(await openAndPost(author, '/exchange/new/case-study', '/exchange/new/case-study', { title: 'Half written' }));
    await author.get(`/exchange/${slug}`);
    const incomplete = await author.submit(`/exchange/${slug}/submit`, {});
    expect(incomplete.status).toBe(400);
    const summary = errorSummary(incomplete.body);
    for (const field of ['summary', 'careSetting', 'context', 'actions', 'results', 'lessons', 'topics']) expect(summary).toContain(`href="#${field}"`);
    expect(summary).not.toContain('href="#differently"');
    expect(incomplete.body).toContain(`action="/exchange/${slug}/edit"`);
    expect((await itemBySlug(slug)).status).toBe('draft');

    const saved = await openAndPost(author, `/exchange/${slug}/edit`, `/exchange/${slug}/edit`, {
      summary: 'Now complete.',
      careSetting: 'community',
      context: 'Context.',
      actions: 'Actions.',
      results: 'Results.',
      lessons: 'Lessons.',
      topics: String(topics[1].id),
    });
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe(`/exchange/${slug}?notice=saved`);
    await author.get(`/exchange/${slug}`);
    const first = await author.submit(`/exchange/${slug}/submit`, {});
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe(`/exchange/${slug}?notice=submitted`);
    const item = await itemBySlug(slug);
    const revision = await ds().getRepository(ExchangeRevision).findOneByOrFail({ id: item.latestRevisionId! });
    expect(item.status).toBe('submitted');
    expect(revision.status).toBe('submitted');
    expect(revision.submittedAt).not.toBeNull();
    const again = await author.submit(`/exchange/${slug}/submit`, {});
    expect(again.status).toBe(303);
    expect((await ds().getRepository(ExchangeRevision).findOneByOrFail({ id: revision.id })).submittedAt).toEqual(revision.submittedAt);
    const waiting = await author.get(`/exchange/${slug}/edit`);
    expect(waiting.body).toContain('It is waiting for a moderator to review it');
    expect(waiting.body).not.toContain(`action="/exchange/${slug}/edit"`);
    const change = await author.submit(`/exchange/${slug}/edit`, { title: 'Changed while waiting' });
    expect(change.status).toBe(409);
    expect((await ds().getRepository(ExchangeRevision).findOneByOrFail({ id: revision.id })).title).toBe('Half written');
    // Someone else, even a manager of the organisation, may not submit, change or withdraw it.
    const manager = await member(trust.id, { manager: true });
    await manager.get(`/exchange/${slug}`);
    expect((await manager.submit(`/exchange/${slug}/withdraw`, {})).status).toBe(403);
    expect((await manager.get(`/exchange/${slug}/edit`)).status).toBe(403);
    expect((await itemBySlug(slug)).status).toBe('submitted');
  });

  it('shows what is not published only to its author, its organisation’s managers, moderators and admins: a 404 like any unknown address to everyone else', async () => {
    const author = await member(trust.id);
    const draft = await createItem(t, { authorId: author.userId, organisationId: trust.id, title: 'Not for everyone', status: 'draft' });
    const unknown = await t.visitor().get('/exchange/no-such-item-anywhere-abc123');
    expect(unknown.status).toBe(404);
    const colleague = await member(trust.id);
    const outsider = await member(other.id);
    const outsideManager = await member(other.id, { manager: true });
    const deniedTo: Visitor[] = [t.visitor(), colleague, outsider, outsideManager];
    for (const who of deniedTo) {
      const answer = await who.get(`/exchange/${draft.slug}`);
      expect(answer.status).toBe(404);
      expect(answer.body.replace(/<header[\s\S]*?<\/header>/, '')).toBe(unknown.body.replace(/<header[\s\S]*?<\/header>/, ''));
      expect((await who.get(`/api/v1/exchange/${draft.slug}`)).status).toBe(404);
      expect((await who.get(`/exchange/${draft.slug}?revision=latest`)).status).toBe(404);
    }
    const allowed: Visitor[] = [author, await member(trust.id, { manager: true }), await t.signedIn('moderator'), await t.signedIn('admin')];
    for (const who of allowed) {
      const answer = await who.get(`/exchange/${draft.slug}`);
      expect(answer.status).toBe(200);
      expect(answer.body).toContain('Not for everyone');
      expect(answer.body).toContain('data-item-status');
      expect((await who.get(`/api/v1/exchange/${draft.slug}`)).status).toBe(200);
    }
    // A manager who has left the organisation sees it no more.
    const leaver = await member(trust.id, { manager: true });
    expect((await leaver.get(`/exchange/${draft.slug}`)).status).toBe(200);
    await addMember(t, trust.id, leaver.userId, { manager: true, status: 'left' });
    expect((await leaver.get(`/exchange/${draft.slug}`)).status).toBe(404);
    // Only the author gets the author's actions.
    expect((await author.get(`/exchange/${draft.slug}`)).body).toContain('data-author-actions');
    expect((await allowed[1].get(`/exchange/${draft.slug}`)).body).not.toContain('data-author-actions');
  });

  it('names who shared a published item to signed-in members (linking their peer profile when they listed one), never to anonymous visitors, and gives moderators their ways in', async () => {
    const author = await t.signedIn('learner', { name: 'Priya Shared-By' });
    await addMember(t, trust.id, author.userId);
    const item = await createItem(t, { authorId: author.userId, organisationId: trust.id, title: 'Who shared this' });
    const reader = await member(other.id);

    expect((await t.visitor().get(`/exchange/${item.slug}`)).body).not.toContain('Priya Shared-By');
    const unlisted = await reader.get(`/exchange/${item.slug}`);
    expect(unlisted.body).toMatch(/data-shared-by>Shared by Priya Shared-By, Tester\.<\/p>/);
    expect(unlisted.body).not.toContain(`/peers/${author.userId}`);

    await ds().getRepository(PeerProfile).insert({ userId: author.userId, listed: true, bio: 'EPR lead', openToContact: true, createdAt: new Date(), updatedAt: new Date() });
    const listed = await reader.get(`/exchange/${item.slug}`);
    expect(listed.body).toContain(`<a href="/peers/${author.userId}">Contact them through their peer profile`);
    expect(listed.body).not.toContain('data-moderator-actions');
    expect(listed.body).not.toContain('/moderation/exchange/items/');

    const moderator = await t.signedIn('moderator');
    const asModerator = await moderator.get(`/exchange/${item.slug}`);
    expect(asModerator.body).toContain(`/moderation/exchange/items/${item.id}/withdraw`);
    const waiting = await createItem(t, { authorId: author.userId, organisationId: trust.id, title: 'Waiting for a moderator', status: 'submitted' });
    const review = await moderator.get(`/exchange/${waiting.slug}`);
    expect(review.body).toContain(`href="/moderation/exchange/${waiting.latestRevisionId}"`);

    expect((await author.get(`/exchange/${item.slug}?notice=review-confirmed`)).body).toContain('it is marked as still current');
  });
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ExchangeFile } from '../../src/exchange/entities/exchange-file.entity';
import { ExchangeItem } from '../../src/exchange/entities/exchange-item.entity';
import { ExchangeRevisionFile } from '../../src/exchange/entities/exchange-revision-file.entity';
import { ExchangeRevision } from '../../src/exchange/entities/exchange-revision.entity';
import { usingRealEngines } from '../support/engines';
import { startTestApp, TestApp, Visitor, type MultipartPart } from '../support/app';
import { topic } from '../support/courses';
import { publishLatest } from '../support/exchange-publishing';
import { formEntries } from '../support/html-forms';
import { addMember, createOrganisation } from '../support/organisations';

const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(3000, 0x20)]);
const xlsx = (fill: number, size = 4000) => Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(size, fill)]);

/** Attachments on drafts, a tool's versions, and downloads: who may fetch which file, and counting them exactly. */
describe('exchange contributions: attachments, tool versions and downloads', () => {
  let t: TestApp;
  let topicId: number;
  let organisationId: number;
  const ds = () => t.app.get(DataSource);
  const stored = (key: string) => existsSync(join(t.engines.dataDir, 'files', key));
  const item = (slug: string) => ds().getRepository(ExchangeItem).findOneByOrFail({ slug });
  const latest = async (slug: string) => ds().getRepository(ExchangeRevision).findOneByOrFail({ id: (await item(slug)).latestRevisionId! });

  beforeAll(async () => {
    t = await startTestApp();
    topicId = (await topic(t, 'Exchange files topic')).id;
    organisationId = (await createOrganisation(t)).id;
  });
  afterAll(() => t?.close());

  const author = async () => {
    const person = await t.signedIn();
    await addMember(t, organisationId, person.userId);
    return person;
  };
  const newHack = async (who: Visitor, title: string) => {
    await who.get('/exchange/new/hack');
    const made = await who.submit('/exchange/new/hack', { title, tip: 'Use the **print preview**.', topics: String(topicId) });
    expect(made.status).toBe(303);
    return /^\/exchange\/([a-z0-9-]+)\?/.exec(String(made.headers.location))![1];
  };
  const newTool = async (who: Visitor, content: Buffer, name = 'checklist.xlsx') => {
    await who.get('/exchange/new/tool');
    const made = await who.upload('/exchange/new/tool', [
      { name: 'title', value: 'Ward checklist' },
      { name: 'summary', value: 'A ward checklist.' },
      { name: 'toolType', value: 'checklist' },
      { name: 'purpose', value: 'Checking wards.' },
      { name: 'howToUse', value: 'Fill it in.' },
      { name: 'licence', value: 'cc_by_4' },
      { name: 'topics', value: String(topicId) },
      { name: 'file', filename: name, content },
    ]);
    expect(made.status).toBe(303);
    return /^\/exchange\/([a-z0-9-]+)\?/.exec(String(made.headers.location))![1];
  };

  it('adds and removes attachments of a draft one file at a time; a removed file leaves storage; refusals store nothing', async () => {
    const writer = await author();
    const slug = await newHack(writer, 'Print preview saves paper');
    const page = await writer.get(`/exchange/${slug}/attachments`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('enctype="multipart/form-data"');
    expect(page.body.indexOf('name="_csrf"')).toBeLessThan(page.body.indexOf('type="file"'));
    const added = await writer.upload(`/exchange/${slug}/attachments`, [{ name: 'file', filename: 'slides.pdf', content: PDF }]);
    expect(added.status).toBe(303);
    const wrong = await writer.upload(`/exchange/${slug}/attachments`, [{ name: 'file', filename: 'movie.mp4', content: Buffer.from('\x00\x00\x00\x20ftypisom', 'latin1') }]);
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain('href="#file"');
    const fake = await writer.upload(`/exchange/${slug}/attachments`, [{ name: 'file', filename: 'report.docx', content: Buffer.from('plain words, not a document') }]);
    expect(fake.status).toBe(400);
    const forged = await writer.upload(`/exchange/${slug}/attachments`, [{ name: 'file', filename: 'x.pdf', content: PDF }], { withCsrf: false });
    expect(forged.status).toBe(403);
    const files = await ds().getRepository(ExchangeFile).findBy({ itemId: (await item(slug)).id });
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ role: 'attachment', version: null, fileName: 'slides.pdf', contentType: 'application/pdf', bytes: PDF.length });
    expect(stored(files[0].storageKey)).toBe(true);
    const listed = await writer.get(`/exchange/${slug}/attachments`);
    expect(listed.body).toContain('slides.pdf');
    expect(listed.body).toContain('3 KB');
    // Someone else cannot add or remove them.
    const stranger = await author();
    await stranger.get('/exchange/mine');
    expect((await stranger.upload(`/exchange/${slug}/attachments`, [{ name: 'file', filename: 'x.pdf', content: PDF }])).status).toBe(404);
    expect((await stranger.submit(`/exchange/${slug}/attachments/${files[0].id}/remove`, {})).status).toBe(404);
    await writer.get(`/exchange/${slug}/attachments`);
    const removed = await writer.submit(`/exchange/${slug}/attachments/${files[0].id}/remove`, {});
    expect(removed.status).toBe(303);
    expect(await ds().getRepository(ExchangeFile).countBy({ id: files[0].id })).toBe(0);
    expect(stored(files[0].storageKey)).toBe(false);
    expect((await writer.submit(`/exchange/${slug}/attachments/${files[0].id}/remove`, {})).status).toBe(404);
  });

  it('keeps every tool version: a new file is the next version of a new revision, public only once published, earlier ones listed with dates', async () => {
    const writer = await author();
    const slug = await newTool(writer, xlsx(1));
    const v1 = await ds().getRepository(ExchangeFile).findOneByOrFail({ itemId: (await item(slug)).id, version: 1 });
    // Before it is published its file is the author's alone.
    expect((await t.visitor().get(`/exchange/${slug}/files/${v1.id}`)).status).toBe(404);
    expect((await writer.get(`/exchange/${slug}/files/${v1.id}`)).status).toBe(200);
    // Replacing the file of a draft replaces it (the same version number: nobody could download the first).
    await writer.get(`/exchange/${slug}/edit`);
    const replaced = await writer.upload(`/exchange/${slug}/edit`, editFields(await writer.get(`/exchange/${slug}/edit`)).concat([{ name: 'file', filename: 'checklist-fixed.xlsx', content: xlsx(2) }]));
    expect(replaced.status).toBe(303);
    const first = await ds().getRepository(ExchangeFile).findOneByOrFail({ itemId: (await item(slug)).id, version: 1 });
    expect(first.fileName).toBe('checklist-fixed.xlsx');
    expect(stored(v1.storageKey)).toBe(false);
    await publishLatest(t, slug, new Date('2025-03-04T10:00:00Z'));

    const form = await writer.get(`/exchange/${slug}/edit`);
    expect(form.body).toContain('Save as revision 2');
    const second = await writer.upload(`/exchange/${slug}/edit`, editFields(form, ['changeNote']).concat([{ name: 'changeNote', value: 'Adds a column for the ward sister' }, { name: 'file', filename: 'checklist-v2.xlsx', content: xlsx(3) }]));
    expect(second.status).toBe(303);
    const revision2 = await latest(slug);
    expect(revision2).toMatchObject({ number: 2, status: 'draft', changeNote: 'Adds a column for the ward sister' });
    const v2 = await ds().getRepository(ExchangeFile).findOneByOrFail({ id: revision2.toolFileId! });
    expect(v2.version).toBe(2);
    // The public still gets version 1, and may not fetch version 2 yet.
    const publicPage = await t.visitor().get(`/exchange/${slug}`);
    expect(publicPage.body).toContain('checklist-fixed.xlsx');
    expect(publicPage.body).not.toContain('checklist-v2.xlsx');
    expect((await t.visitor().get(`/exchange/${slug}/files/${v2.id}`)).status).toBe(404);
    expect((await t.visitor().get(`/exchange/${slug}/files/${first.id}`)).status).toBe(200);
    const authorsView = await writer.get(`/exchange/${slug}?revision=latest`);
    expect(authorsView.body).toContain('checklist-v2.xlsx');
    await publishLatest(t, slug, new Date('2025-09-10T10:00:00Z'));
    const after = await t.visitor().get(`/exchange/${slug}`);
    expect(after.body).toContain('data-versions');
    expect(after.body).toMatch(/<td class="nhsuk-table__cell">1<\/td>\s*<td class="nhsuk-table__cell">4 March 2025<\/td>/);
    expect(after.body).toContain(`href="/exchange/${slug}/files/${v2.id}" download>Download`);
    // Both versions stay downloadable; the API lists them newest first.
    expect((await t.visitor().get(`/exchange/${slug}/files/${first.id}`)).status).toBe(200);
    const api = (await t.visitor().get(`/api/v1/exchange/${slug}`)).json();
    expect(api.tool).toMatchObject({ type: 'checklist', licence: 'cc_by_4' });
    expect(api.tool.versions.map((v: { version: number; current: boolean }) => [v.version, v.current])).toEqual([
      [2, true],
      [1, false],
    ]);
    expect(api.tool.versions[1].publishedAt).toBe('2025-03-04T10:00:00.000Z');
    expect(api.files).toEqual([{ id: v2.id, fileName: 'checklist-v2.xlsx', bytes: v2.bytes, contentType: v2.contentType, url: `/exchange/${slug}/files/${v2.id}` }]);
  });

  it('copies the attachments into revision 2; removing one there keeps the published file', async () => {
    const writer = await author();
    const slug = await newHack(writer, 'Attachments survive revisions');
    await writer.get(`/exchange/${slug}/attachments`);
    expect((await writer.upload(`/exchange/${slug}/attachments`, [{ name: 'file', filename: 'guide.pdf', content: PDF }])).status).toBe(303);
    const published = await publishLatest(t, slug);
    const [file] = await ds().getRepository(ExchangeFile).findBy({ itemId: published.id });
    const page = await writer.get(`/exchange/${slug}/attachments`);
    expect(page.body).toContain('starts revision 2');
    const removed = await writer.submit(`/exchange/${slug}/attachments/${file.id}/remove`, {});
    expect(removed.status).toBe(303);
    const revision2 = await latest(slug);
    expect(revision2.number).toBe(2);
    expect(await ds().getRepository(ExchangeRevisionFile).countBy({ revisionId: revision2.id })).toBe(0);
    expect(await ds().getRepository(ExchangeRevisionFile).countBy({ revisionId: published.publishedRevisionId!, fileId: file.id })).toBe(1);
    expect(stored(file.storageKey)).toBe(true);
    expect((await t.visitor().get(`/exchange/${slug}/files/${file.id}`)).status).toBe(200);
  });

  it('counts every download of a public file, at once too, on the file and the item; with the file’s safe name', async () => {
    const writer = await author();
    const slug = await newTool(writer, xlsx(5, 20_000), 'Ward “plan” ✓.xlsx');
    const published = await publishLatest(t, slug);
    const file = await ds().getRepository(ExchangeFile).findOneByOrFail({ itemId: published.id, role: 'tool' });
    const one = await t.visitor().get(`/exchange/${slug}/files/${file.id}`);
    expect(one.status).toBe(200);
    expect(one.bytes.equals(xlsx(5, 20_000))).toBe(true);
    expect(one.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(String(one.headers['content-disposition'])).toContain(`filename*=UTF-8''Ward%20%E2%80%9Cplan%E2%80%9D%20%E2%9C%93.xlsx`);
    const times = usingRealEngines() ? 40 : 20;
    const answers = await Promise.all(Array.from({ length: times }, () => t.visitor().get(`/exchange/${slug}/files/${file.id}`)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // A resumed download (a range after the first byte) is the same download.
    expect((await t.visitor().get(`/exchange/${slug}/files/${file.id}`, { range: 'bytes=100-' })).status).toBe(206);
    expect((await ds().getRepository(ExchangeFile).findOneByOrFail({ id: file.id })).downloadCount).toBe(times + 1);
    expect((await item(slug)).downloadCount).toBe(times + 1);
    expect((await t.visitor().get(`/api/v1/exchange/${slug}`)).json().counts.downloads).toBe(times + 1);
    // A file of another item under this slug, or no file: not found, nothing counted.
    expect((await t.visitor().get(`/exchange/${slug}/files/999999`)).status).toBe(404);
    expect((await t.visitor().get(`/exchange/${slug}/files/abc`)).status).toBe(404);
  });
});

/** The text fields of an edit form as they stand (what a browser would send back), for a multipart post. */
function editFields(page: { body: string }, without: string[] = []): MultipartPart[] {
  const action = /<form method="post" action="(\/exchange\/[a-z0-9-]+\/edit)"/.exec(page.body)![1];
  return formEntries(page.body, action)
    .filter(([name]) => name !== '_csrf' && !without.includes(name))
    .map(([name, value]) => ({ name, value }));
}

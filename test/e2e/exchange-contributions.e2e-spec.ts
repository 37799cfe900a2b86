import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from '../support/app';
import { createItem } from '../support/exchange';
import { addMember, createOrganisation } from '../support/organisations';

describe('exchange contributions: the item page', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('shows a published item to anonymous visitors and a draft to nobody but those who may see it', async () => {
    const author = await t.signedIn();
    const organisation = await createOrganisation(t);
    await addMember(t, organisation.id, author.userId);
    const published = await createItem(t, { authorId: author.userId, organisationId: organisation.id, title: 'Discharge letters in a day' });
    const draft = await createItem(t, { authorId: author.userId, organisationId: organisation.id, title: 'Secret draft', status: 'draft' });
    const anonymous = t.visitor();
    const page = await anonymous.get(`/exchange/${published.slug}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Discharge letters in a day');
    expect(page.body).toContain(organisation.name);
    expect((await anonymous.get(`/exchange/${draft.slug}`)).status).toBe(404);
    const mine = await author.get(`/exchange/${draft.slug}`);
    expect(mine.status).toBe(200);
    expect(mine.body).toContain('data-item-status');
    expect(t.app.get(DataSource)).toBeDefined();
  });
});

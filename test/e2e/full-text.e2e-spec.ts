import { DataSource } from 'typeorm';
import { searchWords, whereFullTextMatches } from '../../src/common/full-text';
import { ExchangeItem } from '../../src/exchange/entities/exchange-item.entity';
import { startTestApp, TestApp } from '../support/app';
import { createItem, createSystem } from '../support/exchange';
import { createOrganisation } from '../support/organisations';

/** The engine's own full-text index (InnoDB FULLTEXT or FTS5), as the exchange's search and facets use it. */
describe('full-text search on the database engine', () => {
  let t: TestApp;
  let authorId: number;
  let organisationId: number;
  beforeAll(async () => {
    t = await startTestApp();
    authorId = (await t.signedIn()).userId;
    organisationId = (await createOrganisation(t, { name: `Full Text Trust ${process.pid}` })).id;
  });
  afterAll(() => t.close());

  const search = async (text: string) => {
    const qb = t.app.get(DataSource).getRepository(ExchangeItem).createQueryBuilder('i').select(['i.id', 'i.title']).where('i.status = :status', { status: 'published' });
    const score = whereFullTextMatches(qb, { alias: 'i', table: 'exchange_items', columns: ['title', 'summary', 'search_text'] }, searchWords(text));
    return (await qb.addSelect(score, 'score').orderBy('score', 'DESC').addOrderBy('i.id', 'ASC').getMany()).map((i) => i.title);
  };

  it('finds published items by their words, word starts and system names, best match first, and re-indexes an edit', async () => {
    const system = await createSystem(t, { name: 'Zyxwardian', supplier: 'Quillmoth Health' });
    await createItem(t, { authorId, organisationId, title: 'Zyxwardian discharge letters', summary: 'zyxwardian zyxwardian letters', body: 'zyxwardian everywhere', systemIds: [system.id] });
    await createItem(t, { authorId, organisationId, title: 'Bed management', body: 'We moved to electronic whiteboards', systemIds: [system.id] });
    await createItem(t, { authorId, organisationId, title: 'Unrelated', body: 'nothing to see' });
    await createItem(t, { authorId, organisationId, title: 'Zyxwardian draft', status: 'draft' });

    expect(await search('zyxwardian')).toEqual(['Zyxwardian discharge letters', 'Bed management']);
    expect(await search('Quillmoth')).toEqual(['Zyxwardian discharge letters', 'Bed management']);
    expect(await search('whiteboard')).toEqual(['Bed management']);
    expect(await search('zyxwardian whiteboards')).toEqual(['Bed management']);

    const db = t.app.get(DataSource).getRepository(ExchangeItem);
    const bed = await db.findOneByOrFail({ title: 'Bed management' });
    await db.update({ id: bed.id }, { searchText: 'Paper boards replaced' });
    await db.update({ id: bed.id }, { helpfulCount: 3 });
    expect(await search('whiteboard')).toEqual([]);
    expect(await search('paper boards')).toEqual(['Bed management']);
  });

  it('keeps only the words both engines index', () => {
    expect(searchWords('The EPR  go-live, in an ICU: Café!')).toEqual(['epr', 'live', 'icu', 'café']);
    expect(searchWords('"* + - ( ) ~ < >')).toEqual([]);
    expect(searchWords(null)).toEqual([]);
  });
});

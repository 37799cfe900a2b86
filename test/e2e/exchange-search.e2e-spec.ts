import Handlebars from 'handlebars';
import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock';
import { ExchangeItem } from '../../src/exchange/entities/exchange-item.entity';
import type { CareSetting, ExchangeKind, ExchangeSort } from '../../src/exchange/exchange-kinds';
import { SEARCH_STALE_MS } from '../../src/exchange/search/exchange-search.service';
import { ModerationService } from '../../src/exchange/moderation/moderation.service';
import { REVIEW_CHECKS } from '../../src/exchange/exchange-kinds';
import type { Organisation } from '../../src/organisations/entities/organisation.entity';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { course, topic } from '../support/courses';
import { createItem, createSystem } from '../support/exchange';
import { decodeHtml } from '../support/html-forms';
import { addMember, createOrganisation } from '../support/organisations';
import { saveWebinar } from '../support/webinars';

const DAY = 86_400_000;
/** An href as a page writes it (Handlebars escapes = and &). */
const attr = (value: string) => Handlebars.escapeExpression(value);
const text = (html: string) => decodeHtml(html.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();

/** What the test arranged of one item: the model the expected answers are worked out from. */
interface Arranged {
  id: number;
  slug: string;
  title: string;
  kind: ExchangeKind;
  careSetting: CareSetting | null;
  topics: number[];
  systems: number[];
  organisations: Organisation[];
  publishedAt: number;
  helpful: number;
  adopted: number;
  words: string[];
}

type Filters = Partial<Record<'kind' | 'topic' | 'careSetting' | 'system' | 'organisationType' | 'region', string>>;
type FacetName = keyof Filters;
const FACET_NAMES: FacetName[] = ['kind', 'topic', 'careSetting', 'system', 'organisationType', 'region'];

describe('exchange search: /exchange, GET /api/v1/exchange, facets and related items', () => {
  let t: TestApp;
  let ds: DataSource;
  let anonymous: Visitor;
  let authorId: number;
  let trust: Organisation;
  let icb: Organisation;
  let carers: Organisation;
  let practice: Organisation;
  let topics: Record<'alpha' | 'beta' | 'gamma', { id: number; slug: string; name: string }>;
  let systems: Record<'quorvatron' | 'lindenpas', { id: number; slug: string; name: string; supplier: string }>;
  const arranged: Arranged[] = [];
  const start = Date.UTC(2025, 0, 1);

  const arrange = async (o: { title: string; kind?: ExchangeKind; careSetting?: CareSetting | null; topics?: number[]; systems?: number[]; lead?: Organisation; partners?: Organisation[]; day: number; helpful?: number; adopted?: number; words: string[]; summary?: string; body?: string }) => {
    const kind = o.kind ?? 'case_study';
    const lead = o.lead ?? trust;
    const publishedAt = new Date(start + o.day * DAY);
    const item = await createItem(t, {
      authorId,
      organisationId: lead.id,
      kind,
      title: o.title,
      summary: o.summary ?? `About ${o.words.join(' ')}`,
      body: o.body ?? `We wrote about ${o.words.join(' and ')}.`,
      careSetting: o.careSetting === undefined ? null : o.careSetting,
      topicIds: o.topics ?? [],
      systemIds: o.systems ?? [],
      partnerOrganisationIds: (o.partners ?? []).map((p) => p.id),
      publishedAt,
    });
    await ds.getRepository(ExchangeItem).update({ id: item.id }, { helpfulCount: o.helpful ?? 0, adoptionCount: o.adopted ?? 0 });
    const entry = { id: item.id, slug: item.slug, title: o.title, kind, careSetting: o.careSetting ?? null, topics: o.topics ?? [], systems: o.systems ?? [], organisations: [lead, ...(o.partners ?? [])], publishedAt: publishedAt.getTime(), helpful: o.helpful ?? 0, adopted: o.adopted ?? 0, words: o.words };
    arranged.push(entry);
    return entry;
  };

  // ---- the model: what the answers should be --------------------------------------------------------------

  const slugOfTopic = (id: number) => Object.values(topics).find((x) => x.id === id)!.slug;
  const slugOfSystem = (id: number) => Object.values(systems).find((x) => x.id === id)!.slug;
  const valuesOf = (item: Arranged, facet: FacetName): string[] => {
    switch (facet) {
      case 'kind':
        return [item.kind];
      case 'careSetting':
        return item.careSetting ? [item.careSetting] : [];
      case 'topic':
        return item.topics.map(slugOfTopic);
      case 'system':
        return item.systems.map(slugOfSystem);
      case 'organisationType':
        return [...new Set(item.organisations.map((o) => o.type))];
      case 'region':
        return [...new Set(item.organisations.flatMap((o) => (o.region ? [o.region] : [])))];
    }
  };
  const passes = (item: Arranged, filters: Filters, except?: FacetName) => FACET_NAMES.every((f) => f === except || !filters[f] || valuesOf(item, f).includes(filters[f]!));
  const matching = (word: string | null) => arranged.filter((i) => word === null || i.words.includes(word));
  const ORDER: Record<Exclude<ExchangeSort, 'relevance'>, (a: Arranged, b: Arranged) => number> = {
    newest: (a, b) => b.publishedAt - a.publishedAt || b.id - a.id,
    most_adopted: (a, b) => b.adopted - a.adopted || b.publishedAt - a.publishedAt || b.id - a.id,
    most_helpful: (a, b) => b.helpful - a.helpful || b.publishedAt - a.publishedAt || b.id - a.id,
  };
  const expected = (word: string | null, filters: Filters, sort: Exclude<ExchangeSort, 'relevance'> = 'newest') => matching(word).filter((i) => passes(i, filters)).sort(ORDER[sort]);
  const expectedFacets = (word: string | null, filters: Filters) =>
    Object.fromEntries(
      FACET_NAMES.map((facet) => {
        const counts = new Map<string, number>();
        for (const item of matching(word).filter((i) => passes(i, filters, facet))) for (const v of valuesOf(item, facet)) counts.set(v, (counts.get(v) ?? 0) + 1);
        return [facet, Object.fromEntries([...counts].sort())];
      }),
    );
  const facetCounts = (facets: Record<string, Array<{ value: string; count: number }>>) =>
    Object.fromEntries(FACET_NAMES.map((f) => [f, Object.fromEntries(facets[f].filter((v) => v.count > 0).map((v) => [v.value, v.count]).sort())]));

  const api = async (params: Record<string, string>) => {
    const answer = await anonymous.get(`/api/v1/exchange?${new URLSearchParams(params)}`);
    return { status: answer.status, body: answer.json() };
  };
  /** Lets every cached search and facet count expire, as if the minutes had passed. */
  const later = () => t.app.get(Clock).travel(SEARCH_STALE_MS + 1000);

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    anonymous = t.visitor();
    authorId = (await t.signedIn()).userId;
    const pid = process.pid;
    trust = await createOrganisation(t, { name: `Search Trust ${pid}`, type: 'nhs_trust', region: 'london' });
    icb = await createOrganisation(t, { name: `Search ICB ${pid}`, type: 'icb', region: 'midlands' });
    carers = await createOrganisation(t, { name: `Search Carers ${pid}`, type: 'care_provider', region: 'north_west' });
    practice = await createOrganisation(t, { name: `Search Practice ${pid}`, type: 'gp_practice', region: null });
    // Topics first: the catalogue keeps its list for a few seconds.
    topics = { alpha: await topic(t, `Search alpha ${pid}`), beta: await topic(t, `Search beta ${pid}`), gamma: await topic(t, `Search gamma ${pid}`) };
    const quorvatron = await createSystem(t, { name: 'Quorvatron', supplier: 'Brindlemoor Health' });
    const lindenpas = await createSystem(t, { name: 'Lindenpas', supplier: 'Lindenpas', category: 'pas' });
    systems = { quorvatron, lindenpas };

    // The facet set: one word, every facet varied.
    const w = ['facetword'];
    await arrange({ title: 'Trust case study', kind: 'case_study', careSetting: 'acute', topics: [topics.alpha.id], systems: [quorvatron.id], day: 10, helpful: 5, adopted: 1, words: w });
    await arrange({ title: 'Trust and ICB case study', kind: 'case_study', careSetting: 'acute', topics: [topics.alpha.id, topics.beta.id], systems: [quorvatron.id, lindenpas.id], partners: [icb], day: 11, helpful: 2, adopted: 4, words: w });
    await arrange({ title: 'ICB tool', kind: 'tool', careSetting: 'integrated_care', topics: [topics.beta.id], systems: [lindenpas.id], lead: icb, day: 12, helpful: 9, adopted: 0, words: w });
    await arrange({ title: 'Carers hack', kind: 'hack', careSetting: 'social_care', topics: [topics.gamma.id], lead: carers, day: 13, helpful: 0, adopted: 2, words: w });
    await arrange({ title: 'Practice hack', kind: 'hack', careSetting: null, topics: [topics.alpha.id], systems: [quorvatron.id], lead: practice, day: 14, helpful: 1, adopted: 0, words: w });
    await arrange({ title: 'Practice and carers tool', kind: 'tool', careSetting: 'primary_care', topics: [topics.gamma.id, topics.alpha.id], lead: practice, partners: [carers, trust], day: 15, helpful: 3, adopted: 3, words: w });
    await arrange({ title: 'Two trusts case study', kind: 'case_study', careSetting: 'community', topics: [topics.beta.id], systems: [lindenpas.id], lead: trust, partners: [icb, carers], day: 16, helpful: 7, adopted: 5, words: w });
    // Items without the word: only lists without words find them.
    await arrange({ title: 'Unworded case study', kind: 'case_study', careSetting: 'acute', topics: [topics.alpha.id], day: 20, helpful: 4, adopted: 9, words: [] });
    await arrange({ title: 'Unworded hack', kind: 'hack', topics: [topics.gamma.id], lead: icb, day: 21, words: [] });
    // Relevance: the word in the title and the summary, against once in the body.
    await arrange({ title: 'Some other title', summary: 'Nothing to see in the summary', body: 'Half way down, a single zephquill appears.', kind: 'case_study', day: 30, words: ['zephquill'] });
    await arrange({ title: 'Zephquill handover notes', summary: 'How zephquill notes changed our handover', body: 'The rest of the story.', kind: 'case_study', day: 5, words: ['zephquill'] });
    // Paging: 25 hacks with one word.
    for (let i = 0; i < 25; i++) await arrange({ title: `Pager hack ${i + 1}`, kind: 'hack', topics: [topics.beta.id], day: 40 + i, helpful: i % 4, words: ['pagerword'] });

    // Never found: a draft, one waiting for review, one withdrawn (which keeps its facet rows), all with the word.
    for (const status of ['draft', 'submitted'] as const) {
      await createItem(t, { authorId, organisationId: trust.id, title: `Facetword ${status}`, summary: 'facetword zephquill pagerword', topicIds: [topics.alpha.id], systemIds: [quorvatron.id], status });
    }
    const withdrawn = await createItem(t, { authorId, organisationId: trust.id, title: 'Facetword withdrawn', summary: 'facetword zephquill pagerword', topicIds: [topics.alpha.id], systemIds: [quorvatron.id], publishedAt: new Date(start + 100 * DAY) });
    await ds.getRepository(ExchangeItem).update({ id: withdrawn.id }, { status: 'withdrawn', adoptionCount: 99, helpfulCount: 99 });
  });
  afterAll(() => t.close());

  describe('GET /api/v1/exchange', () => {
    it('answers with the documented shape: items, facets, page, hasNext, total, capped', async () => {
      const { status, body } = await api({ q: 'facetword', sort: 'newest' });
      expect(status).toBe(200);
      expect(Object.keys(body).sort()).toEqual(['capped', 'facets', 'hasNext', 'items', 'page', 'total']);
      expect(Object.keys(body.facets).sort()).toEqual([...FACET_NAMES].sort());
      const first = expected('facetword', {})[0];
      expect(body.items[0]).toEqual({
        slug: first.slug,
        kind: first.kind,
        title: first.title,
        summary: 'About facetword',
        organisation: { id: first.organisations[0].id, name: first.organisations[0].name, type: first.organisations[0].type, region: first.organisations[0].region },
        publishedAt: new Date(first.publishedAt).toISOString(),
        counts: { helpful: first.helpful, adoptions: first.adopted, saves: 0, downloads: 0 },
      });
      expect(body.facets.kind.find((v: { value: string }) => v.value === 'case_study')).toEqual({ value: 'case_study', label: 'Case study', count: 3, selected: false });
      expect(body.facets.system.find((v: { value: string }) => v.value === systems.quorvatron.slug)).toMatchObject({ label: 'Quorvatron (Brindlemoor Health)', count: 3 });
      expect(body).toMatchObject({ page: 1, hasNext: false, total: 7, capped: false });
    });

    it('filters by each facet, with and without words, and counts each facet leaving out its own filter', async () => {
      const cases: Filters[] = [
        {},
        { kind: 'case_study' },
        { kind: 'tool' },
        { kind: 'hack' },
        { careSetting: 'acute' },
        { careSetting: 'social_care' },
        { topic: topics.alpha.slug },
        { topic: topics.gamma.slug },
        { system: systems.quorvatron.slug },
        { system: systems.lindenpas.slug },
        { organisationType: 'icb' },
        { organisationType: 'care_provider' },
        { organisationType: 'gp_practice' },
        { region: 'london' },
        { region: 'north_west' },
        // Combined: every filter must hold.
        { kind: 'case_study', topic: topics.beta.slug },
        { kind: 'tool', organisationType: 'care_provider', region: 'london' },
        { topic: topics.alpha.slug, system: systems.quorvatron.slug, careSetting: 'acute' },
        { kind: 'hack', region: 'midlands' },
      ];
      for (const word of ['facetword', null]) {
        for (const filters of cases) {
          const params = { ...(word ? { q: word } : {}), ...filters, sort: 'newest' };
          const { status, body } = await api(params);
          expect({ params, status }).toEqual({ params, status: 200 });
          const want = expected(word, filters);
          expect({ params, titles: body.items.map((i: { title: string }) => i.title) }).toEqual({ params, titles: want.slice(0, 20).map((i) => i.title) });
          expect({ params, total: body.total, hasNext: body.hasNext }).toEqual({ params, total: want.length, hasNext: want.length > 20 });
          expect({ params, facets: facetCounts(body.facets) }).toEqual({ params, facets: expectedFacets(word, filters) });
          for (const f of FACET_NAMES) {
            const chosen = body.facets[f].filter((v: { selected: boolean }) => v.selected).map((v: { value: string }) => v.value);
            expect({ params, f, chosen }).toEqual({ params, f, chosen: filters[f] ? [filters[f]] : [] });
          }
        }
      }
    });

    it('sorts by relevance, newest, most adopted and most helpful', async () => {
      const relevance = await api({ q: 'zephquill' });
      expect(relevance.body.items.map((i: { title: string }) => i.title)).toEqual(['Zephquill handover notes', 'Some other title']);
      const newest = await api({ q: 'zephquill', sort: 'newest' });
      expect(newest.body.items.map((i: { title: string }) => i.title)).toEqual(['Some other title', 'Zephquill handover notes']);
      for (const sort of ['newest', 'most_adopted', 'most_helpful'] as const) {
        for (const word of ['facetword', null]) {
          const { body } = await api({ ...(word ? { q: word } : {}), sort });
          expect({ sort, word, titles: body.items.map((i: { title: string }) => i.title) }).toEqual({ sort, word, titles: expected(word, {}, sort).slice(0, 20).map((i) => i.title) });
        }
      }
      // Without words the default order is the newest first; with words, relevance.
      expect((await api({})).body.items.map((i: { title: string }) => i.title)).toEqual(expected(null, {}).slice(0, 20).map((i) => i.title));
      expect((await api({ q: 'zephquill', sort: '' })).body.items[0].title).toBe('Zephquill handover notes');
    });

    it('pages 20 at a time, saying whether another page follows', async () => {
      const all = expected('pagerword', {}, 'most_helpful');
      const first = await api({ q: 'pagerword', sort: 'most_helpful' });
      const second = await api({ q: 'pagerword', sort: 'most_helpful', page: '2' });
      const third = await api({ q: 'pagerword', sort: 'most_helpful', page: '3' });
      expect(first.body).toMatchObject({ page: 1, hasNext: true, total: 25 });
      expect(second.body).toMatchObject({ page: 2, hasNext: false, total: 25 });
      expect(third.body).toMatchObject({ page: 3, hasNext: false, items: [] });
      expect([...first.body.items, ...second.body.items].map((i: { title: string }) => i.title)).toEqual(all.map((i) => i.title));
      // Lists without words page through the database.
      const everything = expected(null, {});
      const pages = await Promise.all([1, 2, 3].map((page) => api({ page: String(page) })));
      expect(everything.length).toBeGreaterThan(20);
      expect(everything.length).toBeLessThanOrEqual(40);
      expect(pages.map((p) => [p.body.items.length, p.body.hasNext, p.body.total])).toEqual([
        [20, true, everything.length],
        [everything.length - 20, false, everything.length],
        [0, false, everything.length],
      ]);
      expect(pages.flatMap((p) => p.body.items.map((i: { slug: string }) => i.slug))).toEqual(everything.map((i) => i.slug));
    });

    it('never finds drafts, items waiting for review or withdrawn ones, nor counts them', async () => {
      const { body } = await api({ q: 'facetword' });
      expect(body.items.map((i: { title: string }) => i.title)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^Facetword/)]));
      const all = [...(await api({ page: '1' })).body.items, ...(await api({ page: '2' })).body.items, ...(await api({ page: '3' })).body.items];
      expect(all.some((i: { title: string }) => i.title.startsWith('Facetword'))).toBe(false);
      expect((await api({ sort: 'most_adopted' })).body.items[0].title).toBe('Unworded case study');
      expect((await api({ q: 'zephquill' })).body.total).toBe(2);
      expect((await api({})).body.total).toBe(arranged.length);
    });

    it('finds items by the name of a system or supplier they name, even when their text does not', async () => {
      const bySystem = await api({ q: 'quorvatron', sort: 'newest' });
      const bySupplier = await api({ q: 'Brindlemoor', sort: 'newest' });
      const want = arranged.filter((i) => i.systems.includes(systems.quorvatron.id)).sort(ORDER.newest).map((i) => i.title);
      expect(want.length).toBe(3);
      expect(bySystem.body.items.map((i: { title: string }) => i.title)).toEqual(want);
      expect(bySupplier.body.items.map((i: { title: string }) => i.title)).toEqual(want);
      // A word start finds it too.
      expect((await api({ q: 'quorvat' })).body.total).toBe(3);
    });

    it('shows a newly published item once the cached matches have been read again', async () => {
      expect((await api({ q: 'latecomerword' })).body.total).toBe(0);
      const item = await arrange({ title: 'Latecomer', kind: 'hack', day: 200, words: ['latecomerword'] });
      later();
      expect((await api({ q: 'latecomerword' })).body.items.map((i: { slug: string }) => i.slug)).toEqual([item.slug]);
      expect((await api({})).body.items[0].slug).toBe(item.slug);
    });

    it('refuses a filter it does not know, twice-given parameters, relevance without words and a search with no words, with 400 and a message', async () => {
      const refusals: Array<[Record<string, string> | string, string, RegExp]> = [
        [{ kind: 'banana' }, 'kind', /kind must be one of case_study, tool, hack/],
        [{ careSetting: 'moon' }, 'careSetting', /careSetting must be one of/],
        [{ organisationType: 'guild' }, 'organisationType', /organisationType must be one of/],
        [{ region: 'atlantis' }, 'region', /region must be one of/],
        [{ sort: 'oldest' }, 'sort', /sort must be one of/],
        [{ topic: 'no-such-topic' }, 'topic', /There is no topic “no-such-topic”/],
        [{ topic: 'Not A Slug!' }, 'topic', /topic must be a topic slug/],
        [{ system: 'no-such-system' }, 'system', /There is no system or supplier “no-such-system”/],
        [{ sort: 'relevance' }, 'sort', /Sorting by relevance needs words to search for/],
        [{ q: 'a to it' }, 'q', /Search for words of 3 letters or more/],
        [{ q: 'x'.repeat(201) }, 'q', /200 characters or fewer/],
        [{ page: '0' }, 'page', /page must be 1 or more/],
        [{ page: 'two' }, 'page', /page must be a whole number/],
        [{ colour: 'blue' }, 'colour', /colour/],
        ['kind=tool&kind=hack', 'kind', /given more than once/],
      ];
      for (const [params, field, message] of refusals) {
        const query = typeof params === 'string' ? params : new URLSearchParams(params).toString();
        const answer = await anonymous.get(`/api/v1/exchange?${query}`);
        expect({ query, status: answer.status, type: answer.headers['content-type'] }).toEqual({ query, status: 400, type: expect.stringContaining('application/problem+json') });
        const problem = answer.json();
        expect({ query, code: problem.code, field: problem.errors?.[field] }).toEqual({ query, code: 'validation_failed', field: expect.stringMatching(message) });
      }
    });
  });

  describe('GET /exchange', () => {
    it('lets anonymous visitors search, filter and sort without JavaScript, and shows the filters as removable tags', async () => {
      const page = await anonymous.get(`/exchange?q=facetword&kind=case_study&topic=${topics.beta.slug}&sort=most_helpful`);
      expect(page.status).toBe(200);
      const html = page.body;
      expect(html).toContain('<form method="get" action="/exchange" role="search"');
      expect(html).toMatch(/<input class="nhsuk-input" id="q" name="q" type="search"[^>]*value="facetword"/);
      // Radios for each facet, the chosen ones checked, with counts.
      expect(html).toMatch(/id="kind-any" name="kind" type="radio" value=""/);
      expect(html).toMatch(/name="kind" type="radio" value="case_study" checked/);
      expect(html).toMatch(new RegExp(`name="topic" type="radio" value="${topics.beta.slug}" checked`));
      expect(text(html)).toContain(`Case study (${expectedFacets('facetword', { kind: 'case_study', topic: topics.beta.slug }).kind.case_study})`);
      expect(html).toContain('<option value="most_helpful" selected>Most helpful</option>');
      expect(html).toContain('Apply filters');
      // The results: kind tag, title link, summary, organisation, date, counts.
      const want = expected('facetword', { kind: 'case_study', topic: topics.beta.slug }, 'most_helpful');
      expect(want.map((i) => i.title)).toEqual(['Two trusts case study', 'Trust and ICB case study']);
      const cards = [...html.matchAll(/data-exchange-item="([^"]+)"/g)].map((m) => m[1]);
      expect(cards).toEqual(want.map((i) => i.slug));
      expect(html).toContain(`<a class="nhsuk-card__link" href="/exchange/${want[0].slug}">Two trusts case study</a>`);
      expect(text(html)).toContain(`${trust.name} · 17 January 2025 · 7 found it helpful · adopted by 5 organisations`);
      expect(text(html)).toContain('1 to 2 of 2 items');
      // Each filter is a tag whose link removes it and keeps the rest.
      expect(html).toContain(`href="${attr(`/exchange?q=facetword&topic=${topics.beta.slug}&sort=most_helpful`)}"><span class="nhsuk-u-visually-hidden">Remove the filter </span>Kind: Case study`);
      expect(html).toContain(`href="${attr(`/exchange?q=facetword&kind=case_study&sort=most_helpful`)}"><span class="nhsuk-u-visually-hidden">Remove the filter </span>Topic: ${topics.beta.name}`);
      expect(html).toContain(`href="${attr('/exchange?q=facetword&sort=most_helpful')}">Clear all filters</a>`);
    });

    it('pages with links that keep the search', async () => {
      const first = await anonymous.get('/exchange?q=pagerword&sort=newest');
      expect(first.body).toContain(`href="${attr('/exchange?q=pagerword&sort=newest&page=2')}"`);
      expect(text(first.body)).toContain('1 to 20 of 25 items');
      const second = await anonymous.get('/exchange?q=pagerword&sort=newest&page=2');
      expect(text(second.body)).toContain('21 to 25 of 25 items');
      expect(second.body).toContain(`href="${attr('/exchange?q=pagerword&sort=newest')}"`);
      expect(second.body).not.toContain('page=3');
    });

    it('ignores values it cannot use and says so, rather than failing', async () => {
      const page = await anonymous.get('/exchange?kind=banana&topic=nowhere&sort=relevance&page=zero&q=facetword');
      expect(page.status).toBe(200);
      expect(page.body).toContain('There is a problem');
      const summary = text(page.body);
      expect(summary).toContain('There is no kind “banana”');
      expect(summary).toContain('There is no topic “nowhere”');
      expect(summary).toContain('We have ignored it.');
      expect(page.body).toContain('href="#kind-any"');
      // With nothing to list under a facet, its message links to the filters.
      const empty = await anonymous.get('/exchange?kind=banana&q=nothingmatchesthisword');
      expect(empty.status).toBe(200);
      expect(empty.body).toContain('href="#filters"');
      expect(empty.body).toContain('id="filters"');
      // The rest of the search still runs: every facetword item, best first.
      expect([...page.body.matchAll(/data-exchange-item="([^"]+)"/g)].length).toBe(expected('facetword', {}).length);
      // Relevance without words is ignored: the newest first.
      const noWords = await anonymous.get('/exchange?sort=relevance');
      expect(noWords.status).toBe(200);
      expect(text(noWords.body)).toContain('Sorting by relevance needs words to search for');
      expect(noWords.body).not.toContain('<option value="relevance"');
    });

    it('helps when nothing matches', async () => {
      const page = await anonymous.get('/exchange?q=nothingmatchesthisword&kind=tool');
      expect(page.status).toBe(200);
      expect(page.body).toContain('data-empty-state');
      expect(text(page.body)).toContain('Nothing in the exchange matches “nothingmatchesthisword” with these filters.');
      expect(page.body).toContain(`href="${attr('/exchange?q=nothingmatchesthisword')}">remove the filters</a>`);
      expect(page.body).toContain('href="/peers"');
    });

    it('offers members a link to share, and others a way to become one', async () => {
      expect((await anonymous.get('/exchange')).body).toContain('Sign in to share what your organisation learned');
      const member = await t.signedIn();
      await addMember(t, trust.id, member.userId);
      const memberPage = (await member.get('/exchange')).body;
      expect(memberPage).toMatch(/<a class="nhsuk-button nhsuk-button--secondary"[^>]*href="\/exchange\/new"[^>]*>Share what your organisation learned<\/a>/);
      const loner = await t.signedIn();
      const lonerPage = (await loner.get('/exchange')).body;
      expect(lonerPage).not.toContain('href="/exchange/new"');
      expect(lonerPage).toContain('join your organisation');
    });
  });

  describe('related items', () => {
    const relatedTitles = (html: string) => {
      const section = /<section[^>]*data-related-exchange[\s\S]*?<\/section>/.exec(html);
      return section ? [...section[0].matchAll(/class="nhsuk-card__link" href="\/exchange\/[^"]+">([^<]+)</g)].map((m) => decodeHtml(m[1])) : [];
    };
    /** The three published items on a topic most adopted (then the newest): never the withdrawn one. */
    const topThree = (topicId: number) =>
      arranged
        .filter((i) => i.topics.includes(topicId))
        .sort((a, b) => b.adopted - a.adopted || b.publishedAt - a.publishedAt)
        .slice(0, 3)
        .map((i) => i.title);

    it('shows up to three published exchange items on a course page, from the course’s topic', async () => {
      const onAlpha = await course(t, { title: 'Alpha course', topic: topics.alpha.name, authorId });
      const page = await anonymous.get(`/courses/${onAlpha.slug}`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('From the exchange');
      expect(topThree(topics.alpha.id)).toEqual(['Unworded case study', 'Trust and ICB case study', 'Practice and carers tool']);
      expect(relatedTitles(page.body)).toEqual(topThree(topics.alpha.id));
      expect(page.body).toContain(`href="${attr(`/exchange?topic=${topics.alpha.slug}`)}">More on the exchange about this</a>`);
      // A course on a topic nobody shared anything about shows no panel.
      const lonely = await course(t, { title: 'Lonely course', topic: `Nothing shared ${process.pid}`, authorId });
      const lonelyPage = await anonymous.get(`/courses/${lonely.slug}`);
      expect(lonelyPage.status).toBe(200);
      expect(lonelyPage.body).not.toContain('data-related-exchange');
    });

    it('shows up to three published exchange items on a webinar page, from the webinar’s topic', async () => {
      const webinar = await saveWebinar(t, { authorId, startsAt: new Date(Date.now() + 3 * DAY), title: 'Gamma webinar', topicId: topics.gamma.id });
      const page = await anonymous.get(`/webinars/${webinar.slug}`);
      expect(page.status).toBe(200);
      expect(relatedTitles(page.body)).toEqual(topThree(topics.gamma.id));
      expect(relatedTitles(page.body)).toEqual(['Practice and carers tool', 'Carers hack', 'Unworded hack']);
      const untopical = await saveWebinar(t, { authorId, startsAt: new Date(Date.now() + 3 * DAY), title: 'Untopical webinar' });
      expect((await anonymous.get(`/webinars/${untopical.slug}`)).body).not.toContain('data-related-exchange');
    });

    it('shows courses and webinars on the same topics on an exchange item’s page', async () => {
      const betaCourse = await course(t, { title: 'Beta course', topic: topics.beta.name, authorId });
      await course(t, { title: 'Beta draft course', topic: topics.beta.name, authorId, status: 'draft' });
      const soon = await saveWebinar(t, { authorId, startsAt: new Date(Date.now() + 2 * DAY), title: 'Beta webinar soon', topicId: topics.beta.id });
      const past = await saveWebinar(t, { authorId, startsAt: new Date(Date.now() - 10 * DAY), title: 'Beta webinar past', topicId: topics.beta.id });
      await saveWebinar(t, { authorId, startsAt: new Date(Date.now() + 5 * DAY), title: 'Beta webinar draft', topicId: topics.beta.id, status: 'draft' });
      const item = arranged.find((i) => i.title === 'ICB tool')!;
      const page = await anonymous.get(`/exchange/${item.slug}`);
      expect(page.status).toBe(200);
      const section = /<section[^>]*data-related-learning[\s\S]*?<\/section>/.exec(page.body)?.[0] ?? '';
      expect(section).toContain(`<a href="/courses/${betaCourse.slug}">Beta course</a>`);
      expect(section).not.toContain('Beta draft course');
      const webinars = [...section.matchAll(/<a href="\/webinars\/([^"]+)">/g)].map((m) => m[1]);
      expect(webinars).toEqual([soon.slug, past.slug]);
      // An item on no topic has nothing related.
      const untopical = await createItem(t, { authorId, organisationId: trust.id, title: 'No topics at all' });
      const untopicalPage = await anonymous.get(`/exchange/${untopical.slug}`);
      expect(untopicalPage.status).toBe(200);
      expect(untopicalPage.body).not.toContain('data-related-learning');
    });
  });

  it('finds an item on this instance as soon as a moderator publishes it, and no more once it is withdrawn, without waiting for the cache', async () => {
    const found = async () => (await api({ q: 'novaquellword' })).body.total;
    expect(await found()).toBe(0);
    const waiting = await createItem(t, { authorId, organisationId: trust.id, title: 'Novaquellword rota', summary: 'novaquellword', status: 'submitted' });
    const signedIn = await t.signedIn('moderator');
    const moderator = { id: signedIn.userId, email: signedIn.email, name: 'Test moderator', role: 'moderator' as const, jobRole: 'Tester', organisationId: null, organisationName: null, emailVerified: true };
    await t.app.get(ModerationService).decide(moderator, waiting.latestRevisionId!, { decision: 'publish', checks: [...REVIEW_CHECKS], feedback: '' });
    expect(await found()).toBe(1);
    await t.app.get(ModerationService).withdraw(moderator, waiting.id, 'A test of withdrawing');
    expect(await found()).toBe(0);
  });
});

import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../accounts/identity';
import { ExchangeAccess } from '../contributions/exchange-access';
import { EXCHANGE_SORTS, type ExchangeSort } from '../exchange-kinds';
import { ExchangeSearchService, type ExchangeSearchResult } from './exchange-search.service';
import { EXCHANGE_PAGE_SIZE, FACET_LABELS, FACETS, MAX_SEARCH_HITS, type ExchangeSearch, type Facet } from './search-query';

/** The query parameters of a search, as its links carry them (empty ones left out). */
export function searchParams(search: ExchangeSearch, change: Partial<Record<Facet | 'q' | 'sort' | 'page', string | null>> = {}): URLSearchParams {
  const values: Record<string, string | null> = {
    q: search.q,
    kind: search.kind,
    topic: search.topic?.slug ?? null,
    careSetting: search.careSetting,
    system: search.system?.slug ?? null,
    organisationType: search.organisationType,
    region: search.region,
    // The default order is left out of links, so "relevance" is never carried over once the words are removed.
    sort: search.sort === (search.words.length ? 'relevance' : 'newest') ? null : search.sort,
    page: null,
    ...change,
  };
  return new URLSearchParams(Object.entries(values).filter((e): e is [string, string] => !!e[1]));
}

/** Where each refused parameter's message links to: its field on the page (a facet: its "any" radio). */
const FIELD_ANCHORS: Record<string, string> = { q: '#q', sort: '#sort', page: '#results-heading' };

const href = (params: URLSearchParams) => `/exchange${params.size ? `?${params}` : ''}`;

/** The public list of the exchange, /exchange: search, facets, sorting and pages, all without JavaScript. */
@ApiExcludeController()
@Controller()
export class ExchangeSearchPagesController {
  constructor(
    private readonly search: ExchangeSearchService,
    private readonly access: ExchangeAccess,
  ) {}

  @Public()
  @Get('exchange')
  async list(@Query() raw: Record<string, unknown>, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const viewer = request.identity?.user ?? null;
    // A value the page cannot use is left out, and the page says which and why (never an error page).
    const { search, problems } = await this.search.resolve(raw);
    const [result, sharing] = await Promise.all([this.search.search(search), viewer ? this.access.sharingOrganisations(viewer.id) : Promise.resolve([])]);
    return reply.view('exchange/search/list', {
      pageTitle: search.q ? `Exchange items matching “${search.q}”` : 'The exchange',
      ...this.view(result),
      // A facet's message links to its "Any" radio, or to the filters when the facet has nothing to list.
      errorList: Object.entries(problems).map(([field, text]) => ({ href: FIELD_ANCHORS[field] ?? (result.facets[field as Facet]?.length ? `#${field}-any` : '#filters'), text: `${text}. We have ignored it.` })),
      share: viewer ? (sharing.length ? { href: '/exchange/new' } : { notMember: true }) : { signIn: `/sign-in?next=${encodeURIComponent('/exchange/new')}` },
    });
  }

  private view(result: ExchangeSearchResult) {
    const { search } = result;
    const selected = FACETS.flatMap((facet) => {
      const value = result.facets[facet].find((v) => v.selected);
      return value ? [{ facet, facetLabel: FACET_LABELS[facet], label: value.label, removeHref: href(searchParams(search, { [facet]: null })) }] : [];
    });
    const pageHref = (page: number) => href(searchParams(search, { page: page > 1 ? String(page) : null }));
    const pages = result.total > 0 ? Math.max(1, Math.ceil(result.total / EXCHANGE_PAGE_SIZE)) : 1;
    const sorts = (Object.keys(EXCHANGE_SORTS) as ExchangeSort[]).filter((s) => s !== 'relevance' || search.words.length > 0);
    const first = (result.page - 1) * EXCHANGE_PAGE_SIZE + 1;
    return {
      search,
      facets: FACETS.map((facet) => ({
        name: facet,
        legend: FACET_LABELS[facet],
        values: result.facets[facet].map((v, i) => ({ ...v, id: `${facet}-${i}` })),
        anySelected: result.facets[facet].some((v) => v.selected),
      })).filter((f) => f.values.length > 0),
      selected,
      clearHref: selected.length ? href(searchParams(search, Object.fromEntries(FACETS.map((f) => [f, null])))) : null,
      sorts: sorts.map((s) => ({ value: s, text: EXCHANGE_SORTS[s], selected: s === search.sort })),
      items: result.items.map((c) => ({ ...c, href: `/exchange/${c.slug}` })),
      total: result.total,
      capped: result.capped ? MAX_SEARCH_HITS.toLocaleString('en-GB') : null,
      range: result.items.length ? { first, last: first + result.items.length - 1 } : null,
      pastTheEnd: !result.items.length && result.page > 1 ? { href: pageHref(1) } : null,
      filtered: selected.length > 0,
      previous: result.page > 1 ? { href: pageHref(result.page - 1), title: `Page ${result.page - 1} of ${pages}` } : null,
      next: result.hasNext ? { href: pageHref(result.page + 1), title: `Page ${result.page + 1} of ${pages}` } : null,
    };
  }
}

import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { DomainError } from '../../common/errors';
import { parseForm } from '../../common/forms';
import { DiscussionSearchQueryDto } from './discussion-search.dto';
import { DISCUSSION_QUERY_MAX_LENGTH, DISCUSSION_SEARCH_PAGE_SIZE, DiscussionSearchService, type DiscussionSearchResult } from './discussion-search.service';

const SPACE_KIND_LABELS = { course: 'Course', lesson: 'Lesson', webinar: 'Webinar', exchange: 'Exchange item', community: 'Community' } as const;

/** The search of discussions, /discussions/search: the academy's whole, or one space's (?space=). */
@ApiExcludeController()
@Controller()
export class DiscussionSearchPagesController {
  constructor(private readonly search: DiscussionSearchService) {}

  @Get('discussions/search')
  async page(@SignedInUser() user: CurrentUser, @Query() raw: Record<string, unknown>, @Res() reply: FastifyReply) {
    let query: DiscussionSearchQueryDto;
    try {
      query = await parseForm(DiscussionSearchQueryDto, raw);
    } catch (err) {
      // A space or page that is not a number: the page as if it had not been given, and why.
      if (!(err instanceof DomainError) || err.kind !== 'invalid') throw err;
      return this.render(reply.status(400), { q: typeof raw.q === 'string' ? raw.q : null, space: null, fieldErrors: err.fieldErrors });
    }
    // A space the viewer may not read is 404, before anything about the words.
    const space = await this.search.spaceToSearch(user, query.space);
    if (query.q === undefined) return this.render(reply, { q: null, space });
    try {
      return this.render(reply, { q: query.q, space, result: await this.search.search(user, { q: query.q, spaceId: space?.id, page: query.page }) });
    } catch (err) {
      if (!(err instanceof DomainError) || err.kind !== 'invalid') throw err;
      return this.render(reply.status(400), { q: query.q, space, fieldErrors: err.fieldErrors });
    }
  }

  private render(reply: FastifyReply, view: { q: string | null; space: { id: number; title: string } | null; result?: DiscussionSearchResult; fieldErrors?: Record<string, string> }) {
    const { q, space, result } = view;
    // Every problem is the search box's to fix: a bad space or page comes from a link, and searching again mends it.
    const messages = Object.values(view.fieldErrors ?? {});
    const params = (page: number) => new URLSearchParams([...(q ? [['q', q]] : []), ...(space ? [['space', String(space.id)]] : []), ...(page > 1 ? [['page', String(page)]] : [])] as Array<[string, string]>).toString();
    const pageHref = (page: number) => `/discussions/search?${params(page)}`;
    const first = result ? (result.page - 1) * DISCUSSION_SEARCH_PAGE_SIZE + 1 : 0;
    return reply.view('discussions/search/results', {
      pageTitle: `${q && result ? `Discussions matching “${q}”` : 'Search discussions'}${space ? `: ${space.title}` : ''}`,
      q,
      space: space ? { id: space.id, title: space.title, href: `/discussions/spaces/${space.id}` } : null,
      maxLength: DISCUSSION_QUERY_MAX_LENGTH,
      everywhereHref: `/discussions/search${q ? `?${new URLSearchParams({ q })}` : ''}`,
      errors: messages.length ? { q: messages.join('. ') } : {},
      errorList: messages.map((text) => ({ href: '#q', text })),
      result: result
        ? {
            total: result.total,
            capped: result.capped,
            range: result.items.length ? { first, last: first + result.items.length - 1 } : null,
            items: result.items.map((hit) => ({ ...hit, kindLabel: SPACE_KIND_LABELS[hit.space.kind], spaceHref: `/discussions/spaces/${hit.space.id}`, question: hit.kind === 'question' })),
            pastTheEnd: !result.items.length && result.page > 1 ? { href: pageHref(1) } : null,
            previous: result.page > 1 ? { href: pageHref(result.page - 1), title: `Page ${result.page - 1} of ${result.pages}` } : null,
            next: result.page < result.pages ? { href: pageHref(result.page + 1), title: `Page ${result.page + 1} of ${result.pages}` } : null,
          }
        : null,
    });
  }
}

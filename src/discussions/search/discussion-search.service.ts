import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import type { CurrentUser } from '../../accounts/identity';
import { ValidationFailed } from '../../common/errors';
import { searchWords, whereFullTextMatches, type FullTextTarget } from '../../common/full-text';
import { DiscussionAccess } from '../core/discussion-access';
import { DiscussionSpaces } from '../core/discussion-spaces';
import { DiscussionPost, DiscussionSpace, DiscussionThread, type SpaceKind, type ThreadKind } from '../entities';
import { plainText } from '../threads/post-body';
import { ReadableSpaces } from './readable-spaces';

/** Threads on one page of /discussions/search and of GET /api/v1/discussions/search. */
export const DISCUSSION_SEARCH_PAGE_SIZE = 20;

/** The longest search text taken. */
export const DISCUSSION_QUERY_MAX_LENGTH = 200;

/**
 * A search looks at most at this many matching posts, the newest: a common word in a busy academy matches far more,
 * and nobody pages through more than a thousand threads. Results say so (`capped`).
 */
export const MAX_MATCHED_POSTS = 1000;

/** How long a result's excerpt of its matching post runs, in characters. */
const EXCERPT_LENGTH = 220;

export const QUERY_MISSING = 'Enter words to search the discussions for';
export const QUERY_TOO_LONG = `Search words must be ${DISCUSSION_QUERY_MAX_LENGTH} characters or fewer`;
export const QUERY_WITHOUT_WORDS = 'Enter a word of 3 or more letters or digits: shorter words and common words such as “the” are not searched';

const SEARCH_TARGET: FullTextTarget = { alias: 'p', table: 'discussion_posts', columns: ['search_text'] };

export interface DiscussionSearchInput {
  q?: string | null;
  /** Only this space's threads. */
  spaceId?: number | null;
  page?: number | null;
}

/** A thread found, with the newest of its posts that match. */
export interface DiscussionSearchHit {
  threadId: number;
  title: string;
  kind: ThreadKind;
  space: { id: number; kind: SpaceKind; title: string };
  /** The matching post shown, and where it is on the thread's page. */
  postId: number;
  excerpt: string;
  replyCount: number;
  lastActivityAt: Date;
  href: string;
}

export interface DiscussionSearchResult {
  q: string;
  words: string[];
  /** The space searched, when the search was narrowed to one. */
  space: DiscussionSpace | null;
  items: DiscussionSearchHit[];
  page: number;
  pages: number;
  total: number;
  /** More than MAX_MATCHED_POSTS posts matched: only the newest were looked at. */
  capped: boolean;
}

export const threadPostHref = (threadId: number, postId: number) => `/discussions/threads/${threadId}#post-${postId}`;

/**
 * Search of discussions with the exchange's engine (InnoDB FULLTEXT, SQLite FTS5; common/full-text.ts) over each
 * post's search text (an opening post's holds its thread's title). Only visible posts of visible threads are found,
 * and only in spaces the viewer may read: the spaces of the matches are checked together (ReadableSpaces), so a
 * members-only community's or an unenrolled course's threads are never listed, counted or hinted at. Threads come
 * newest activity first, as every list of threads does; each shows the newest of its matching posts.
 */
@Injectable()
export class DiscussionSearchService {
  constructor(
    @InjectRepository(DiscussionPost) private readonly posts: Repository<DiscussionPost>,
    @InjectRepository(DiscussionThread) private readonly threads: Repository<DiscussionThread>,
    @InjectRepository(DiscussionSpace) private readonly spaceRows: Repository<DiscussionSpace>,
    private readonly spaces: DiscussionSpaces,
    private readonly access: DiscussionAccess,
    private readonly readable: ReadableSpaces,
  ) {}

  /** The words of a search, or ValidationFailed (field `q`) saying what is wrong with it. */
  wordsOf(q: string | null | undefined): { q: string; words: string[] } {
    const text = (q ?? '').trim();
    if (!text) throw new ValidationFailed({ q: QUERY_MISSING }, QUERY_MISSING);
    if ([...text].length > DISCUSSION_QUERY_MAX_LENGTH) throw new ValidationFailed({ q: QUERY_TOO_LONG }, QUERY_TOO_LONG);
    const words = searchWords(text);
    if (!words.length) throw new ValidationFailed({ q: QUERY_WITHOUT_WORDS }, QUERY_WITHOUT_WORDS);
    return { q: text, words };
  }

  /** The space a search is narrowed to, if the viewer may read it (404 otherwise, as for one that does not exist). */
  async spaceToSearch(viewer: CurrentUser, spaceId: number | null | undefined): Promise<DiscussionSpace | null> {
    if (spaceId === null || spaceId === undefined) return null;
    const space = await this.spaces.byId(spaceId);
    await this.access.requireReader(viewer, space);
    return space;
  }

  async search(viewer: CurrentUser, input: DiscussionSearchInput): Promise<DiscussionSearchResult> {
    const space = await this.spaceToSearch(viewer, input.spaceId);
    const { q, words } = this.wordsOf(input.q);
    const page = Math.max(1, input.page ?? 1);

    const matching = this.posts
      .createQueryBuilder('p')
      .innerJoin(DiscussionThread, 't', 't.id = p.threadId')
      .select('p.id', 'postId')
      .addSelect('p.threadId', 'threadId')
      .addSelect('t.spaceId', 'spaceId')
      .where('p.status = :visible', { visible: 'visible' })
      .andWhere('t.status = :visible');
    if (space) matching.andWhere('t.spaceId = :spaceId', { spaceId: space.id });
    whereFullTextMatches(matching, SEARCH_TARGET, words);
    // Threads newest activity first, and within a thread its newest matching post first: the first row of each
    // thread is the one shown, and the cap keeps the most recently active threads.
    const rows = await matching
      .orderBy('t.lastActivityAt', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .addOrderBy('p.createdAt', 'DESC')
      .addOrderBy('p.id', 'DESC')
      .limit(MAX_MATCHED_POSTS + 1)
      .getRawMany<Record<string, unknown>>();
    const capped = rows.length > MAX_MATCHED_POSTS;
    const matches = rows.slice(0, MAX_MATCHED_POSTS).map((r) => ({ postId: Number(r.postId), threadId: Number(r.threadId), spaceId: Number(r.spaceId) }));

    // Which spaces the viewer may read, asked once for all the matches' spaces.
    const spaceIds = [...new Set(matches.map((m) => m.spaceId))];
    const spaceList = space ? [space] : spaceIds.length ? await this.spaceRows.find({ where: { id: In(spaceIds) } }) : [];
    const readable = space ? new Set([space.id]) : await this.readable.among(viewer, spaceList);
    const spacesById = new Map(spaceList.map((s) => [s.id, s]));

    // The newest matching post of each readable thread, in the rows' order.
    const byThread = new Map<number, (typeof matches)[number]>();
    for (const match of matches) if (readable.has(match.spaceId) && !byThread.has(match.threadId)) byThread.set(match.threadId, match);
    const found = [...byThread.values()];

    const total = found.length;
    const pages = Math.max(1, Math.ceil(total / DISCUSSION_SEARCH_PAGE_SIZE));
    const shown = found.slice((page - 1) * DISCUSSION_SEARCH_PAGE_SIZE, page * DISCUSSION_SEARCH_PAGE_SIZE);
    const [threads, posts] = shown.length
      ? await Promise.all([
          this.threads.find({ where: { id: In(shown.map((m) => m.threadId)) }, select: { id: true, title: true, kind: true, replyCount: true, lastActivityAt: true } }),
          this.posts.find({ where: { id: In(shown.map((m) => m.postId)) }, select: { id: true, bodyHtml: true } }),
        ])
      : [[], []];
    const threadsById = new Map(threads.map((t) => [t.id, t]));
    const bodies = new Map(posts.map((p) => [p.id, p.bodyHtml]));
    const items = shown.flatMap((m): DiscussionSearchHit[] => {
      const thread = threadsById.get(m.threadId);
      const where = spacesById.get(m.spaceId);
      if (!thread || !where) return [];
      return [
        {
          threadId: thread.id,
          title: thread.title,
          kind: thread.kind,
          space: { id: where.id, kind: where.kind, title: where.title },
          postId: m.postId,
          excerpt: excerptOf(bodies.get(m.postId) ?? '', words),
          replyCount: thread.replyCount,
          lastActivityAt: thread.lastActivityAt,
          href: threadPostHref(thread.id, m.postId),
        },
      ];
    });
    return { q, words, space, items, page, pages, total, capped };
  }
}

/**
 * A short passage of a post (its stored HTML) around the first of the search's words it contains (or its start): plain text, cut at
 * word boundaries, with an ellipsis where it was cut.
 */
export function excerptOf(html: string, words: readonly string[]): string {
  const text = plainText(html);
  const chars = [...text];
  if (chars.length <= EXCERPT_LENGTH) return text;
  const lower = text.toLowerCase();
  const hits = words.map((w) => lower.indexOf(w)).filter((i) => i >= 0);
  const at = hits.length ? [...text.slice(0, Math.min(...hits))].length : 0;
  let start = Math.max(0, at - Math.floor(EXCERPT_LENGTH / 3));
  const end = Math.min(chars.length, start + EXCERPT_LENGTH);
  start = Math.max(0, end - EXCERPT_LENGTH);
  let passage = chars.slice(start, end).join('');
  if (start > 0) passage = `…${passage.replace(/^\S*\s/, '')}`;
  if (end < chars.length) passage = `${passage.replace(/\s\S*$/, '')}…`;
  return passage;
}

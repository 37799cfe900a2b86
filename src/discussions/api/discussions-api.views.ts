import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { DiscussionPost, DiscussionThread } from '../entities';
import { threadHref, type PersonView, type PostView, type ThreadSummary } from '../threads/threads.service';
import type { DiscussionPersonResponse, DiscussionPostResponse, DiscussionThreadResponse } from './discussions.responses';

const person = (view: PersonView | null): DiscussionPersonResponse | null =>
  view ? { id: view.id, name: view.name, roleLabel: view.roleLabel, organisationName: view.organisationName, handle: view.handle } : null;

/**
 * The API's JSON of threads and posts, from what ThreadsService gives the pages: the same visibility (a placeholder
 * where the caller may not see a body), plus what only the API needs, read in one query per list (a question's
 * accepted answer on a list of threads, the Markdown of the caller's own posts).
 */
@Injectable()
export class DiscussionsApiViews {
  constructor(
    @InjectRepository(DiscussionThread) private readonly threads: Repository<DiscussionThread>,
    @InjectRepository(DiscussionPost) private readonly posts: Repository<DiscussionPost>,
  ) {}

  thread(thread: DiscussionThread, author: PersonView | null): DiscussionThreadResponse {
    return {
      id: thread.id,
      spaceId: thread.spaceId,
      kind: thread.kind,
      title: thread.title,
      status: thread.status,
      pinned: Boolean(thread.pinned),
      locked: Boolean(thread.locked),
      replyCount: Number(thread.replyCount),
      lastActivityAt: thread.lastActivityAt,
      createdAt: thread.createdAt,
      author: person(author),
      acceptedPostId: thread.acceptedPostId,
      url: threadHref(thread.id),
    };
  }

  /** A space's page of threads as the API lists them (one query for their accepted answers). */
  async summaries(spaceId: number, items: ThreadSummary[]): Promise<DiscussionThreadResponse[]> {
    const questions = items.filter((t) => t.answered).map((t) => t.id);
    const rows = questions.length ? await this.threads.find({ where: { id: In(questions) }, select: { id: true, acceptedPostId: true } }) : [];
    const accepted = new Map(rows.map((r) => [r.id, r.acceptedPostId]));
    return items.map((t) => ({
      id: t.id,
      spaceId,
      kind: t.kind,
      title: t.title,
      status: t.status,
      pinned: t.pinned,
      locked: t.locked,
      replyCount: t.replyCount,
      lastActivityAt: t.lastActivityAt,
      createdAt: t.createdAt,
      author: person(t.author),
      acceptedPostId: accepted.get(t.id) ?? null,
      url: t.href,
    }));
  }

  /** Posts as the thread page shows them to the caller, with the Markdown of the caller's own (one query). */
  async postViews(views: readonly PostView[]): Promise<DiscussionPostResponse[]> {
    const own = views.filter((v) => v.mine && v.bodyHtml !== null).map((v) => v.id);
    const rows = own.length ? await this.posts.find({ where: { id: In(own) }, select: { id: true, body: true } }) : [];
    const sources = new Map(rows.map((r) => [r.id, r.body]));
    return views.map((v) => ({
      id: v.id,
      threadId: v.threadId,
      isOpening: v.isOpening,
      status: v.status,
      bodyHtml: v.bodyHtml,
      body: sources.get(v.id) ?? null,
      placeholder: v.placeholder,
      helpfulCount: v.helpfulCount,
      votedByMe: v.votedHelpful,
      createdAt: v.createdAt,
      editedAt: v.editedAt,
      quotedPostId: v.quoted?.id ?? null,
      author: person(v.author),
      accepted: v.accepted,
    }));
  }

  /** A post the caller has just written. */
  ownNewPost(post: DiscussionPost, author: PersonView | null): DiscussionPostResponse {
    return {
      id: post.id,
      threadId: post.threadId,
      isOpening: Boolean(post.isOpening),
      status: post.status,
      bodyHtml: post.bodyHtml,
      body: post.body,
      placeholder: post.status === 'held' ? 'Waiting for a moderator' : null,
      helpfulCount: Number(post.helpfulCount),
      votedByMe: false,
      createdAt: post.createdAt,
      editedAt: post.editedAt,
      quotedPostId: post.quotedPostId,
      author: person(author),
      accepted: false,
    };
  }
}

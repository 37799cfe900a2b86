import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccountsService, DEMO_ADMIN_EMAIL } from '../accounts/accounts.service';
import type { CurrentUser } from '../accounts/identity';
import { Course } from '../catalogue/entities/course.entity';
import { PROJECT_ROOT } from '../common/paths';
import { CommunitiesService } from '../discussions/communities/communities.service';
import { DiscussionSpaces } from '../discussions/core/discussion-spaces';
import { DiscussionSpace, DiscussionThread, type SpaceAccess, type ThreadKind } from '../discussions/entities';
import { DiscussionModeration } from '../discussions/moderation/discussion-moderation.service';
import { Conduct } from '../discussions/threads/conduct';
import { handleOf } from '../discussions/threads/post-body';
import { ThreadsService } from '../discussions/threads/threads.service';
import { DEMO_MODERATOR_EMAIL } from './exchange-seeder';
import { DEMO_HISTORY_DAYS, type DemoHistory } from './organisation-seeder';

/** A community, as written in src/demo/content/discussions/communities.json. */
export interface CommunityDefinition {
  /** The address its title makes (checked: a definition whose title makes another address is an error in the content). */
  slug: string;
  title: string;
  access: SpaceAccess;
  /** Days ago the administrator created it. */
  day: number;
  description: string;
  /** Appointed by the administrator the same morning. */
  moderators: string[];
  members: string[];
  /** People still waiting for the moderators (members-only communities). */
  requests?: string[];
}

/** A thread and its replies, as written in src/demo/content/discussions/threads.json. `@{email}` in a body mentions that person. */
export interface ThreadDefinition {
  space: { community: string } | { course: string };
  kind: ThreadKind;
  title: string;
  author: string;
  day: number;
  body: string;
  replies: Array<{ author: string; /** Minutes after the thread started. */ after: number; body: string; helpful?: string[]; accepted?: boolean }>;
  followers?: string[];
}

const DISCUSSIONS_DIR = join(PROJECT_ROOT, 'src', 'demo', 'content', 'discussions');
const MINUTE = 60_000;

export const demoCommunities = (dir = DISCUSSIONS_DIR): CommunityDefinition[] => JSON.parse(readFileSync(join(dir, 'communities.json'), 'utf8'));
export const demoThreads = (dir = DISCUSSIONS_DIR): ThreadDefinition[] => JSON.parse(readFileSync(join(dir, 'threads.json'), 'utf8'));

/**
 * The demo discussions, told over the same months as the rest of the story and through the academy's own services,
 * as people would do it: the administrator creates the communities and appoints their moderators, people join or ask
 * to join and are approved, accept the code of conduct, ask and answer, vote answers helpful, accept them and follow
 * threads; a post that waits for review is approved by the demo moderator. Their notifications go out as anyone's
 * would. Safe at every start: a community that exists, and a thread whose title its space already has, are left alone.
 */
export async function seedDemoDiscussions(app: INestApplicationContext, history: DemoHistory): Promise<number> {
  const logger = new Logger('DemoDiscussions');
  const accounts = app.get(AccountsService);
  const people = new Map<string, CurrentUser>();
  const person = async (email: string): Promise<CurrentUser> => {
    let found = people.get(email);
    if (!found) {
      const id = await accounts.userIdByEmail(email);
      found = id ? ((await accounts.currentUser(id)) ?? undefined) : undefined;
      if (!found) throw new Error(`Demo discussions: no demo account ${email}`);
      people.set(email, found);
    }
    return found;
  };
  if (!(await accounts.userIdByEmail(DEMO_ADMIN_EMAIL)) || !(await accounts.userIdByEmail(DEMO_MODERATOR_EMAIL))) {
    logger.warn('The demo administrator or moderator is missing: no demo discussions made');
    return 0;
  }
  const story = new DiscussionStory(app, history, person);
  for (const community of demoCommunities()) await story.community(community);
  let threads = 0;
  for (const thread of demoThreads().sort((a, b) => b.day - a.day)) if (await story.thread(thread)) threads++;
  if (threads) logger.log(`Created ${threads} demo discussion threads`);
  return threads;
}

class DiscussionStory {
  private readonly communities: CommunitiesService;
  private readonly threads: ThreadsService;
  private readonly conduct: Conduct;
  private readonly db: DataSource;

  constructor(
    private readonly app: INestApplicationContext,
    private readonly history: DemoHistory,
    private readonly person: (email: string) => Promise<CurrentUser>,
  ) {
    this.communities = app.get(CommunitiesService);
    this.threads = app.get(ThreadsService);
    this.conduct = app.get(Conduct);
    this.db = app.get(DataSource);
  }

  async community(definition: CommunityDefinition): Promise<void> {
    if (await this.db.getRepository(DiscussionSpace).exists({ where: { kind: 'community', slug: definition.slug } })) return;
    const admin = await this.person(DEMO_ADMIN_EMAIL);
    this.at(definition.day, 9 * 60);
    const space = await this.communities.create(admin, { title: definition.title, description: definition.description, access: definition.access });
    if (space.slug !== definition.slug) throw new Error(`Demo community "${definition.title}" is at /communities/${space.slug}, not ${definition.slug}`);
    const slug = space.slug;
    for (const email of definition.moderators) {
      const moderator = await this.person(email);
      this.history.advance(5 * MINUTE);
      await this.communities.join(moderator, slug);
      if (definition.access === 'members') await this.communities.act(admin, slug, moderator.id, 'approve');
      await this.communities.act(admin, slug, moderator.id, 'moderator');
    }
    const approver = await this.person(definition.moderators[0]);
    for (const [i, email] of definition.members.entries()) {
      // Members arrive over the following weeks.
      this.at(definition.day - 3 - i * 4, 10 * 60 + i * 7);
      const member = await this.person(email);
      await this.communities.join(member, slug);
      if (definition.access === 'members') {
        this.history.advance(3 * 60 * MINUTE);
        await this.communities.act(approver, slug, member.id, 'approve');
      }
    }
    for (const email of definition.requests ?? []) {
      this.at(3, 11 * 60);
      await this.communities.join(await this.person(email), slug);
    }
  }

  async thread(definition: ThreadDefinition): Promise<boolean> {
    const spaceId = await this.spaceOf(definition.space);
    if (await this.db.getRepository(DiscussionThread).exists({ where: { spaceId, title: definition.title } })) return false;
    const author = await this.person(definition.author);
    this.at(definition.day, 8 * 60 + 40);
    await this.accepted(author);
    const { thread, post, held } = await this.threads.startThread(author, spaceId, { kind: definition.kind, title: definition.title, body: await this.mentions(definition.body) });
    if (held) await this.approve(post.id);
    const start = this.history.moment(definition.day, 8 * 60 + 40).getTime();
    for (const reply of definition.replies) {
      const writer = await this.person(reply.author);
      this.history.goTo(new Date(start + reply.after * MINUTE));
      await this.accepted(writer);
      const answer = await this.threads.reply(writer, thread.id, { body: await this.mentions(reply.body) });
      if (answer.held) await this.approve(answer.post.id);
      for (const email of reply.helpful ?? []) {
        this.history.advance(11 * MINUTE);
        await this.threads.markHelpful(await this.person(email), answer.post.id);
      }
      if (reply.accepted) {
        this.history.advance(7 * MINUTE);
        await this.threads.accept(author, answer.post.id);
      }
    }
    for (const email of definition.followers ?? []) await this.threads.followThread(await this.person(email), thread.id, true);
    return true;
  }

  private async spaceOf(where: ThreadDefinition['space']): Promise<number> {
    if ('community' in where) return (await this.communities.bySlug(where.community)).id;
    const course = await this.db.getRepository(Course).findOne({ where: { slug: where.course }, select: { id: true } });
    if (!course) throw new Error(`Demo discussions: no demo course ${where.course}`);
    return (await this.app.get(DiscussionSpaces).forSubject('course', course.id)).space.id;
  }

  /** Before their first post, as the pages ask of everyone. */
  private async accepted(user: CurrentUser): Promise<void> {
    if (!(await this.conduct.hasAccepted(user.id))) await this.conduct.accept(user.id);
  }

  /** A post of an account still new or unverified waits for review: the demo moderator approves it. */
  private async approve(postId: number): Promise<void> {
    this.history.advance(20 * MINUTE);
    await this.app.get(DiscussionModeration).approve(await this.person(DEMO_MODERATOR_EMAIL), postId);
  }

  /** `@{email}` in the content becomes that person's @handle. */
  private async mentions(body: string): Promise<string> {
    let text = body;
    for (const [token, email] of body.matchAll(/@\{([^}]+)\}/g)) text = text.replace(token, `@${handleOf(await this.person(email))}`);
    return text;
  }

  private at(daysAgo: number, minutes: number): void {
    this.history.goTo(this.history.moment(Math.min(daysAgo, DEMO_HISTORY_DAYS), minutes));
  }
}

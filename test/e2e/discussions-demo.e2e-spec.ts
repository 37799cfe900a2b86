import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { slugify } from '../../src/common/slug';
import { demoCommunities, demoThreads } from '../../src/demo/discussion-seeder';
import { seedDemo } from '../../src/demo/demo.seeder';
import { DEMO_LEARNER_EMAIL } from '../../src/demo/organisation-seeder';
import { startTestApp, TestApp } from '../support/app';

describe('the demo discussions content (written by the project)', () => {
  it('has communities whose titles make their addresses, open and members-only, each with a moderator', () => {
    const communities = demoCommunities();
    expect(communities.length).toBeGreaterThanOrEqual(4);
    for (const c of communities) {
      expect(slugify(c.title, 120)).toBe(c.slug);
      expect(c.moderators.length).toBeGreaterThan(0);
      expect(c.description.length).toBeGreaterThan(80);
    }
    expect(new Set(communities.map((c) => c.access))).toEqual(new Set(['open', 'members']));
  });

  it('has threads in communities and course discussions, questions with one accepted answer each at most', () => {
    const threads = demoThreads();
    const communities = new Set(demoCommunities().map((c) => c.slug));
    expect(threads.some((t) => 'course' in t.space)).toBe(true);
    for (const thread of threads) {
      if ('community' in thread.space) expect(communities.has(thread.space.community)).toBe(true);
      expect(thread.replies.filter((r) => r.accepted).length).toBeLessThanOrEqual(thread.kind === 'question' ? 1 : 0);
      expect(thread.replies.every((r) => !r.helpful?.includes(r.author))).toBe(true);
    }
  });
});

describe('the demo discussions (seeded with everything else, as at a first start)', () => {
  let t: TestApp;
  let db: DataSource;
  const printed: string[] = [];
  const count = async (sql: string, parameters: unknown[] = []) => Number((await db.query(sql, parameters))[0].n);
  const TABLES = ['discussion_spaces', 'discussion_space_members', 'discussion_threads', 'discussion_posts', 'discussion_votes', 'discussion_follows', 'discussion_mentions', 'discussion_conduct_acceptances', 'audit_log'];
  const counts = async () => Object.fromEntries(await Promise.all(TABLES.map(async (table) => [table, await count(`SELECT COUNT(*) AS n FROM ${table}`)])));
  const credentials = (email: string) => {
    const line = printed.find((l) => l.includes(` ${email} `));
    if (!line) throw new Error(`${email} was not printed`);
    return { email, password: line.trim().split(/\s+/)[2] };
  };

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    const started = performance.now();
    await seedDemo(t.app, t.config.publicUrl, (line) => printed.push(line));
    process.stdout.write(`demo seeding with discussions (${t.engines.kind}): ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    await t.drainJobs(60_000);
  }, 240_000);
  afterAll(() => t.close());

  it('makes every community and thread, every post visible (held ones approved by the demo moderator)', async () => {
    expect(await count("SELECT COUNT(*) AS n FROM discussion_spaces WHERE kind = 'community'")).toBe(demoCommunities().length);
    expect(await count('SELECT COUNT(*) AS n FROM discussion_threads')).toBe(demoThreads().length);
    const replies = demoThreads().reduce((n, thread) => n + thread.replies.length, 0);
    expect(await count('SELECT COUNT(*) AS n FROM discussion_posts')).toBe(demoThreads().length + replies);
    expect(await count("SELECT COUNT(*) AS n FROM discussion_posts WHERE status <> 'visible'")).toBe(0);
    // Counters agree with their rows.
    expect(await count('SELECT COUNT(*) AS n FROM discussion_posts p WHERE p.helpful_count <> (SELECT COUNT(*) FROM discussion_votes v WHERE v.post_id = p.id)')).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM discussion_threads th WHERE th.reply_count <> (SELECT COUNT(*) FROM discussion_posts p WHERE p.thread_id = th.id AND p.is_opening = ? AND p.status = ?)', [false, 'visible'])).toBe(0);
    const accepted = demoThreads().filter((thread) => thread.replies.some((r) => r.accepted)).length;
    expect(await count('SELECT COUNT(*) AS n FROM discussion_threads WHERE accepted_post_id IS NOT NULL')).toBe(accepted);
    expect(await count('SELECT COUNT(*) AS n FROM discussion_mentions')).toBeGreaterThan(0);
    // Everyone who posted accepted the code of conduct first, and was told of replies as anyone is.
    expect(await count('SELECT COUNT(*) AS n FROM discussion_posts p WHERE NOT EXISTS (SELECT 1 FROM discussion_conduct_acceptances c WHERE c.user_id = p.author_id)')).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM in_app_notifications WHERE kind = 'discussion-reply'")).toBeGreaterThan(0);
  });

  it('has a members-only community with its members, moderator and a request still waiting, each decision in the audit log', async () => {
    const epr = demoCommunities().find((c) => c.access === 'members')!;
    const [space] = await db.query('SELECT id FROM discussion_spaces WHERE slug = ?', [epr.slug]);
    expect(await count("SELECT COUNT(*) AS n FROM discussion_space_members WHERE space_id = ? AND status = 'member'", [space.id])).toBe(epr.moderators.length + epr.members.length);
    expect(await count("SELECT COUNT(*) AS n FROM discussion_space_members WHERE space_id = ? AND status = 'requested'", [space.id])).toBe(epr.requests!.length);
    expect(await count("SELECT COUNT(*) AS n FROM discussion_space_members WHERE space_id = ? AND role = 'moderator'", [space.id])).toBe(epr.moderators.length);
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'discussion.member.approved'")).toBeGreaterThan(0);
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'discussion.community.created'")).toBe(demoCommunities().length);
  });

  it('reads as a living discussion to the demo learner: communities, a course discussion with an accepted answer, a closed space she cannot see', async () => {
    const learner = t.visitor();
    const { email, password } = credentials(DEMO_LEARNER_EMAIL);
    await learner.signIn(email, password);
    const list = await learner.get('/communities');
    expect(list.status).toBe(200);
    for (const c of demoCommunities()) expect(list.body).toContain(c.title.replace('&', '&amp;'));
    const course = await learner.get('/courses/clinical-safety-dcb0129-dcb0160/discussion');
    expect(course.status).toBe(303);
    const space = await learner.get(String(course.headers.location));
    expect(space.status).toBe(200);
    expect(space.body).toContain('Does a change to a report template need a new safety case?');
    expect((await learner.get('/communities/epr-programme-leads')).status).toBe(404);
  });

  it('changes nothing when it runs again', async () => {
    const before = await counts();
    await seedDemo(t.app, t.config.publicUrl, () => undefined);
    await t.drainJobs(60_000);
    expect(await counts()).toEqual(before);
  }, 120_000);
});

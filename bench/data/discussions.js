'use strict';

/**
 * Data of the discussion benches (bench/discussions-thread.js, bench/discussions-live.js), written straight to
 * MariaDB after the app's own migrations made the tables: an open community, people (placeholder password hashes:
 * nobody signs in with a password; their browser sessions are written to Redis as the app's session store writes
 * them), and one thread with REPLIES visible replies by 50 repliers, each reply's HTML rendered by the app's own
 * Markdown renderer (dist/src/common/markdown.js), as posting does.
 */

const crypto = require('node:crypto');
const path = require('node:path');
const IORedis = require('ioredis');
const { ROOT } = require('../lib');

const REPLIERS = 50;
const SESSION_TTL_HOURS = 12;
const sha256 = (t) => crypto.createHash('sha256').update(t).digest('hex');
const newToken = () => crypto.randomBytes(32).toString('base64url');

const SENTENCES = [
  'We ran a hazard workshop for the new EPR module last spring and the clinical safety case took three rounds.',
  'Our DCB0129 hazard log lives beside the release notes, so every upgrade gets a look from the safety officer.',
  'The supplier shared their own hazard log, which saved us weeks, but we still had to map it to local workflows.',
  'Make sure the ward managers are in the room: they know where the workarounds are.',
  'We found **medication reconciliation** was the riskiest part; the discharge summary came next.',
  'A short checklist before go-live caught two issues with allergy alerts that testing had missed.',
  'Has anyone linked their incident reporting system to the hazard log? We do it by hand every month.',
  'Training the super-users first, then letting them run the floor walking, worked far better than classroom sessions.',
];

/** Body of reply `i`: two or three sentences of Markdown, sometimes a list. Deterministic. */
function replyBody(i) {
  const pick = (k) => SENTENCES[(i * 7 + k * 3) % SENTENCES.length];
  const body = [pick(0), pick(1)];
  if (i % 3 === 0) body.push(`- ${pick(2)}\n- ${pick(3)}`);
  if (i % 5 === 0) body.push(`Reply ${i}: ${pick(4)}`);
  return body.join('\n\n');
}

/**
 * Writes the community, `readers` readers, `posters` trusted posters (verified, two days old, code of conduct
 * accepted: their replies are published at once) and the thread with its replies. Returns their ids.
 */
async function seedDiscussion(db, { replies, readers, posters, log = console.log }) {
  const { renderMarkdown } = require(path.join(ROOT, 'dist', 'src', 'common', 'markdown.js'));
  const now = new Date();
  const twoDaysAgo = new Date(now.getTime() - 2 * 24 * 3600_000);
  const started = Date.now();
  const people = async (label, count, fields = {}) => {
    if (!count) return [];
    const rows = Array.from({ length: count }, (_, i) => [`bench.discussion.${label}.${i}@example.nhs.uk`, `${label[0].toUpperCase()}${label.slice(1)} Number ${i}`, 'x', 'learner', null, 'Clinical safety officer', fields.createdAt || now, fields.verifiedAt || null]);
    const [first] = await db.query('INSERT INTO users (email, name, password_hash, role, organisation_id, job_role, created_at, email_verified_at) VALUES ?', [rows]);
    return Array.from({ length: count }, (_, i) => first.insertId + i);
  };
  const [authorId] = await people('author', 1, { createdAt: twoDaysAgo, verifiedAt: twoDaysAgo });
  const replierIds = await people('replier', REPLIERS, { createdAt: twoDaysAgo, verifiedAt: twoDaysAgo });
  const readerIds = await people('reader', readers);
  const posterIds = await people('poster', posters, { createdAt: twoDaysAgo, verifiedAt: twoDaysAgo });
  if (posterIds.length) await db.query('INSERT INTO discussion_conduct_acceptances (user_id, version, accepted_at) VALUES ?', [posterIds.map((id) => [id, 1, twoDaysAgo])]);

  const [space] = await db.query('INSERT INTO discussion_spaces SET ?', [
    { kind: 'community', subject_id: null, parent_id: null, slug: 'bench-clinical-safety', title: 'Clinical safety officers', description: 'Where clinical safety officers share what works.', access: 'open', thread_count: 1, created_by_id: null, created_at: twoDaysAgo, updated_at: now },
  ]);
  const title = 'Hazard workshops for a new EPR module';
  const [thread] = await db.query('INSERT INTO discussion_threads SET ?', [
    { space_id: space.insertId, author_id: authorId, kind: 'discussion', title, status: 'visible', pinned: 0, locked: 0, opening_post_id: null, accepted_post_id: null, reply_count: replies, last_activity_at: now, created_at: twoDaysAgo, updated_at: now },
  ]);
  const threadId = thread.insertId;
  const post = (authorOf, body, at, opening) => [threadId, authorOf, opening ? 1 : 0, body, renderMarkdown(body, { demoteHeadings: true }), opening ? `${title}\n${body}` : body, null, 'visible', null, 0, null, at, at, at];
  const columns = '(thread_id, author_id, is_opening, body, body_html, search_text, quoted_post_id, status, status_reason, helpful_count, edited_at, fanned_out_at, created_at, updated_at)';
  const [opening] = await db.query(`INSERT INTO discussion_posts ${columns} VALUES ?`, [[post(authorId, 'Has anyone run a hazard workshop for a new EPR module? What did the clinical safety case need?', twoDaysAgo, true)]]);
  await db.query('UPDATE discussion_threads SET opening_post_id = ? WHERE id = ?', [opening.insertId, threadId]);
  const span = now.getTime() - twoDaysAgo.getTime();
  const rows = Array.from({ length: replies }, (_, i) => post(replierIds[i % REPLIERS], replyBody(i), new Date(twoDaysAgo.getTime() + Math.round(((i + 1) / (replies + 1)) * span)), false));
  for (let i = 0; i < rows.length; i += 1000) await db.query(`INSERT INTO discussion_posts ${columns} VALUES ?`, [rows.slice(i, i + 1000)]);
  log(`bench: discussions: ${1 + REPLIERS + readers + posters} people, a community and a thread with ${replies} replies written in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { spaceId: space.insertId, threadId, authorId, readerIds, posterIds };
}

/** Browser sessions written to Redis as RedisSessionStore.create does; returns the session cookie header of each. */
async function redisSessions(redisUrl, prefix, userIds) {
  const redis = new IORedis(redisUrl);
  try {
    const tokens = userIds.map(() => newToken());
    const ttl = SESSION_TTL_HOURS * 3600;
    for (let i = 0; i < userIds.length; i += 500) {
      const multi = redis.multi();
      for (let j = i; j < Math.min(userIds.length, i + 500); j++) {
        const id = sha256(tokens[j]);
        const now = Date.now();
        multi.set(`${prefix}:session:${id}`, JSON.stringify({ userId: userIds[j], createdAt: now, expiresAt: now + ttl * 1000, userAgent: 'bench' }), 'EX', ttl);
        multi.sadd(`${prefix}:user-sessions:${userIds[j]}`, id).expire(`${prefix}:user-sessions:${userIds[j]}`, ttl);
      }
      await multi.exec();
    }
    return tokens.map((t) => `academy_session=${t}`);
  } finally {
    redis.disconnect();
  }
}

/** The web app's environment for a bench database (PROCESS_ROLE=web with Redis, as behind a load balancer). */
function appEnvironment({ databaseUrl, redisUrl, prefix }) {
  return {
    NODE_ENV: 'production',
    PROCESS_ROLE: 'web',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    SESSION_SECRET: crypto.randomBytes(32).toString('hex'),
    SESSION_TTL_HOURS: String(SESSION_TTL_HOURS),
  };
}

/**
 * Creates database `name` afresh (a few seconds: the data is small), lets a web process of the app migrate it and
 * keeps that process running for the bench. Returns { web, db, databaseUrl }; the caller stops both.
 */
async function freshDiscussionDatabase({ mysqlUrl, redisUrl, prefix, name, logFile, startAppServer }) {
  const mysql = require('mysql2/promise');
  const admin = await mysql.createConnection(mysqlUrl);
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const databaseUrl = `${mysqlUrl.replace(/\/+$/, '')}/${name}`;
  const web = await startAppServer(appEnvironment({ databaseUrl, redisUrl, prefix }), { logFile });
  const db = await mysql.createConnection({ uri: databaseUrl, timezone: 'Z' });
  return { web, db, databaseUrl };
}

module.exports = { seedDiscussion, redisSessions, freshDiscussionDatabase, replyBody };

'use strict';

/**
 * The followers bench (issue 15): a new thread in a community that FOLLOWERS people follow, every one of them having
 * chosen new threads "as it happens", started through the space's form (POST /discussions/spaces/{id}/new with its
 * CSRF token) on a web process, and worked by TWO worker processes (MariaDB + Redis): the fan-out job hands out the
 * in-app notifications a page of 1,000 followers at a time, and one e-mail job per batch of notifications claims and
 * sends them to a local SMTP server in this process. Budget: every follower's e-mail within 60 s of the POST's answer,
 * none twice. Also reported: the outbox rows and the notifications marked e-mailed.
 *
 * Data: bench/data/discussions.js (people, the community) in the database academy_bench_discussions_followers, made
 * afresh each run, then the follows and the settings written straight to the tables.
 * Usable alone after a build: `node bench/run.js discussions-followers`. Skipped when MariaDB or Redis is not there.
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const mysql = require('mysql2/promise');
const { redisSessions, seedDiscussion } = require('./data/discussions');
const { cookiesOf, deleteRedisKeys, expectStatus, loadNow, mysqlReachable, redisReachable, request, startAppServer, startSmtpSink, startWorker } = require('./lib');

const DATABASE = 'academy_bench_discussions_followers';
const FOLLOWERS = Number(process.env.BENCH_DISCUSSION_FOLLOWERS || 10_000);
const WORKER_CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY || 16);
const BUDGET_SECONDS = 60;
const SESSION_TTL_HOURS = 12;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every reader of the seeded community follows it and wants new threads there by e-mail as they happen. */
async function followSpace(db, spaceId, userIds) {
  const now = new Date();
  for (let i = 0; i < userIds.length; i += 5000) {
    const batch = userIds.slice(i, i + 5000);
    await db.query('INSERT INTO discussion_follows (user_id, thread_id, space_id, created_at) VALUES ?', [batch.map((id) => [id, null, spaceId, now])]);
    await db.query('INSERT INTO notification_settings (user_id, kind, delivery, updated_at) VALUES ?', [batch.map((id) => [id, 'discussion-new-thread', 'instant', now])]);
  }
}

async function benchDiscussionFollowers({ resultsDir = null, log = console.log } = {}) {
  const mysqlUrl = process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306';
  const redisUrl = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
  log(`\nbench: discussions followers: a new thread in a space with ${FOLLOWERS.toLocaleString('en-GB')} followers (instant e-mail), 2 worker processes (JOBS_CONCURRENCY=${WORKER_CONCURRENCY}), MariaDB + Redis, SMTP in this process`);
  if (!(await mysqlReachable(mysqlUrl))) {
    log('bench: discussions followers: skipped: MariaDB not reachable');
    return { skipped: 'MariaDB not reachable' };
  }
  if (!(await redisReachable(redisUrl))) {
    log('bench: discussions followers: skipped: Redis not reachable');
    return { skipped: 'Redis not reachable' };
  }
  const admin = await mysql.createConnection(mysqlUrl);
  await admin.query(`DROP DATABASE IF EXISTS \`${DATABASE}\``);
  await admin.query(`CREATE DATABASE \`${DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const databaseUrl = `${mysqlUrl.replace(/\/+$/, '')}/${DATABASE}`;
  const prefix = `bench-${crypto.randomBytes(4).toString('hex')}-discussions-followers`;
  const smtp = await startSmtpSink();
  // One environment for the web process and both workers: the same secret signs and checks the unsubscribe links.
  const appEnv = {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    SMTP_URL: smtp.url,
    SESSION_SECRET: crypto.randomBytes(32).toString('hex'),
    SESSION_TTL_HOURS: String(SESSION_TTL_HOURS),
  };
  // The web process migrates the new database; it consumes no jobs.
  const web = await startAppServer({ ...appEnv, PROCESS_ROLE: 'web' }, { logFile: resultsDir ? path.join(resultsDir, 'app-discussions-followers.log') : null });
  Object.assign(appEnv, { MIGRATE_ON_BOOT: 'false', PUBLIC_URL: web.url });
  const db = await mysql.createConnection({ uri: databaseUrl, timezone: 'Z' });
  const dataDirs = [];
  let workers = [];
  try {
    const seeded = Date.now();
    const data = await seedDiscussion(db, { replies: 0, readers: FOLLOWERS, posters: 1, log });
    await followSpace(db, data.spaceId, data.readerIds);
    log(`bench: discussions followers: ${FOLLOWERS.toLocaleString('en-GB')} follows and e-mail settings written (${((Date.now() - seeded) / 1000).toFixed(1)} s with the people)`);
    const [poster] = await redisSessions(redisUrl, prefix, data.posterIds);

    workers = [1, 2].map((n) => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `academy-bench-followers-worker${n}-`));
      dataDirs.push(dataDir);
      return startWorker(`worker ${n}`, { ...appEnv, PROCESS_ROLE: 'worker', DATA_DIR: dataDir, JOBS_CONCURRENCY: String(WORKER_CONCURRENCY), LOG_LEVEL: 'info' });
    });
    await Promise.all(workers.map((w) => w.ready));

    // The poster's browser: the new-thread form, its CSRF cookie and token, then the POST.
    const formPath = `/discussions/spaces/${data.spaceId}/new`;
    const form = expectStatus(await request(web.url + formPath, { headers: { cookie: poster } }), [200], `GET ${formPath}`);
    const token = /name="_csrf" value="([^"]+)"/.exec(form.text);
    const csrf = Object.entries(cookiesOf(form)).find(([name]) => name.endsWith('academy_csrf'));
    if (!token || !csrf) throw new Error(`GET ${formPath} gave the poster no form with a CSRF token (or no CSRF cookie)`);
    const before = smtp.arrivals.length;
    const body = new URLSearchParams({ _csrf: token[1], kind: 'discussion', title: 'Bench: who has moved to the new EPR release?', body: 'We go live next month. What caught you out?' }).toString();
    const posted = await request(web.url + formPath, { method: 'POST', headers: { cookie: `${poster}; ${csrf[0]}=${csrf[1]}`, 'content-type': 'application/x-www-form-urlencoded' }, body });
    if (posted.status !== 303 || !/^\/discussions\/threads\/\d+/.test(posted.headers.location || '')) throw new Error(`POST ${formPath} answered ${posted.status} (${posted.headers.location || 'no location'}), not 303 to the thread: ${posted.text.slice(0, 300)}`);
    const postedAt = posted.at;
    log(`bench: discussions followers: thread started (POST answered 303 in ${posted.ms.toFixed(0)} ms); waiting for ${FOLLOWERS.toLocaleString('en-GB')} e-mails`);

    const expected = new Set(data.readerIds.map((_, i) => `bench.discussion.reader.${i}@example.nhs.uk`));
    const deadline = postedAt + 180_000;
    let lastCount = -1;
    let lastChange = Date.now();
    const arrived = () => smtp.arrivals.slice(before).filter((a) => expected.has(a.to));
    while (new Set(arrived().map((a) => a.to)).size < FOLLOWERS && Date.now() < deadline) {
      await sleep(250);
      const n = arrived().length;
      if (n !== lastCount) {
        lastCount = n;
        lastChange = Date.now();
      } else if (n > 0 && Date.now() - lastChange > 60_000) break; // stalled
    }
    // A little longer, to catch any late duplicate.
    await sleep(3000);
    const arrivals = arrived();
    const recipients = new Set(arrivals.map((a) => a.to));
    const missing = [...expected].filter((e) => !recipients.has(e)).length;
    const duplicates = arrivals.length - recipients.size;
    const times = arrivals.map((a) => a.at).sort((a, b) => a - b);
    const firstS = times.length ? (times[0] - postedAt) / 1000 : NaN;
    const lastS = times.length ? (times[times.length - 1] - postedAt) / 1000 : NaN;
    const [[outbox]] = await db.query("SELECT COUNT(*) AS n, SUM(status = 'sent') AS sent, SUM(attempts > 1) AS retried FROM mail_messages WHERE template = 'discussion-notification'");
    const [[notified]] = await db.query("SELECT COUNT(*) AS n, SUM(emailed_at IS NOT NULL) AS emailed FROM in_app_notifications WHERE kind = 'discussion-new-thread'");
    const pass = recipients.size === FOLLOWERS && missing === 0 && duplicates === 0 && lastS <= BUDGET_SECONDS;
    log(
      `bench: discussions followers: ${arrivals.length.toLocaleString('en-GB')} e-mails received for ${recipients.size.toLocaleString('en-GB')} followers (${missing} missing), ${duplicates} duplicates; first ${firstS.toFixed(1)} s, last ${lastS.toFixed(1)} s after the POST`,
    );
    log(`bench: discussions followers: last e-mail ${lastS.toFixed(1)} s after the POST (budget: all ${FOLLOWERS.toLocaleString('en-GB')} within ${BUDGET_SECONDS} s, 0 duplicates: ${pass ? 'PASS' : 'FAIL'})   (${loadNow().text})`);
    log(`bench: discussions followers: ${Number(notified.n).toLocaleString('en-GB')} notifications (${Number(notified.emailed).toLocaleString('en-GB')} marked e-mailed); outbox: ${outbox.n} rows, ${outbox.sent} sent, ${outbox.retried || 0} retried`);
    const perWorker = workers.map((w, i) => `worker ${i + 1}: ${(w.output().match(/"level":(40|50)|\bERROR\b|\bWARN\b/g) || []).length} warning/error lines`);
    log(`bench: discussions followers: ${perWorker.join('; ')}`);
    return {
      database: DATABASE,
      followers: FOLLOWERS,
      workers: 2,
      workerConcurrency: WORKER_CONCURRENCY,
      received: arrivals.length,
      recipients: recipients.size,
      missing,
      duplicates,
      firstSeconds: firstS,
      lastSeconds: lastS,
      outbox: { rows: Number(outbox.n), sent: Number(outbox.sent), retried: Number(outbox.retried || 0) },
      notifications: { rows: Number(notified.n), emailed: Number(notified.emailed) },
      budget: `all ${FOLLOWERS} within ${BUDGET_SECONDS} s of the POST, 0 duplicates`,
      pass,
      loadAverage: loadNow(),
      budgets: [{ name: `discussions: a new thread's instant e-mails to ${FOLLOWERS.toLocaleString('en-GB')} followers within ${BUDGET_SECONDS} s, once each (2 workers)`, pass }],
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
    await db.end();
    await smtp.close();
    await web.stop();
    await deleteRedisKeys(redisUrl, `${prefix}*`).catch(() => {});
  }
}

module.exports = { benchDiscussionFollowers };

'use strict';

/**
 * Signed-in pages at 10 connections (issue 16): "My learning" (the 10k database's bench learner, 20 enrolments), the
 * manager's dashboard (the organisations bench's organisation and manager), the exchange front page and a discussion
 * thread of 100 replies, each as a signed-in person, on MariaDB + Redis with one web process (PROCESS_ROLE=web).
 * Budget for each: ≥ 1,000 requests/s and p99 ≤ 25 ms, no non-2xx.
 *
 * Each page is measured in rounds until two consecutive rounds agree within 10% on requests/s (at most 5 rounds);
 * the median round is reported. Before measuring, the SELECTs one request costs: Com_select (SHOW GLOBAL STATUS)
 * before and after 20 sequential requests, divided by 20 (global: anything else on the server counts too).
 *
 * Data, from the other benches' builders: bench/data/learning.js (academy_bench_10k; BENCH_SIGNED_IN_LEARNING=1m for
 * the 1,000,000-enrolment database), bench/organisations.js's organisation on that same database (5,000 staff on 1M,
 * all 1,000 generated learners on 10k), bench/data/exchange.js (academy_bench_exchange), bench/data/discussions.js
 * (academy_bench_signed_in_thread, made afresh).
 *
 * Usable alone after a build: `node bench/run.js signed-in`. Skipped when MariaDB or Redis is not there.
 */

const crypto = require('node:crypto');
const path = require('node:path');
const { connect, ensureLearningDatabase, reachable } = require('./data/learning');
const { ensureExchangeDatabase } = require('./data/exchange');
const { freshDiscussionDatabase, redisSessions, seedDiscussion } = require('./data/discussions');
const { signedInLearner } = require('./learning');
const { ensureOrganisation, signedInManager } = require('./organisations');
const { deleteRedisKeys, expectStatus, loadNow, measure, printRow, redisReachable, request, startAppServer } = require('./lib');

const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const LEARNING = process.env.BENCH_SIGNED_IN_LEARNING === '1m' ? { database: 'academy_bench_1m', enrolments: 1_000_000 } : { database: 'academy_bench_10k', enrolments: 10_000 };
const EXCHANGE_DATABASE = 'academy_bench_exchange';
const THREAD_DATABASE = 'academy_bench_signed_in_thread';
const THREAD_REPLIES = 100;
const BUDGET = { reqPerSec: 1000, p99Ms: 25 };
const AGREE_WITHIN = 0.1;
const MAX_ROUNDS = 5;
const SELECT_SAMPLE = 20;

/** The median of numbers (the mean of the middle two for an even count). */
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function comSelect(conn) {
  const [[row]] = await conn.query("SHOW GLOBAL STATUS LIKE 'Com_select'");
  return Number(row.Value);
}

/** SELECTs per request: Com_select around SELECT_SAMPLE sequential requests (less the two status queries' own). */
async function selectsPerRequest(conn, url, cookie) {
  const before = await comSelect(conn);
  for (let i = 0; i < SELECT_SAMPLE; i++) expectStatus(await request(url, { headers: { cookie } }), [200], `GET ${url}`);
  const after = await comSelect(conn);
  return (after - before) / SELECT_SAMPLE;
}

/** Rounds until two consecutive agree within 10% on req/s (at most MAX_ROUNDS); the first round has the warm-up. */
async function measureUntilSteady(url, cookie, settings, log) {
  const rounds = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const result = await measure(url, { connections: settings.connections, duration: settings.duration, pipelining: settings.pipelining, workers: settings.workers, warmupSeconds: round === 0 ? settings.warmupSeconds : 0, headers: { cookie } });
    rounds.push(result);
    log(printRow(`#${round + 1}`, result));
    if (rounds.length >= 2) {
      const [a, b] = rounds.slice(-2).map((r) => r.reqPerSec);
      if (Math.abs(a - b) <= AGREE_WITHIN * Math.max(a, b)) return { rounds, steady: true };
    }
  }
  return { rounds, steady: false };
}

async function benchSignedIn(settings, { resultsDir = null, log = console.log } = {}) {
  const serverUrl = process.env.BENCH_MYSQL_URL || DEFAULT_MYSQL_URL;
  const redisUrl = process.env.BENCH_REDIS_URL || DEFAULT_REDIS_URL;
  const shown = serverUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  log(`\n== Signed-in pages (${shown}; one web process per database; ≥ ${BUDGET.reqPerSec.toLocaleString('en-GB')} req/s and p99 ≤ ${BUDGET.p99Ms} ms each)`);
  const up = await reachable(serverUrl);
  if (!up.ok) {
    log(`skipped: MariaDB not reachable (${up.reason})`);
    return { skipped: `MariaDB not reachable at ${shown}: ${up.reason}` };
  }
  if (!(await redisReachable(redisUrl))) {
    log(`skipped: Redis not reachable at ${redisUrl}`);
    return { skipped: `Redis not reachable at ${redisUrl}` };
  }
  const logFile = (name) => (resultsDir ? path.join(resultsDir, `app-signed-in-${name}.log`) : null);
  const prefix = `bench-${crypto.randomBytes(4).toString('hex')}-signed-in`;
  const webEnv = (url, key) => ({ DATABASE_URL: url, REDIS_URL: redisUrl, REDIS_PREFIX: `${prefix}-${key}`, PROCESS_ROLE: 'web', MIGRATE_ON_BOOT: 'false' });
  const report = { budget: `≥ ${BUDGET.reqPerSec} req/s and p99 ≤ ${BUDGET.p99Ms} ms at ${settings.connections} connections`, pages: {}, budgets: [] };
  const stops = [];
  const admin = await connect(serverUrl);
  try {
    const [[server]] = await admin.query('SELECT VERSION() AS version, @@innodb_buffer_pool_size AS pool');
    report.server = { version: server.version, bufferPoolBytes: Number(server.pool) };

    // The pages, each with its app and signed-in cookie.
    const pages = [];
    const learning = await ensureLearningDatabase(serverUrl, LEARNING.database, LEARNING.enrolments, { log });
    const learningConn = await connect(serverUrl, LEARNING.database);
    stops.push(() => learningConn.end());
    const organisation = await ensureOrganisation(learningConn, log);
    const [[{ staff }]] = await learningConn.query("SELECT COUNT(*) AS staff FROM organisation_memberships WHERE organisation_id = ? AND status = 'active'", [organisation.id]);
    report.managerStaff = Number(staff);
    const learningApp = await startAppServer(webEnv(learning.url, 'learning'), { logFile: logFile('learning') });
    stops.push(() => learningApp.stop());
    pages.push({ key: 'myLearning', name: `"My learning" (20 enrolments, ${LEARNING.database})`, app: learningApp, path: '/my-learning', cookie: (await signedInLearner(learningApp.url)).cookie });
    pages.push({ key: 'managerDashboard', name: `manager's dashboard (${Number(staff).toLocaleString('en-GB')} staff, ${LEARNING.database})`, app: learningApp, path: `/organisation/${organisation.id}`, cookie: await signedInManager(learningApp.url, learningConn, organisation.id) });

    const exchange = await ensureExchangeDatabase(serverUrl, EXCHANGE_DATABASE, { log });
    const exchangeConn = await connect(serverUrl, EXCHANGE_DATABASE);
    stops.push(() => exchangeConn.end());
    const [[reader]] = await exchangeConn.query('SELECT MIN(id) AS id FROM users');
    const exchangeApp = await startAppServer(webEnv(exchange.url, 'exchange'), { logFile: logFile('exchange') });
    stops.push(() => exchangeApp.stop());
    const [exchangeCookie] = await redisSessions(redisUrl, `${prefix}-exchange`, [Number(reader.id)]);
    pages.push({ key: 'exchange', name: `the exchange (${exchange.spec.published.toLocaleString('en-GB')} published items)`, app: exchangeApp, path: '/exchange', cookie: exchangeCookie });

    const thread = await freshDiscussionDatabase({ mysqlUrl: serverUrl, redisUrl, prefix: `${prefix}-thread`, name: THREAD_DATABASE, logFile: logFile('thread'), startAppServer });
    stops.push(() => thread.web.stop());
    stops.push(() => thread.db.end());
    const discussion = await seedDiscussion(thread.db, { replies: THREAD_REPLIES, readers: 1, posters: 0, log });
    const [threadCookie] = await redisSessions(redisUrl, `${prefix}-thread`, discussion.readerIds);
    pages.push({ key: 'thread', name: `thread page (${THREAD_REPLIES} replies)`, app: thread.web, path: `/discussions/threads/${discussion.threadId}`, cookie: threadCookie });

    // What one request costs the database.
    log(`\n== SELECTs per request (Com_select around ${SELECT_SAMPLE} sequential requests; MariaDB ${server.version}, buffer pool ${Math.round(Number(server.pool) / 1024 / 1024)} MB)`);
    for (const page of pages) {
      const sample = expectStatus(await request(page.app.url + page.path, { headers: { cookie: page.cookie } }), [200], `GET ${page.path}`);
      page.bytes = Buffer.byteLength(sample.text);
      page.selects = await selectsPerRequest(admin, page.app.url + page.path, page.cookie);
      log(`   ${page.name.padEnd(50)} GET ${page.path}: ${page.selects.toFixed(1)} SELECTs, ${page.bytes.toLocaleString('en-GB')} bytes`);
    }

    const header = ['req/s (avg)'.padStart(12), 'p50'.padStart(8), 'p99'.padStart(8), 'non-2xx'.padStart(8), 'errors'.padStart(7), 'requests'.padStart(9)];
    for (const page of pages) {
      log(`\n== ${page.name}  GET ${page.path}  (${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.duration} s rounds until two agree within ${AGREE_WITHIN * 100}%, at most ${MAX_ROUNDS})`);
      log(`${'round'.padEnd(6)}  ${header.join('  ')}`);
      const { rounds, steady } = await measureUntilSteady(page.app.url + page.path, page.cookie, settings, log);
      const result = { reqPerSec: median(rounds.map((r) => r.reqPerSec)), p50: median(rounds.map((r) => r.p50)), non2xx: rounds.reduce((n, r) => n + r.non2xx, 0), errors: rounds.reduce((n, r) => n + r.errors, 0), timeouts: rounds.reduce((n, r) => n + (r.timeouts || 0), 0), totalRequests: rounds.reduce((n, r) => n + r.totalRequests, 0) };
      const p99 = median(rounds.map((r) => r.p99));
      const clean = rounds.every((r) => r.non2xx === 0 && r.errors === 0 && (r.timeouts || 0) === 0);
      const rateOk = result.reqPerSec >= BUDGET.reqPerSec;
      const p99Ok = p99 <= BUDGET.p99Ms;
      const pass = rateOk && p99Ok && clean;
      log(printRow('median', { ...result, p99 }));
      log(`   ${Math.round(result.reqPerSec).toLocaleString('en-GB')} req/s (budget ≥ ${BUDGET.reqPerSec.toLocaleString('en-GB')}: ${rateOk ? 'PASS' : 'FAIL'}), p99 ${p99} ms (budget ≤ ${BUDGET.p99Ms} ms: ${p99Ok ? 'PASS' : 'FAIL'})   ${pass ? 'PASS' : 'FAIL'}${clean ? '' : ' (non-2xx/errors)'}${steady ? '' : ' (rounds never agreed)'}   ${page.selects.toFixed(1)} SELECTs/request   (${loadNow().text})`);
      report.pages[page.key] = {
        name: page.name,
        path: page.path,
        bytes: page.bytes,
        selectsPerRequest: page.selects,
        reqPerSec: Math.round(result.reqPerSec),
        p50: result.p50,
        p99,
        steady,
        rounds: rounds.map((r) => ({ reqPerSec: Math.round(r.reqPerSec), p50: r.p50, p99: r.p99, non2xx: r.non2xx, errors: r.errors + (r.timeouts || 0) })),
        pass,
        loadAverage: loadNow(),
      };
      report.budgets.push({ name: `signed-in ${page.name}: ≥ ${BUDGET.reqPerSec} req/s and p99 ≤ ${BUDGET.p99Ms} ms`, pass });
    }
    return report;
  } finally {
    for (const stop of stops.reverse()) await Promise.resolve(stop()).catch(() => {});
    await admin.end();
    await deleteRedisKeys(redisUrl, `${prefix}-*`).catch(() => {});
  }
}

module.exports = { benchSignedIn };

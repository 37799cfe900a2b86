'use strict';

/**
 * The discussion thread page bench (issue 15): GET /discussions/threads/{id} of a thread with 500 replies, as a
 * signed-in reader, at 10 connections, on MariaDB with Redis (a web process, PROCESS_ROLE=web). Two pages: the
 * first (the opening post and the first 25 replies) and the last (where new replies are, and what the live script
 * follows). Budget: p99 ≤ 50 ms on each, no non-2xx.
 *
 * Data: bench/data/discussions.js in the database academy_bench_discussions_thread, made afresh each run.
 * Usable alone after a build: `node bench/run.js discussions-thread`. Skipped when MariaDB or Redis is not there.
 */

const crypto = require('node:crypto');
const path = require('node:path');
const { freshDiscussionDatabase, redisSessions, seedDiscussion } = require('./data/discussions');
const { deleteRedisKeys, expectStatus, loadNow, measure, mysqlReachable, printRow, redisReachable, request, startAppServer } = require('./lib');

const DATABASE = 'academy_bench_discussions_thread';
const REPLIES = 500;
const BUDGET_P99_MS = 50;
const REPLIES_PER_PAGE = 25;

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function benchDiscussionThread(settings, { resultsDir = null, log = console.log } = {}) {
  const mysqlUrl = process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306';
  const redisUrl = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
  log(`\nbench: discussions: a thread page with ${REPLIES} replies, signed in, on MariaDB + Redis`);
  if (!(await mysqlReachable(mysqlUrl))) {
    log('bench: discussions: skipped: MariaDB not reachable');
    return { skipped: 'MariaDB not reachable' };
  }
  if (!(await redisReachable(redisUrl))) {
    log('bench: discussions: skipped: Redis not reachable');
    return { skipped: 'Redis not reachable' };
  }
  const prefix = `bench-${crypto.randomBytes(4).toString('hex')}-discussions-thread`;
  const { web, db } = await freshDiscussionDatabase({ mysqlUrl, redisUrl, prefix, name: DATABASE, logFile: resultsDir ? path.join(resultsDir, 'app-discussions-thread.log') : null, startAppServer });
  const report = { database: DATABASE, replies: REPLIES, budgets: [] };
  try {
    const data = await seedDiscussion(db, { replies: REPLIES, readers: 1, posters: 0, log });
    const [cookie] = await redisSessions(redisUrl, prefix, data.readerIds);
    const lastPage = Math.ceil(REPLIES / REPLIES_PER_PAGE);
    const pages = [
      { key: 'firstPage', name: 'first page', path: `/discussions/threads/${data.threadId}` },
      { key: 'lastPage', name: `last page (${lastPage})`, path: `/discussions/threads/${data.threadId}?page=${lastPage}` },
    ];
    for (const page of pages) {
      const sample = expectStatus(await request(web.url + page.path, { headers: { cookie } }), [200], `GET ${page.path}`);
      const shown = (sample.text.match(/<li class="discussion-post[ "]/g) || []).length;
      if (shown < REPLIES_PER_PAGE) throw new Error(`GET ${page.path} shows ${shown} posts, not at least ${REPLIES_PER_PAGE}: is the thread page in this build?`);
      log(`\n== Thread page, ${page.name}  GET ${page.path}  (${shown} posts shown, ${sample.text.length.toLocaleString('en-GB')} bytes; ${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.duration} s, ${settings.rounds} rounds)`);
      const rounds = [];
      for (let round = 0; round < settings.rounds; round++) {
        const result = await measure(web.url + page.path, { ...settings, warmupSeconds: round === 0 ? settings.warmupSeconds : 0, headers: { cookie } });
        rounds.push(result);
        log(printRow(`#${round + 1}`, result));
      }
      const p99 = median(rounds.map((r) => r.p99));
      const clean = rounds.every((r) => r.non2xx === 0 && r.errors === 0 && r.timeouts === 0);
      const pass = p99 <= BUDGET_P99_MS && clean;
      const byRate = [...rounds].sort((x, y) => x.reqPerSec - y.reqPerSec)[Math.floor(rounds.length / 2)];
      log(printRow('median', { ...byRate, p99 }));
      log(`   budget: p99 ≤ ${BUDGET_P99_MS} ms at ${settings.connections} connections   ${pass ? 'PASS' : 'FAIL'}${clean ? '' : ' (non-2xx/errors)'}   (${loadNow().text})`);
      report[page.key] = { path: page.path, bytes: sample.text.length, reqPerSec: Math.round(byRate.reqPerSec), p50: byRate.p50, p99, rounds: rounds.map((r) => ({ reqPerSec: Math.round(r.reqPerSec), p50: r.p50, p99: r.p99, non2xx: r.non2xx, errors: r.errors })), pass, loadAverage: loadNow() };
      report.budgets.push({ name: `discussion thread page with ${REPLIES} replies, ${page.name}: p99 ≤ ${BUDGET_P99_MS} ms at ${settings.connections} connections`, pass });
    }
    return report;
  } finally {
    await db.end();
    await web.stop();
    await deleteRedisKeys(redisUrl, `${prefix}*`).catch(() => {});
  }
}

module.exports = { benchDiscussionThread };

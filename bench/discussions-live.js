'use strict';

/**
 * The live replies bench (issue 15): 1,000 open pages of one thread (STREAMS_PER_READER event streams for each of
 * READERS signed-in readers, since one sign-in may hold MAX_STREAMS_PER_SESSION at once) follow
 * GET /discussions/threads/{id}/events on one web process (MariaDB + Redis, PROCESS_ROLE=web, so the reply's message
 * goes through Redis pub/sub as between instances); then, ROUNDS times, a trusted poster replies through the thread
 * page's form (POST /discussions/threads/{id}/replies, with its CSRF token). Measured: from the POST's answer to each
 * stream receiving the `event: post` of that reply. Budget: the last of the 1,000 within 200 ms, every round.
 *
 * Data: bench/data/discussions.js in the database academy_bench_discussions_live, made afresh each run.
 * Usable alone after a build: `node bench/run.js discussions-live`. Skipped when MariaDB or Redis is not there.
 */

const crypto = require('node:crypto');
const http = require('node:http');
const path = require('node:path');
const { freshDiscussionDatabase, redisSessions, seedDiscussion } = require('./data/discussions');
const { cookiesOf, deleteRedisKeys, expectStatus, loadNow, mysqlReachable, redisReachable, request, startAppServer } = require('./lib');

const DATABASE = 'academy_bench_discussions_live';
const READERS = Number(process.env.BENCH_DISCUSSION_READERS || 200);
/** MAX_STREAMS_PER_SESSION in src/live/event-stream.ts. */
const STREAMS_PER_READER = 5;
const ROUNDS = Number(process.env.BENCH_DISCUSSION_LIVE_ROUNDS || 5);
const REPLIES = 100;
const BUDGET_MS = 200;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
const ms = (n) => `${n.toFixed(Math.abs(n) < 10 ? 1 : 0)} ms`;

/** Opens one event stream; resolves once its head has come, keeping every `event: post` frame with its arrival time. */
function follow(url, cookie, agent) {
  return new Promise((resolve, reject) => {
    const client = { posts: [], buffer: '', req: null };
    const req = http.get(url, { headers: { cookie, accept: 'text/event-stream' }, agent }, (res) => {
      if (res.statusCode !== 200) {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => reject(Object.assign(new Error(`GET ${new URL(url).pathname} answered ${res.statusCode}: ${text.slice(0, 200)}`), { status: res.statusCode })));
        return;
      }
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        const at = Date.now();
        client.buffer += chunk;
        let end;
        while ((end = client.buffer.indexOf('\n\n')) !== -1) {
          const frame = client.buffer.slice(0, end);
          client.buffer = client.buffer.slice(end + 2);
          if (/^event: post$/m.test(frame)) client.posts.push({ at, text: frame });
        }
      });
      res.on('error', () => {});
      resolve(client);
    });
    client.req = req;
    req.setTimeout(0);
    req.on('error', reject);
  });
}

/** A poster's session and CSRF pair, from the thread page as their browser would load it. */
async function posterForm(baseUrl, threadPath, sessionCookie) {
  const page = expectStatus(await request(baseUrl + threadPath, { headers: { cookie: sessionCookie } }), [200], `GET ${threadPath}`);
  const token = /name="_csrf" value="([^"]+)"/.exec(page.text);
  const csrf = Object.entries(cookiesOf(page)).find(([name]) => name.endsWith('academy_csrf'));
  if (!token || !csrf) throw new Error(`GET ${threadPath} gave the poster no reply form with a CSRF token (or no CSRF cookie)`);
  return { cookie: `${sessionCookie}; ${csrf[0]}=${csrf[1]}`, token: token[1] };
}

async function benchDiscussionLive({ resultsDir = null, log = console.log } = {}) {
  const mysqlUrl = process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306';
  const redisUrl = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
  const streams = READERS * STREAMS_PER_READER;
  log(`\nbench: discussions live: a reply reaching ${streams.toLocaleString('en-GB')} open thread pages (${READERS} readers × ${STREAMS_PER_READER} streams) on one web process, MariaDB + Redis pub/sub`);
  if (!(await mysqlReachable(mysqlUrl))) {
    log('bench: discussions live: skipped: MariaDB not reachable');
    return { skipped: 'MariaDB not reachable' };
  }
  if (!(await redisReachable(redisUrl))) {
    log('bench: discussions live: skipped: Redis not reachable');
    return { skipped: 'Redis not reachable' };
  }
  const prefix = `bench-${crypto.randomBytes(4).toString('hex')}-discussions-live`;
  const { web, db } = await freshDiscussionDatabase({ mysqlUrl, redisUrl, prefix, name: DATABASE, logFile: resultsDir ? path.join(resultsDir, 'app-discussions-live.log') : null, startAppServer });
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const clients = [];
  try {
    const data = await seedDiscussion(db, { replies: REPLIES, readers: READERS, posters: ROUNDS, log });
    const readerCookies = await redisSessions(redisUrl, prefix, data.readerIds);
    const posterCookies = await redisSessions(redisUrl, prefix, data.posterIds);
    const threadPath = `/discussions/threads/${data.threadId}`;
    const streamUrl = `${web.url}${threadPath}/events`;

    const opening = Date.now();
    const BATCH = 50;
    const wanted = readerCookies.flatMap((cookie) => Array.from({ length: STREAMS_PER_READER }, () => cookie));
    for (let i = 0; i < wanted.length; i += BATCH) clients.push(...(await Promise.all(wanted.slice(i, i + BATCH).map((cookie) => follow(streamUrl, cookie, agent)))));
    const openSeconds = (Date.now() - opening) / 1000;
    log(`bench: discussions live: ${clients.length.toLocaleString('en-GB')} streams open in ${openSeconds.toFixed(1)} s`);
    // One more for a reader already holding their five is refused: the per-session limit is what it says.
    const refused = await follow(streamUrl, readerCookies[0], agent).then(
      (c) => (c.req.destroy(), 200),
      (err) => err.status,
    );
    if (refused !== 429) throw new Error(`a sixth stream of one sign-in answered ${refused}, not 429`);
    await sleep(1000);

    const rounds = [];
    for (let round = 0; round < ROUNDS; round++) {
      const form = await posterForm(web.url, threadPath, posterCookies[round]);
      const marker = `bench-live-${round}-${crypto.randomBytes(4).toString('hex')}`;
      const body = new URLSearchParams({ _csrf: form.token, body: `Round ${round + 1} of the live bench: ${marker}` }).toString();
      const sentAt = Date.now();
      const posted = await request(`${web.url}${threadPath}/replies`, { method: 'POST', headers: { cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body });
      expectStatus(posted, [303], `POST ${threadPath}/replies`);
      const answeredAt = posted.at;
      const arrival = () => clients.map((c) => c.posts.find((f) => f.text.includes(marker))).map((f) => (f ? f.at : null));
      const deadline = Date.now() + 30_000;
      let got = arrival();
      while (got.some((t) => t === null) && Date.now() < deadline) {
        await sleep(10);
        got = arrival();
      }
      const reached = got.filter((t) => t !== null);
      // Negative when a page had the reply before the POST's answer reached the bench (the message is published before the redirect is sent).
      const fromAnswer = reached.map((t) => t - answeredAt).sort((a, b) => a - b);
      const fromSend = reached.map((t) => t - sentAt).sort((a, b) => a - b);
      const result = {
        reached: reached.length,
        postMs: posted.ms,
        p50: percentile(fromAnswer, 50),
        p99: percentile(fromAnswer, 99),
        max: fromAnswer[fromAnswer.length - 1],
        fromSendP50: percentile(fromSend, 50),
        fromSendP99: percentile(fromSend, 99),
        fromSendMax: fromSend[fromSend.length - 1],
      };
      result.pass = result.reached === clients.length && result.max <= BUDGET_MS;
      rounds.push(result);
      log(`#${round + 1}  POST answered 303 in ${ms(result.postMs)}; reached ${result.reached.toLocaleString('en-GB')} of ${clients.length.toLocaleString('en-GB')} pages; from the answer p50 ${ms(result.p50)}, p99 ${ms(result.p99)}, last ${ms(result.max)} (from sending it: p50 ${ms(result.fromSendP50)}, p99 ${ms(result.fromSendP99)}, last ${ms(result.fromSendMax)})   ${result.pass ? 'PASS' : 'FAIL'}`);
      await sleep(1000);
    }
    const pass = rounds.every((r) => r.pass);
    const worst = Math.max(...rounds.map((r) => r.max));
    log(`   budget: every reply reaches all ${clients.length.toLocaleString('en-GB')} open pages within ${BUDGET_MS} ms of the POST's answer: worst last ${ms(worst)}   ${pass ? 'PASS' : 'FAIL'}   (${loadNow().text})`);
    return {
      database: DATABASE,
      readers: READERS,
      streams: clients.length,
      openSeconds,
      rounds,
      worstMs: worst,
      budget: `a reply reaches ${streams} open pages within ${BUDGET_MS} ms`,
      pass,
      loadAverage: loadNow(),
      budgets: [{ name: `discussion reply reaches ${streams.toLocaleString('en-GB')} open thread pages within ${BUDGET_MS} ms`, pass }],
    };
  } finally {
    for (const c of clients) c.req.destroy();
    agent.destroy();
    await db.end();
    await web.stop();
    await deleteRedisKeys(redisUrl, `${prefix}*`).catch(() => {});
  }
}

module.exports = { benchDiscussionLive };

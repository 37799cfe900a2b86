'use strict';

/**
 * The exchange search bench (issue 14): GET /api/v1/exchange over 100,000 published items on MariaDB, at 10
 * connections, with a mix of searches and filters as people would send them. Budget: p99 ≤ 50 ms, no non-2xx.
 *
 * Data: bench/data/exchange.js (academy_bench_exchange). The app runs as a web process (PROCESS_ROLE=web) with
 * Redis, as the other MariaDB benches. The requests: a pool of distinct searches (see requestPool) drawn with
 * Zipf-like popularity, so popular searches come again and again and the long tail comes once or twice, in a
 * shuffled sequence each connection takes its next request from. Before the load, a sample of the pool is
 * asked once each, one at a time, against a cold cache: those figures say what a search costs the first time.
 *
 * Usable alone after a build: `node bench/run.js exchange`. Skipped when MariaDB or Redis is not there.
 */

const crypto = require('node:crypto');
const path = require('node:path');
const autocannon = require('autocannon');
const { connect, ensureExchangeDatabase, world, DOMAIN, PLACES, SYSTEMS, TOPICS, TYPES, REGIONS, CARE_SETTINGS } = require('./data/exchange');
const { deleteRedisKeys, expectStatus, loadNow, printRow, redisReachable, request, startAppServer } = require('./lib');

const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const DATABASE = 'academy_bench_exchange';
const BUDGET_P99_MS = 50;
const POOL = 3000;
const SEQUENCE = 200_000;
const COLD_SAMPLE = 300;
const FRESH_POOL = 30_000;
const KINDS = ['case_study', 'tool', 'hack'];
const SORTS = ['newest', 'most_adopted', 'most_helpful'];

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const slugify = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const topicSlugs = TOPICS.map(slugify);
const systemSlugs = SYSTEMS.map(([name, supplier]) => slugify(`${supplier} ${name}`));

/**
 * The distinct requests, most popular first: what people search for (single domain words, two words, a system or
 * supplier's name, a place, a long-tail word), alone or with filters and orders, and lists without words (the front
 * page, pages 2 and 3, a filter or two, each order). Deterministic.
 */
function requestPool(size = POOL, seed = 1414) {
  const random = mulberry32(seed);
  const pick = (list, bias = 1) => list[Math.floor(Math.pow(random(), bias) * list.length)];
  const { tail } = world();
  const filter = () => {
    const r = random();
    if (r < 0.25) return { kind: pick(KINDS) };
    if (r < 0.45) return { topic: pick(topicSlugs, 1.5) };
    if (r < 0.6) return { system: pick(systemSlugs, 2) };
    if (r < 0.72) return { careSetting: pick(CARE_SETTINGS) };
    if (r < 0.84) return { organisationType: pick(TYPES) };
    return { region: pick(REGIONS) };
  };
  const words = () => {
    const r = random();
    if (r < 0.45) return pick(DOMAIN, 2);
    if (r < 0.65) return `${pick(DOMAIN, 2)} ${pick(DOMAIN, 1.5)}`;
    if (r < 0.8) return pick(SYSTEMS, 2)[random() < 0.7 ? 0 : 1];
    if (r < 0.9) return pick(PLACES, 1.5);
    return pick(tail, 3);
  };
  const seen = new Set();
  const pool = [];
  // The front page, as most visitors first see it.
  pool.push('/api/v1/exchange');
  seen.add(pool[0]);
  while (pool.length < size) {
    const r = random();
    const params = {};
    if (r < 0.2) {
      Object.assign(params, random() < 0.5 ? {} : filter(), random() < 0.3 ? filter() : {});
      if (random() < 0.4) params.sort = pick(SORTS);
      if (random() < 0.3) params.page = String(2 + Math.floor(random() * 2));
    } else {
      params.q = words();
      if (r < 0.55) Object.assign(params, filter());
      if (random() < 0.15) Object.assign(params, filter());
      if (random() < 0.25) params.sort = pick(SORTS);
      if (random() < 0.15) params.page = '2';
    }
    const query = new URLSearchParams(params).toString();
    const url = `/api/v1/exchange${query ? `?${query}` : ''}`;
    if (seen.has(url)) continue;
    seen.add(url);
    pool.push(url);
  }
  return pool;
}

/** A sequence of requests drawn from the pool: request i with probability ∝ 1 / (i + 10), shuffled. */
function requestSequence(pool, length = SEQUENCE, seed = 77) {
  const random = mulberry32(seed);
  const cumulative = [];
  let sum = 0;
  for (let i = 0; i < pool.length; i++) cumulative.push((sum += 1 / (i + 10)));
  const sequence = [];
  for (let n = 0; n < length; n++) {
    const x = random() * sum;
    let lo = 0;
    let hi = pool.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    sequence.push(pool[lo]);
  }
  return sequence;
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** autocannon in this thread (its setupRequest takes the next request of the shared sequence). */
function load(url, sequence, settings, offset) {
  let next = offset;
  const opts = {
    url,
    connections: settings.connections,
    pipelining: settings.pipelining,
    duration: settings.duration,
    ...(settings.amount ? { amount: settings.amount } : {}),
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: sequence[next++ % sequence.length] }) }],
  };
  return new Promise((resolve, reject) => autocannon(opts, (err, r) => (err ? reject(err) : resolve({ r, used: next - offset }))));
}

async function benchExchange(settings, { resultsDir, log = console.log } = {}) {
  const serverUrl = process.env.BENCH_MYSQL_URL || DEFAULT_MYSQL_URL;
  const shown = serverUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  log(`\n== Exchange search bench (${shown}, ${DATABASE})`);
  const probe = await connect(serverUrl).then(
    (c) => c,
    (err) => ({ error: err.code || err.message }),
  );
  if (probe.error) {
    log(`skipped: MariaDB not reachable (${probe.error})`);
    return { skipped: `MariaDB not reachable at ${shown}: ${probe.error}` };
  }
  const [[server]] = await probe.query('SELECT VERSION() AS version, @@innodb_buffer_pool_size AS pool');
  await probe.end();
  const redisUrl = process.env.BENCH_REDIS_URL || DEFAULT_REDIS_URL;
  if (!(await redisReachable(redisUrl))) {
    log(`skipped: Redis not reachable at ${redisUrl}`);
    return { skipped: `Redis not reachable at ${redisUrl}` };
  }
  const dataset = await ensureExchangeDatabase(serverUrl, DATABASE, { log });
  log(`bench: ${DATABASE} ${dataset.reused ? 'reused' : 'generated'}; MariaDB ${server.version}, InnoDB buffer pool ${Math.round(Number(server.pool) / 1024 / 1024)} MB`);
  const prefix = `bench-${crypto.randomBytes(4).toString('hex')}-exchange`;
  const pool = requestPool();
    const report = { database: DATABASE, published: dataset.spec.published, distinctRequests: pool.length, bufferPoolBytes: Number(server.pool), budgets: [] };
  let app;
  try {
    app = await startAppServer(
      { DATABASE_URL: dataset.url, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, PROCESS_ROLE: 'web', MIGRATE_ON_BOOT: 'false' },
      { logFile: resultsDir ? path.join(resultsDir, 'app-exchange.log') : null },
    );
    const front = expectStatus(await request(`${app.url}/api/v1/exchange`), [200], 'GET /api/v1/exchange');
    const searched = expectStatus(await request(`${app.url}/api/v1/exchange?q=sepsis&kind=case_study`), [200], 'GET /api/v1/exchange?q=sepsis&kind=case_study');
    log(`bench: ${front.json.total.toLocaleString('en-GB')} published items listed; "sepsis" in case studies: ${searched.json.total.toLocaleString('en-GB')}${searched.json.capped ? ' (capped)' : ''}`);

    // The first time: a sample of the pool, one request at a time, nothing cached yet.
    const sample = pool.filter((_, i) => i % Math.ceil(pool.length / COLD_SAMPLE) === 0);
    const cold = [];
    for (const url of sample) {
      const res = expectStatus(await request(app.url + url, { agent: false }), [200], `GET ${url}`);
      cold.push({ url, ms: res.ms, total: res.json.total, capped: res.json.capped });
    }
    const coldMs = cold.map((c) => c.ms);
    const slowest = [...cold].sort((a, b) => b.ms - a.ms).slice(0, 5);
    log(`\n== First-time searches (${sample.length} of the ${pool.length.toLocaleString('en-GB')} distinct requests, one at a time, uncached)`);
    log(`   p50 ${median(coldMs).toFixed(1)} ms, p90 ${percentile(coldMs, 90).toFixed(1)} ms, p99 ${percentile(coldMs, 99).toFixed(1)} ms, max ${Math.max(...coldMs).toFixed(1)} ms (reported, no budget)`);
    log(`   slowest: ${slowest.map((c) => `${decodeURIComponent(c.url.replace('/api/v1/exchange', '') || '/')} ${c.ms.toFixed(0)} ms (${c.total} found${c.capped ? ', capped' : ''})`).join('; ')}`);
    report.firstTime = { requests: sample.length, p50: median(coldMs), p90: percentile(coldMs, 90), p99: percentile(coldMs, 99), max: Math.max(...coldMs), slowest };

    // Everything in the pool once, at 10 connections (not measured): the academy has been searched for a while.
    const warm = await load(app.url, pool, { ...settings, duration: 3600, amount: pool.length }, 0);
    log(`\nbench: the ${pool.length.toLocaleString('en-GB')} distinct requests asked once each at ${settings.connections} connections (not measured): ${Math.round(warm.r.requests.average)} req/s, p99 ${warm.r.latency.p99} ms`);

    const header = ['', 'req/s (avg)'.padStart(12), 'p50'.padStart(8), 'p99'.padStart(8), 'non-2xx'.padStart(8), 'errors'.padStart(7), 'requests'.padStart(9)];
    const measureRounds = async (key, title, sequence, budgetName) => {
      log(`\n== ${title}`);
      log(`${'round'.padEnd(6)}  ${header.slice(1).join('  ')}`);
      let offset = 0;
      if (settings.warmupSeconds > 0) offset += (await load(app.url, sequence, { ...settings, duration: settings.warmupSeconds }, offset)).used;
      const rounds = [];
      const distinct = new Set();
      for (let round = 0; round < settings.rounds; round++) {
        const { r, used } = await load(app.url, sequence, settings, offset);
        for (let i = offset; i < offset + used; i++) distinct.add(sequence[i % sequence.length]);
        offset += used;
        const result = { reqPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, totalRequests: r.requests.total };
        rounds.push(result);
        log(printRow(`#${round + 1}`, result));
      }
      const p99 = median(rounds.map((r) => r.p99));
      const clean = rounds.every((r) => r.non2xx === 0 && r.errors === 0 && r.timeouts === 0);
      const pass = p99 <= BUDGET_P99_MS && clean;
      const byRate = [...rounds].sort((x, y) => x.reqPerSec - y.reqPerSec)[Math.floor(rounds.length / 2)];
      log(printRow('median', { ...byRate, p99 }));
      log(`   ${distinct.size.toLocaleString('en-GB')} distinct requests among ${rounds.reduce((sum, r) => sum + r.totalRequests, 0).toLocaleString('en-GB')} measured; p99 ${rounds.map((r) => r.p99).join(', ')} ms`);
      log(`   budget: p99 ≤ ${BUDGET_P99_MS} ms at ${settings.connections} connections   ${pass ? 'PASS' : 'FAIL'}${clean ? '' : ' (non-2xx/errors)'}   (${loadNow().text})`);
      report[key] = { reqPerSec: Math.round(byRate.reqPerSec), p50: byRate.p50, p99, rounds: rounds.map((r) => ({ reqPerSec: Math.round(r.reqPerSec), p50: r.p50, p99: r.p99, non2xx: r.non2xx, errors: r.errors })), distinctMeasured: distinct.size, pass, loadAverage: loadNow() };
      report.budgets.push({ name: budgetName, pass });
    };
    const what = `${dataset.spec.published.toLocaleString('en-GB')} published items; ${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.duration} s, ${settings.rounds} rounds`;
    await measureRounds('mix', `Exchange search mix  GET /api/v1/exchange  (${what}; ${pool.length.toLocaleString('en-GB')} distinct requests by popularity, each asked before)`, requestSequence(pool), 'exchange search p99, searches asked before (100,000 items, 10 connections)');
    // Requests never asked before (a second pool, less anything in the first), each once: the long tail.
    const asked = new Set(pool);
    const fresh = requestPool(FRESH_POOL, 2929).filter((url) => !asked.has(url));
    await measureRounds('fresh', `Exchange search, requests never asked before  GET /api/v1/exchange  (${what}; each of ${fresh.length.toLocaleString('en-GB')} at most once)`, fresh, 'exchange search p99, requests never asked before (100,000 items, 10 connections)');
  } finally {
    if (app) await app.stop();
    await deleteRedisKeys(redisUrl, `${prefix}*`).catch(() => {});
  }
  return report;
}

module.exports = { benchExchange, requestPool, requestSequence };

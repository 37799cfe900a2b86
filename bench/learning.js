'use strict';

/**
 * The MariaDB benchmarks (issue 3): "My learning" at 10,000 and at 1,000,000 enrolments, and heartbeat
 * ingest. Called by run.js after the page benches; usable alone: `node bench/learning.js` (after a build).
 *
 * The server is BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306) and Redis BENCH_REDIS_URL (default
 * redis://127.0.0.1:6379). The app runs as a web process (PROCESS_ROLE=web), as it would behind a load
 * balancer with workers elsewhere: no scheduled jobs (reminders, sweeps) run over the generated data while
 * it is measured. When MariaDB does not answer, the benches print "skipped: MariaDB not reachable" and
 * return; likewise without Redis, which a web process needs.
 */

const crypto = require('node:crypto');
const os = require('node:os');
const path = require('node:path');
const { HEARTBEAT_LEARNERS, benchLearnerPlan, connect, ensureLearningDatabase, prepareHeartbeatLearners, reachable } = require('./data/learning');
const { deleteRedisKeys, loadNow, measure, printRow, redisReachable, request, expectStatus, signInAsBrowser, startAppServer } = require('./lib');

const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const DATASETS = [
  { key: '10k', database: 'academy_bench_10k', enrolments: 10_000 },
  { key: '1m', database: 'academy_bench_1m', enrolments: 1_000_000 },
];
const MY_LEARNING_BUDGET = 1.5; // p99 at 1M ≤ 1.5 × p99 at 10k
const HEARTBEAT_BUDGET = { reqPerSec: 2000, p99Ms: 50 };
const HEARTBEAT_CONNECTIONS = 32;
const HEARTBEAT_SPAN = 10; // seconds of video per heartbeat
const HEARTBEAT_WARMUP_ROUNDS = 6;

const LEARNER = {
  email: 'bench.learner@example.nhs.uk',
  password: 'quiet harbour lantern meadow 2719',
  name: 'Bench Learner',
  organisation: 'Bench Trust',
  jobRole: 'Analyst',
};

// ---------- the "My learning" learner ----------

/**
 * Makes the bench learner through the app's API (register, or a token for the existing account), gives
 * it the 20 enrolments and completed lessons of benchLearnerPlan() (idempotent, so a reused database is
 * left as it was), then signs in through the sign-in form as a browser does and returns the cookie header.
 */
async function signedInLearner(baseUrl) {
  let token;
  const registered = await request(`${baseUrl}/api/v1/auth/register`, { method: 'POST', body: LEARNER });
  if (registered.status === 201) token = registered.json.token;
  else {
    expectStatus(registered, [409], 'POST /api/v1/auth/register');
    token = expectStatus(await request(`${baseUrl}/api/v1/auth/token`, { method: 'POST', body: { email: LEARNER.email, password: LEARNER.password } }), [201], 'POST /api/v1/auth/token').json.token;
  }
  const bearer = { authorization: `Bearer ${token}` };
  const plan = benchLearnerPlan();
  const current = expectStatus(await request(`${baseUrl}/api/v1/enrolments`, { headers: bearer }), [200], 'GET /api/v1/enrolments').json;
  const expectedPercent = (p) => Math.floor((p.completeLessonIds.length / 14) * 100);
  const ready =
    current.length === plan.length && plan.every((p) => current.some((e) => e.courseId === p.courseId && e.progressPercent === expectedPercent(p)));
  if (!ready) {
    for (const p of plan) {
      expectStatus(await request(`${baseUrl}/api/v1/enrolments`, { method: 'POST', headers: bearer, body: { courseId: p.courseId } }), [200, 201], 'POST /api/v1/enrolments');
      for (const lessonId of p.completeLessonIds) {
        expectStatus(await request(`${baseUrl}/api/v1/lessons/${lessonId}/complete`, { method: 'POST', headers: bearer }), [200], `POST /api/v1/lessons/${lessonId}/complete`);
      }
    }
  }
  await request(`${baseUrl}/api/v1/auth/token`, { method: 'DELETE', headers: bearer });

  const cookie = await signInAsBrowser(baseUrl, LEARNER.email, LEARNER.password, '/my-learning');

  const mine = expectStatus(await request(`${baseUrl}/my-learning`, { headers: { cookie } }), [200], 'GET /my-learning');
  const inProgress = (mine.text.match(/class="nhsuk-card"/g) || []).length;
  const completed = (mine.text.match(/, completed /g) || []).length;
  if (inProgress !== 18 || completed !== 2) throw new Error(`GET /my-learning lists ${inProgress} courses in progress and ${completed} completed, not 18 and 2`);
  return { cookie, bytes: Buffer.byteLength(mine.text) };
}

// ---------- heartbeat load ----------

/**
 * An autocannon `requests` entry whose setupRequest gives each request the next learner (round robin over
 * all of them) and that learner's next stretch of video: [from, from + 10) advancing by 10 s per visit and
 * wrapping before the end of the video, so every heartbeat is valid (0 < to - from ≤ 60, to ≤ length).
 * Non-2xx answers are sampled for the report.
 */
function heartbeatRequests(learners, state) {
  return [
    {
      method: 'POST',
      path: '/api/v1/progress/heartbeat',
      setupRequest(req) {
        const n = state.sent++;
        const learner = learners[n % learners.length];
        const visit = Math.floor(n / learners.length);
        const stretches = Math.floor(learner.videoSeconds / HEARTBEAT_SPAN);
        const from = (visit % stretches) * HEARTBEAT_SPAN;
        return {
          ...req,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${learner.token}` },
          body: JSON.stringify({ lessonId: learner.lessonId, from, to: from + HEARTBEAT_SPAN }),
        };
      },
      onResponse(status, body) {
        if (status < 200 || status > 299) {
          state.failures[status] = (state.failures[status] || 0) + 1;
          if (state.samples.length < 5) state.samples.push(`${status}: ${String(body).slice(0, 200)}`);
        }
      },
    },
  ];
}

// ---------- helpers ----------

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const medianBy = (results, key) => [...results].sort((a, b) => a[key] - b[key])[Math.floor(results.length / 2)];

function strip(result) {
  const copy = { ...result };
  delete copy.raw;
  return copy;
}


// ---------- the benches ----------

/**
 * Runs both MariaDB benches. `settings` are run.js's (connections, duration, warm-up, rounds).
 * Returns a JSON-able report { skipped } or { datasets, myLearning, heartbeat, budgets: [{ name, pass }] }.
 */
async function runLearningBenches(settings, { resultsDir, log = console.log } = {}) {
  const serverUrl = process.env.BENCH_MYSQL_URL || DEFAULT_MYSQL_URL;
  const shown = serverUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  log(`\n== MariaDB benches (${shown})`);
  const up = await reachable(serverUrl);
  if (!up.ok) {
    log(`skipped: MariaDB not reachable (${up.reason})`);
    return { skipped: `MariaDB not reachable at ${shown}: ${up.reason}` };
  }
  const redisUrl = process.env.BENCH_REDIS_URL || DEFAULT_REDIS_URL;
  if (!(await redisReachable(redisUrl))) {
    log(`skipped: Redis not reachable at ${redisUrl} (the app runs as a web process, which needs it)`);
    return { skipped: `Redis not reachable at ${redisUrl}` };
  }

  // 1. Data: generated once, reused while it matches.
  const datasets = {};
  for (const d of DATASETS) {
    const ready = await ensureLearningDatabase(serverUrl, d.database, d.enrolments, { log });
    datasets[d.key] = ready;
    log(`bench: ${d.database}: ${ready.spec.enrolments.toLocaleString('en-GB')} enrolments, ${ready.spec.progress.toLocaleString('en-GB')} lesson-progress rows, ${ready.reused ? `reused (checked in ${ready.seconds.toFixed(1)} s)` : `generated in ${ready.seconds.toFixed(0)} s`}`);
  }

  // 2. One app per database, both up at once (the idle one costs nothing), so rounds can alternate.
  const prefix = `bench-${crypto.randomBytes(4).toString('hex')}`;
  const apps = {};
  const report = { server: shown, redis: redisUrl, datasets: {}, budgets: [] };
  for (const [key, d] of Object.entries(datasets)) report.datasets[key] = { database: d.name, ...d.spec, reused: d.reused, seconds: Math.round(d.seconds * 10) / 10 };
  try {
    for (const [key, d] of Object.entries(datasets)) {
      const env = { DATABASE_URL: d.url, REDIS_URL: redisUrl, REDIS_PREFIX: `${prefix}-${key}`, PROCESS_ROLE: 'web', MIGRATE_ON_BOOT: 'false' };
      apps[key] = await startAppServer(env, { logFile: resultsDir ? path.join(resultsDir, `app-${d.name}.log`) : null });
    }

    // 3. "My learning": the same learner (20 enrolments, same progress) in both databases.
    const learner = {};
    for (const key of Object.keys(apps)) learner[key] = await signedInLearner(apps[key].url);
    const pageSettings = { connections: settings.connections, duration: settings.duration, pipelining: settings.pipelining, warmupSeconds: settings.warmupSeconds, workers: settings.workers };
    const rounds = { '10k': [], '1m': [] };
    for (let round = 0; round < settings.rounds; round++) {
      for (const key of ['10k', '1m']) rounds[key].push(await measure(`${apps[key].url}/my-learning`, { ...pageSettings, headers: { cookie: learner[key].cookie } }));
    }
    const side = (key) => {
      const byP99 = medianBy(rounds[key], 'p99');
      return { ...strip(medianBy(rounds[key], 'reqPerSec')), p99: median(rounds[key].map((r) => r.p99)), p99Round: strip(byP99), rounds: rounds[key].map((r) => ({ reqPerSec: Math.round(r.reqPerSec), p50: r.p50, p99: r.p99, non2xx: r.non2xx, errors: r.errors + (r.timeouts || 0) })) };
    };
    const small = side('10k');
    const large = side('1m');
    const clean = (r) => r.rounds.every((x) => x.non2xx === 0 && x.errors === 0);
    const ratio = small.p99 > 0 ? large.p99 / small.p99 : null;
    // autocannon records whole milliseconds: under 2 ms at 10k, 1.5 × would leave no room at all, so never below +1 ms.
    const limit = Math.max(small.p99 * MY_LEARNING_BUDGET, small.p99 + 1);
    const pass = large.p99 <= limit && clean(small) && clean(large);
    const header = ['', 'req/s (avg)'.padStart(12), 'p50'.padStart(8), 'p99'.padStart(8), 'non-2xx'.padStart(8), 'errors'.padStart(7), 'requests'.padStart(9)];
    log(`\n== My learning  GET /my-learning  (signed-in learner, 20 enrolments, ${learner['1m'].bytes.toLocaleString('en-GB')} bytes)`);
    log(`   ${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.duration} s measured, 10k and 1M alternating, ${settings.rounds} rounds; p99 is the median of the rounds' p99`);
    log(`${'database'.padEnd(6)}  ${header.slice(1).join('  ')}`);
    log('-'.repeat(70));
    log(printRow('10k', small));
    log(printRow('1M', large));
    log(`rounds p99: 10k ${small.rounds.map((r) => r.p99).join(', ')} ms; 1M ${large.rounds.map((r) => r.p99).join(', ')} ms`);
    log(`p99 1M / 10k: ${ratio === null ? '-' : ratio.toFixed(2)}×   budget: p99 at 1M ≤ ${MY_LEARNING_BUDGET} × p99 at 10k (${limit} ms)   ${pass ? 'PASS' : 'FAIL'}${clean(small) && clean(large) ? '' : ' (non-2xx/errors)'}   (${loadNow().text})`);
    report.myLearning = { path: '/my-learning', bytes: learner['1m'].bytes, '10k': small, '1m': large, ratio, budget: `p99 at 1M ≤ ${MY_LEARNING_BUDGET} × p99 at 10k`, limitMs: limit, pass, loadAverage: loadNow() };
    report.budgets.push({ name: 'my learning p99 at 1M', pass });

    await apps['10k'].stop();
    delete apps['10k'];

    // 4. Heartbeats on the 1M database: 2,000 learners, each on a video lesson, bearer tokens.
    const conn = await connect(serverUrl, datasets['1m'].name);
    let prepared;
    try {
      prepared = await prepareHeartbeatLearners(conn, datasets['1m'].spec, HEARTBEAT_LEARNERS, 1);
      const app = apps['1m'];
      const probe = prepared.learners[0];
      const first = await request(`${app.url}/api/v1/progress/heartbeat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${probe.token}` },
        body: { lessonId: probe.lessonId, from: 0, to: HEARTBEAT_SPAN },
      });
      expectStatus(first, [200], 'POST /api/v1/progress/heartbeat');
      const state = { sent: HEARTBEAT_LEARNERS, failures: {}, samples: [] }; // learner 0 has had its first stretch
      const hbSettings = { ...pageSettings, connections: HEARTBEAT_CONNECTIONS, workers: 0 };
      // A cold buffer pool made the first round ten times slower than the rest: warm up (not measured) until two
      // consecutive rounds agree within 10% on heartbeats/s, at most HEARTBEAT_WARMUP_ROUNDS, then measure.
      const [[{ pool: bufferPoolBytes }]] = await conn.query('SELECT @@innodb_buffer_pool_size AS pool');
      const bufferPool = `innodb_buffer_pool_size ${Math.round(Number(bufferPoolBytes) / 1024 / 1024)} MB`;
      const warmups = [];
      for (let round = 0; round < HEARTBEAT_WARMUP_ROUNDS; round++) {
        warmups.push((await measure(`${app.url}/api/v1/progress/heartbeat`, { ...hbSettings, warmupSeconds: 0, requests: heartbeatRequests(prepared.learners, state) })).reqPerSec);
        const [a, b] = warmups.slice(-2);
        if (warmups.length >= 2 && Math.abs(a - b) <= 0.1 * Math.max(a, b)) break;
      }
      const warmedUp = warmups.length >= 2 && Math.abs(warmups[warmups.length - 1] - warmups[warmups.length - 2]) <= 0.1 * Math.max(...warmups.slice(-2));
      const hbRounds = [];
      for (let round = 0; round < settings.rounds; round++) hbRounds.push(await measure(`${app.url}/api/v1/progress/heartbeat`, { ...hbSettings, requests: heartbeatRequests(prepared.learners, state) }));
      const hb = medianBy(hbRounds, 'reqPerSec');
      const hbClean = hbRounds.every((r) => r.non2xx === 0 && r.errors === 0 && (r.timeouts || 0) === 0);
      const hbPass = hb.reqPerSec >= HEARTBEAT_BUDGET.reqPerSec && hb.p99 < HEARTBEAT_BUDGET.p99Ms && hbClean;

      // What the heartbeats wrote: one row per learner, coverage never above what real time allows.
      const [[written]] = await conn.query(
        `SELECT COUNT(*) AS n, SUM(covered_seconds) AS covered, MAX(covered_seconds) AS maxCovered, SUM(completed_at IS NOT NULL) AS completed
         FROM lesson_progress WHERE (enrolment_id, lesson_id) IN (${prepared.learners.map((l) => `(${l.enrolmentId}, ${l.lessonId})`).join(', ')})`,
      );

      log(`\n== Heartbeat ingest  POST /api/v1/progress/heartbeat  (${HEARTBEAT_LEARNERS.toLocaleString('en-GB')} learners with bearer tokens, 1M database)`);
      log(`   ${HEARTBEAT_CONNECTIONS} connections, ${settings.warmupSeconds} s warm-up + ${settings.duration} s measured, median of ${settings.rounds} rounds by req/s; ${HEARTBEAT_SPAN} s stretches, round robin over the learners`);
      log(`${''.padEnd(6)}  ${header.slice(1).join('  ')}`);
      log('-'.repeat(70));
      log(printRow('ours', hb));
      log(`warm-up rounds req/s (not measured): ${warmups.map((r) => Math.round(r)).join(', ')}${warmedUp ? '' : ` (never agreed within 10% in ${HEARTBEAT_WARMUP_ROUNDS})`}`);
      log(`rounds req/s: ${hbRounds.map((r) => Math.round(r.reqPerSec)).join(', ')}; p99 ${hbRounds.map((r) => r.p99).join(', ')} ms`);
      const failures = Object.entries(state.failures);
      if (failures.length) log(`non-2xx answers: ${failures.map(([s, n]) => `${n} × ${s}`).join(', ')}; e.g. ${state.samples.join(' | ')}`);
      log(`written: ${written.n} progress rows, ${written.covered} s covered in all (at most ${written.maxCovered} s by one learner), ${written.completed} completed`);
      log(`budget: ≥ ${HEARTBEAT_BUDGET.reqPerSec.toLocaleString('en-GB')} heartbeats/s with p99 < ${HEARTBEAT_BUDGET.p99Ms} ms   ${hbPass ? 'PASS' : 'FAIL'}${hbClean ? '' : ' (non-2xx/errors)'}   (${bufferPool}; ${loadNow().text})`);
      report.heartbeat = {
        path: '/api/v1/progress/heartbeat',
        learners: HEARTBEAT_LEARNERS,
        connections: HEARTBEAT_CONNECTIONS,
        result: strip(hb),
        rounds: hbRounds.map((r) => ({ reqPerSec: Math.round(r.reqPerSec), p50: r.p50, p99: r.p99, non2xx: r.non2xx, errors: r.errors + (r.timeouts || 0) })),
        warmupRounds: warmups.map((r) => Math.round(r)),
        warmedUp,
        bufferPoolBytes: Number(bufferPoolBytes),
        failures: state.failures,
        failureSamples: state.samples,
        written: { rows: Number(written.n), coveredSeconds: Number(written.covered), maxCoveredSeconds: Number(written.maxCovered), completed: Number(written.completed) },
        budget: `≥ ${HEARTBEAT_BUDGET.reqPerSec} heartbeats/s with p99 < ${HEARTBEAT_BUDGET.p99Ms} ms`,
        pass: hbPass,
        loadAverage: loadNow(),
      };
      report.budgets.push({ name: 'heartbeat ingest', pass: hbPass });
    } finally {
      if (prepared) await prepared.cleanup();
      await conn.end();
    }
  } finally {
    for (const [key, app] of Object.entries(apps)) {
      const stopped = await app.stop();
      if (stopped.killed) log(`bench: app on ${datasets[key].name} killed after not exiting on SIGTERM`);
    }
    await deleteRedisKeys(redisUrl, `${prefix}-*`).catch(() => {});
  }
  return report;
}

module.exports = { runLearningBenches, signedInLearner, request, heartbeatRequests };

if (require.main === module) {
  const { stopAll } = require('./lib');
  const settings = {
    connections: 10,
    duration: Number(process.env.BENCH_DURATION || 5),
    pipelining: 1,
    warmupSeconds: 2,
    workers: 1,
    rounds: Number(process.env.BENCH_ROUNDS || 3),
  };
  console.log(`bench: load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  runLearningBenches(settings, { resultsDir: path.join(__dirname, 'results') }).then(
    (r) => {
      console.log(`bench: load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
      if (r.budgets) console.log(`bench: ${r.budgets.filter((b) => b.pass).length} of ${r.budgets.length} budgets met`);
      process.exit(0);
    },
    async (err) => {
      console.error(`bench: failed: ${err && err.stack ? err.stack : err}`);
      await stopAll();
      process.exit(1);
    },
  );
}

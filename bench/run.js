'use strict';

/**
 * Page benchmark: each page of the built app against a bare Fastify server that returns the
 * same bytes from memory; then the MariaDB benches of bench/learning.js ("My learning" at 10k and 1M
 * enrolments, heartbeat ingest). Run with `npm run bench` (builds first); BENCH_DURATION=30 for longer runs.
 * Always exits 0 once measurements are made: budgets are reported, not enforced.
 *
 * One bench alone (after a build): `node bench/run.js learning|certificates|webinars|organisations|exchange|discussions-thread|discussions-live|discussions-followers|storage-range|signed-in`.
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { seedCatalogue } = require('./data/catalogue');
const { runLearningBenches } = require('./learning');
const { benchCertificates } = require('./certificates');
const { benchWebinars } = require('./webinars');
const { benchOrganisations } = require('./organisations');
const { benchExchange } = require('./exchange');
const { benchDiscussionThread } = require('./discussions-thread');
const { benchDiscussionLive } = require('./discussions-live');
const { benchDiscussionFollowers } = require('./discussions-followers');
const { benchStorageRange } = require('./storage-range');
const { benchSignedIn } = require('./signed-in');
const { fetchRaw, formatTable, loadNow, measure, startAppServer, startBareServer, stopAll } = require('./lib');

const PAGES = [
  { name: 'home page', path: '/', budgetRatio: 0.4 },
  { name: 'sign-in page', path: '/sign-in', budgetRatio: null },
  { name: 'catalogue page (1,000 published courses)', path: '/courses', budgetRatio: 0.3 },
];
const CATALOGUE_COURSES = 1000;

const RESULTS_DIR = path.join(__dirname, 'results');

function settingsFromEnv() {
  const duration = Number(process.env.BENCH_DURATION || 5);
  if (!Number.isFinite(duration) || duration <= 0) throw new Error(`BENCH_DURATION must be a positive number of seconds (got "${process.env.BENCH_DURATION}")`);
  const rounds = Number(process.env.BENCH_ROUNDS || 3);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`BENCH_ROUNDS must be a whole number of at least 1 (got "${process.env.BENCH_ROUNDS}")`);
  return { connections: 10, duration, pipelining: 1, warmupSeconds: 2, workers: 1, rounds };
}

/**
 * This machine's neighbours make single runs noisy (the same page swings by half between runs), so ours and
 * bare are measured in alternating rounds and each side reports its median round.
 */
async function measureRounds(oursUrl, bareUrl, settings) {
  const ours = [];
  const bare = [];
  for (let round = 0; round < settings.rounds; round++) {
    ours.push(await measure(oursUrl, settings));
    bare.push(await measure(bareUrl, settings));
  }
  const median = (results) => [...results].sort((a, b) => a.reqPerSec - b.reqPerSec)[Math.floor(results.length / 2)];
  return { ours: median(ours), bare: median(bare), oursRounds: ours.map((r) => Math.round(r.reqPerSec)), bareRounds: bare.map((r) => Math.round(r.reqPerSec)) };
}

/** A measure() result without autocannon's raw object, for the JSON report. */
function strip(result) {
  const copy = { ...result };
  delete copy.raw;
  return copy;
}

async function main() {
  const settings = settingsFromEnv();
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const describe = `${settings.connections} connections, pipelining ${settings.pipelining}, ${settings.warmupSeconds} s warm-up + ${settings.duration} s measured, ours and bare alternating, median of ${settings.rounds} rounds`;
  console.log(`bench: ${describe}; node ${process.version}, ${os.cpus().length} CPUs`);
  const loadBefore = os.loadavg();
  if (loadBefore[0] > os.cpus().length * 0.5) {
    console.log(`bench: warning: load average is ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before starting; other work on this machine will skew the figures`);
  }

  const startedAt = Date.now();
  const app = await startAppServer({}, { logFile: path.join(RESULTS_DIR, 'app.log') });
  console.log(`bench: app ready at ${app.url} (pid ${app.pid}) in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  seedCatalogue(path.join(app.dataDir, 'academy.sqlite'), CATALOGUE_COURSES);
  console.log(`bench: ${CATALOGUE_COURSES} published courses written for the catalogue page`);

  const pages = [];
  try {
    for (const page of PAGES) {
      const sample = await fetchRaw(app.url + page.path);
      if (sample.status < 200 || sample.status > 299) {
        throw new Error(`GET ${page.path} answered ${sample.status}, not 2xx: ${sample.body.toString('utf8').slice(0, 300)}`);
      }
      const contentType = sample.headers['content-type'] || null;
      const bare = await startBareServer(page.path, sample.body, contentType);
      let oursResult;
      let bareResult;
      let rounds;
      try {
        rounds = await measureRounds(app.url + page.path, bare.url + page.path, settings);
        oursResult = rounds.ours;
        bareResult = rounds.bare;
      } finally {
        await bare.stop();
      }
      const { text, verdict } = formatTable({
        name: page.name,
        path: page.path,
        ours: oursResult,
        bare: bareResult,
        budgetRatio: page.budgetRatio,
        bytes: sample.body.length,
        contentType,
        settings: describe,
      });
      console.log(text);
      console.log(`rounds req/s: ours ${rounds.oursRounds.join(', ')}; bare ${rounds.bareRounds.join(', ')}`);
      pages.push({
        name: page.name,
        path: page.path,
        bytes: sample.body.length,
        contentType,
        setCookie: sample.headers['set-cookie'] ? [].concat(sample.headers['set-cookie']).map((c) => c.split('=')[0]) : [],
        ours: strip(oursResult),
        bare: strip(bareResult),
        rounds: { ours: rounds.oursRounds, bare: rounds.bareRounds },
        ratio: verdict.ratio,
        budgetRatio: verdict.budgetRatio,
        pass: verdict.pass,
        loadAverage: loadNow(),
      });
    }
  } finally {
    const stopped = await app.stop();
    const how = stopped.killed ? 'killed after not exiting on SIGTERM' : `exited (code ${stopped.code}, signal ${stopped.signal})`;
    console.log(`\nbench: app ${how} in ${(stopped.ms / 1000).toFixed(1)} s`);
  }

  // The MariaDB benches (issue 3): "My learning" at 10k and 1M enrolments, heartbeat ingest. They print
  // "skipped: MariaDB not reachable" and return when there is no server; a failure is reported after the
  // page results are written.
  const loadAfterPages = os.loadavg();
  let mariadb;
  let mariadbError = null;
  try {
    mariadb = await runLearningBenches(settings, { resultsDir: RESULTS_DIR });
  } catch (err) {
    mariadbError = err;
    mariadb = { error: String(err && err.message ? err.message : err) };
    await stopAll();
  }

  // Certificates (issue 4): 1,000 completions issued end to end by one worker process, then by two (issue 16).
  let certificates;
  try {
    certificates = await benchCertificates();
  } catch (err) {
    certificates = { error: String(err && err.message ? err.message : err) };
    mariadbError = mariadbError || err;
  }
  const certificateBudget = (certificates && certificates.budgets) || [];

  // Webinars: reminders to 10,000 by two workers, recording heartbeats, live questions fan-out.
  let webinars;
  try {
    webinars = await benchWebinars();
  } catch (err) {
    webinars = { error: String(err && err.message ? err.message : err) };
    mariadbError = mariadbError || err;
  }

  // Organisations (issue 13): the manager's dashboard, staff list and export for 5,000 staff in the 1M database.
  let organisations;
  try {
    organisations = await benchOrganisations(settings, { resultsDir: RESULTS_DIR });
  } catch (err) {
    organisations = { error: String(err && err.message ? err.message : err) };
    mariadbError = mariadbError || err;
  }

  // Exchange (issue 14): search over 100,000 published items.
  let exchange;
  try {
    exchange = await benchExchange(settings, { resultsDir: RESULTS_DIR });
  } catch (err) {
    exchange = { error: String(err && err.message ? err.message : err) };
    mariadbError = mariadbError || err;
  }

  // Discussions (issue 15): a thread page with 500 replies; a reply reaching 1,000 open thread pages.
  let discussionThread;
  try {
    discussionThread = await benchDiscussionThread(settings, { resultsDir: RESULTS_DIR });
  } catch (err) {
    discussionThread = { error: String(err && err.message ? err.message : err) };
    mariadbError = mariadbError || err;
  }
  let discussionLive;
  try {
    discussionLive = await benchDiscussionLive({ resultsDir: RESULTS_DIR });
  } catch (err) {
    discussionLive = { error: String(err && err.message ? err.message : err) };
    mariadbError = mariadbError || err;
  }
  // A new thread's instant e-mails to 10,000 followers by two workers.
  let discussionFollowers;
  try {
    discussionFollowers = await benchDiscussionFollowers({ resultsDir: RESULTS_DIR });
  } catch (err) {
    discussionFollowers = { error: String(err && err.message ? err.message : err) };
    mariadbError = mariadbError || err;
  }

  // Storage (issue 16): video Range reads through the S3 driver (against s3rver) beside the disk driver; no budget.
  let storageRange;
  try {
    storageRange = await benchStorageRange(settings);
  } catch (err) {
    storageRange = { error: String(err && err.message ? err.message : err) };
    mariadbError = mariadbError || err;
  }

  // Signed-in pages (issue 16): My learning, the manager's dashboard, the exchange and a thread, ≥ 1,000 req/s, p99 ≤ 25 ms.
  let signedIn;
  try {
    signedIn = await benchSignedIn(settings, { resultsDir: RESULTS_DIR });
  } catch (err) {
    signedIn = { error: String(err && err.message ? err.message : err) };
    mariadbError = mariadbError || err;
  }

  const budgeted = [
    ...pages.filter((p) => p.pass !== null),
    ...(mariadb.budgets || []),
    ...certificateBudget,
    ...((webinars && webinars.budgets) || []),
    ...((organisations && organisations.budgets) || []),
    ...((exchange && exchange.budgets) || []),
    ...((discussionThread && discussionThread.budgets) || []),
    ...((discussionLive && discussionLive.budgets) || []),
    ...((discussionFollowers && discussionFollowers.budgets) || []),
    ...((signedIn && signedIn.budgets) || []),
  ];
  const met = budgeted.filter((p) => p.pass).length;
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0] && os.cpus()[0].model,
    settings,
    loadAverage: { before: loadBefore, afterPages: loadAfterPages, after: os.loadavg() },
    pages,
    mariadb,
    certificates,
    webinars,
    organisations,
    exchange,
    discussionThread,
    discussionLive,
    discussionFollowers,
    storageRange,
    signedIn,
    budgets: { met, total: budgeted.length },
  };
  const file = path.join(RESULTS_DIR, 'latest.json');
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`bench: results written to ${path.relative(process.cwd(), file)}`);
  console.log(`bench: load average ${report.loadAverage.after.map((l) => l.toFixed(2)).join(' ')} at the end (${loadBefore.map((l) => l.toFixed(2)).join(' ')} at the start)`);
  console.log(`bench: ${met} of ${budgeted.length} budgets met`);
  if (mariadbError) throw mariadbError;
}

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.error('\nbench: interrupted, stopping servers…');
  stopAll().finally(() => process.exit(130));
});

/** `node bench/run.js NAME`: that bench alone, its report in bench/results/NAME.json. */
async function runOne(name) {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const settings = settingsFromEnv();
  const benches = {
    learning: () => runLearningBenches(settings, { resultsDir: RESULTS_DIR }),
    certificates: () => benchCertificates(),
    webinars: () => benchWebinars(),
    organisations: () => benchOrganisations(settings, { resultsDir: RESULTS_DIR }),
    exchange: () => benchExchange(settings, { resultsDir: RESULTS_DIR }),
    'discussions-thread': () => benchDiscussionThread(settings, { resultsDir: RESULTS_DIR }),
    'discussions-live': () => benchDiscussionLive({ resultsDir: RESULTS_DIR }),
    'discussions-followers': () => benchDiscussionFollowers({ resultsDir: RESULTS_DIR }),
    'storage-range': () => benchStorageRange(settings),
    'signed-in': () => benchSignedIn(settings, { resultsDir: RESULTS_DIR }),
  };
  if (!benches[name]) throw new Error(`No bench called "${name}": choose one of ${Object.keys(benches).join(', ')}`);
  const report = await benches[name]();
  const file = path.join(RESULTS_DIR, `${name}.json`);
  fs.writeFileSync(file, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, loadAverage: os.loadavg(), [name]: report }, null, 2)}\n`);
  console.log(`bench: results written to ${path.relative(process.cwd(), file)}`);
}

(process.argv[2] ? runOne(process.argv[2]) : main()).then(
  () => process.exit(0),
  async (err) => {
    console.error(`bench: failed: ${err && err.stack ? err.stack : err}`);
    await stopAll();
    process.exit(1);
  },
);

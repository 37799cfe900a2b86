'use strict';

/**
 * The manager's benchmarks (issue 13), on the 1,000,000-enrolment MariaDB database of bench/learning.js:
 * an organisation of 5,000 staff (generated learners 1 to 5,000, with their 50,000 enrolments and a
 * certificate for each completed one), two required courses, and a manager who signs in through the form.
 *
 * - the dashboard (GET /organisation/{id}) and the staff list (GET /organisation/{id}/staff) at 10
 *   connections: budget p99 ≤ 100 ms each;
 * - the staff × requirements CSV export of all 5,000: budget under 5 s, with the web process's resident
 *   memory growing by less than 50 MB while it streams (sampled from /proc every 20 ms).
 *
 * Usable alone after a build: `node bench/run.js organisations`. Skipped when MariaDB or Redis is not there.
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { connect, ensureLearningDatabase, reachable } = require('./data/learning');
const { deleteRedisKeys, loadNow, measure, printRow, redisReachable, request, expectStatus, signInAsBrowser, startAppServer } = require('./lib');

const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306';
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const DATABASE = 'academy_bench_1m';
const ENROLMENTS = 1_000_000;
const STAFF = 5000;
const FIRST_LEARNER_ID = 2;
const PAGE_BUDGET_P99_MS = 100;
const EXPORT_BUDGET = { seconds: 5, memoryGrowthMb: 50 };
const JOB_ROLES = ['Analyst', 'Service desk analyst', 'Clinical safety officer', 'Network engineer', 'Project manager', 'Trainer'];
const REQUIRED_COURSES = [1, 2];
const ORGANISATION_NAME = 'Bench Organisation of 5,000 staff';
const VERSION = 1;

const MANAGER = {
  email: 'bench.manager@example.nhs.uk',
  password: 'copper lantern orchard velvet 4812',
  name: 'Bench Manager',
  organisation: 'Bench Trust',
  jobRole: 'Head of digital learning',
};

/**
 * The organisation, its 5,000 active members (varied job roles, joined in 2025), certificates for their
 * completed enrolments, and two requirements. Idempotent: a bench_organisations row marks a finished load.
 */
async function ensureOrganisation(conn, log) {
  await conn.query(`CREATE TABLE IF NOT EXISTS bench_organisations (version INT PRIMARY KEY, organisation_id INT NOT NULL, finished_at DATETIME NULL)`);
  const [[done]] = await conn.query('SELECT organisation_id AS id FROM bench_organisations WHERE version = ? AND finished_at IS NOT NULL', [VERSION]);
  if (done) return { id: Number(done.id), reused: true };
  const t = Date.now();
  await conn.query('DELETE FROM bench_organisations');
  await conn.query('SET SESSION foreign_key_checks = 0');
  const [existing] = await conn.query('SELECT id FROM organisations WHERE name_key = ?', [ORGANISATION_NAME.toLowerCase()]);
  let id = existing.length ? Number(existing[0].id) : null;
  if (id === null) {
    const [created] = await conn.query(
      `INSERT INTO organisations (name, name_key, type, ods_code, region, status, created_at) VALUES (?, ?, 'nhs_trust', 'RB5K', 'north_west', 'active', UTC_TIMESTAMP())`,
      [ORGANISATION_NAME, ORGANISATION_NAME.toLowerCase()],
    );
    id = created.insertId;
  }
  const last = FIRST_LEARNER_ID + STAFF - 1;
  await conn.query(`UPDATE users SET job_role = ELT(MOD(id, ${JOB_ROLES.length}) + 1, ${JOB_ROLES.map((r) => conn.escape(r)).join(', ')}), email_verified_at = created_at WHERE id BETWEEN ? AND ?`, [FIRST_LEARNER_ID, last]);
  await conn.query('DELETE FROM organisation_memberships WHERE organisation_id = ?', [id]);
  await conn.query(
    `INSERT INTO organisation_memberships (organisation_id, user_id, status, is_manager, requested_at, joined_at, updated_at, decided_by_id)
     SELECT ?, u.id, 'active', 0, u.created_at, u.created_at, u.created_at, NULL FROM users u WHERE u.id BETWEEN ? AND ?`,
    [id, FIRST_LEARNER_ID, last],
  );
  // A certificate for each completed enrolment of the staff, as the issuing job writes it (no PDF file: not downloaded here).
  await conn.query(`DELETE FROM certificates WHERE user_id BETWEEN ? AND ? AND subject_type = 'course'`, [FIRST_LEARNER_ID, last]);
  await conn.query(
    `INSERT INTO certificates (code, user_id, subject_type, subject_id, revision, subject_title, holder_name, cpd_minutes, achieved_at, issued_at, file_key, sha256, status, recipient_salt)
     SELECT CONCAT('B', LPAD(e.id, 11, '0')), e.user_id, 'course', e.course_id, 1, c.title, u.name, c.cpd_minutes, e.completed_at, e.completed_at,
            CONCAT('bench/certificates/', e.id, '.pdf'), REPEAT('0', 64), 'valid', SUBSTRING(SHA2(e.id, 256), 1, 32)
     FROM enrolments e JOIN courses c ON c.id = e.course_id JOIN users u ON u.id = e.user_id
     WHERE e.user_id BETWEEN ? AND ? AND e.status = 'completed'`,
    [FIRST_LEARNER_ID, last],
  );
  await conn.query('SET SESSION foreign_key_checks = 1');
  await conn.query('INSERT INTO bench_organisations (version, organisation_id, finished_at) VALUES (?, ?, UTC_TIMESTAMP())', [VERSION, id]);
  await conn.query('ANALYZE TABLE organisation_memberships, certificates, users');
  log(`bench: ${STAFF.toLocaleString('en-GB')} staff of "${ORGANISATION_NAME}" with their certificates generated in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return { id, reused: false };
}

/** Makes the bench manager (through the API, as a person would sign up), a manager of the organisation, signed in through the form. */
async function signedInManager(baseUrl, conn, organisationId) {
  const registered = await request(`${baseUrl}/api/v1/auth/register`, { method: 'POST', body: MANAGER });
  expectStatus(registered, [201, 409], 'POST /api/v1/auth/register');
  const [[user]] = await conn.query('SELECT id FROM users WHERE email = ?', [MANAGER.email]);
  await conn.query(`UPDATE users SET role = 'org_manager', email_verified_at = UTC_TIMESTAMP() WHERE id = ?`, [user.id]);
  await conn.query(
    `INSERT INTO organisation_memberships (organisation_id, user_id, status, is_manager, requested_at, joined_at, updated_at, decided_by_id)
     VALUES (?, ?, 'active', 1, UTC_TIMESTAMP(), UTC_TIMESTAMP(), UTC_TIMESTAMP(), NULL)
     ON DUPLICATE KEY UPDATE status = 'active', is_manager = 1`,
    [organisationId, user.id],
  );
  await ensureRequirements(conn, organisationId, Number(user.id));

  return signInAsBrowser(baseUrl, MANAGER.email, MANAGER.password, '/organisation');
}

/** Two requirements of everyone (courses 1 and 2, due 90 days after joining, the first renewed yearly), unless the organisation has them. */
async function ensureRequirements(conn, organisationId, managerId) {
  const [tables] = await conn.query(`SHOW TABLES LIKE 'organisation_requirements'`);
  if (!tables.length) return;
  const [rows] = await conn.query('SELECT course_id AS courseId FROM organisation_requirements WHERE organisation_id = ? AND archived_at IS NULL', [organisationId]);
  const have = new Set(rows.map((r) => Number(r.courseId)));
  for (const [i, courseId] of REQUIRED_COURSES.entries()) {
    if (have.has(courseId)) continue;
    await conn.query(
      `INSERT INTO organisation_requirements (organisation_id, course_id, audience, due_kind, due_days, due_date, renewal_months, created_by_id, created_at, updated_at, archived_at)
       VALUES (?, ?, 'everyone', 'days', 90, NULL, ?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP(), NULL)`,
      [organisationId, courseId, i === 0 ? 12 : null, managerId],
    );
  }
}

/** The resident set size of a process, in bytes (Linux /proc). */
function rssOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024;
}

/** Downloads a URL to nowhere, sampling the server's memory meanwhile. */
function timedDownload(url, cookie, pid) {
  return new Promise((resolve, reject) => {
    const before = rssOf(pid);
    let peak = before;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssOf(pid));
      } catch {
        /* the process went away: the request fails below */
      }
    }, 20);
    const started = process.hrtime.bigint();
    let bytes = 0;
    let lines = 0;
    const req = http.get(url, { headers: { cookie }, agent: false }, (res) => {
      res.on('data', (chunk) => {
        bytes += chunk.length;
        for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
      });
      res.on('end', () => {
        clearInterval(sampler);
        peak = Math.max(peak, rssOf(pid));
        resolve({ status: res.statusCode, contentType: res.headers['content-type'], seconds: Number(process.hrtime.bigint() - started) / 1e9, bytes, lines, rssBefore: before, rssPeak: peak });
      });
      res.on('error', reject);
    });
    req.on('error', (err) => {
      clearInterval(sampler);
      reject(err);
    });
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const medianBy = (results, key) => [...results].sort((a, b) => a[key] - b[key])[Math.floor(results.length / 2)];
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);

async function benchOrganisations(settings, { resultsDir, log = console.log } = {}) {
  const serverUrl = process.env.BENCH_MYSQL_URL || DEFAULT_MYSQL_URL;
  const shown = serverUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
  log(`\n== Organisation manager benches (${shown}, ${DATABASE})`);
  const up = await reachable(serverUrl);
  if (!up.ok) {
    log(`skipped: MariaDB not reachable (${up.reason})`);
    return { skipped: `MariaDB not reachable at ${shown}: ${up.reason}` };
  }
  const redisUrl = process.env.BENCH_REDIS_URL || DEFAULT_REDIS_URL;
  if (!(await redisReachable(redisUrl))) {
    log(`skipped: Redis not reachable at ${redisUrl}`);
    return { skipped: `Redis not reachable at ${redisUrl}` };
  }
  const dataset = await ensureLearningDatabase(serverUrl, DATABASE, ENROLMENTS, { log });
  const conn = await connect(serverUrl, DATABASE);
  const prefix = `bench-${crypto.randomBytes(4).toString('hex')}-org`;
  let app;
  const report = { database: DATABASE, staff: STAFF, budgets: [] };
  try {
    const organisation = await ensureOrganisation(conn, log);
    app = await startAppServer(
      { DATABASE_URL: dataset.url, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, PROCESS_ROLE: 'web', MIGRATE_ON_BOOT: 'false' },
      { logFile: resultsDir ? path.join(resultsDir, 'app-organisations.log') : null },
    );
    const cookie = await signedInManager(app.url, conn, organisation.id);
    const pages = [
      { key: 'dashboard', name: "manager's dashboard", path: `/organisation/${organisation.id}` },
      { key: 'staff', name: 'staff list (first page)', path: `/organisation/${organisation.id}/staff` },
      { key: 'staffSearch', name: 'staff list, job role filter, page 30', path: `/organisation/${organisation.id}/staff?jobRole=${encodeURIComponent(JOB_ROLES[2])}&page=30` },
    ];
    const pageSettings = { connections: settings.connections, duration: settings.duration, pipelining: settings.pipelining, warmupSeconds: settings.warmupSeconds, workers: settings.workers };
    const header = ['', 'req/s (avg)'.padStart(12), 'p50'.padStart(8), 'p99'.padStart(8), 'non-2xx'.padStart(8), 'errors'.padStart(7), 'requests'.padStart(9)];
    log(`\n== Manager pages  (${STAFF.toLocaleString('en-GB')} staff, ${ENROLMENTS.toLocaleString('en-GB')} enrolments in the database; ${settings.connections} connections, ${settings.rounds} rounds)`);
    log(`${'page'.padEnd(6)}  ${header.slice(1).join('  ')}`);
    for (const page of pages) {
      const sample = expectStatus(await request(app.url + page.path, { headers: { cookie } }), [200], `GET ${page.path}`);
      const rounds = [];
      for (let round = 0; round < settings.rounds; round++) rounds.push(await measure(app.url + page.path, { ...pageSettings, headers: { cookie } }));
      const result = medianBy(rounds, 'reqPerSec');
      const p99 = median(rounds.map((r) => r.p99));
      const clean = rounds.every((r) => r.non2xx === 0 && r.errors === 0);
      const pass = p99 <= PAGE_BUDGET_P99_MS && clean;
      log(printRow(page.key.slice(0, 6), { ...result, p99 }));
      log(`   ${page.name} GET ${page.path} (${Buffer.byteLength(sample.text).toLocaleString('en-GB')} bytes): p99 ${rounds.map((r) => r.p99).join(', ')} ms; budget p99 ≤ ${PAGE_BUDGET_P99_MS} ms   ${pass ? 'PASS' : 'FAIL'}${clean ? '' : ' (non-2xx/errors)'}   (${loadNow().text})`);
      report[page.key] = { path: page.path, reqPerSec: Math.round(result.reqPerSec), p50: result.p50, p99, rounds: rounds.map((r) => ({ reqPerSec: Math.round(r.reqPerSec), p99: r.p99, non2xx: r.non2xx })), pass, loadAverage: loadNow() };
      report.budgets.push({ name: `${page.name} p99`, pass });
    }

    const exportPath = `/organisation/${organisation.id}/compliance.csv`;
    const runs = [];
    for (let round = 0; round < settings.rounds; round++) runs.push(await timedDownload(app.url + exportPath, cookie, app.pid));
    const last = runs[runs.length - 1];
    if (last.status !== 200) {
      log(`\n== Staff export: GET ${exportPath} answered ${last.status}   FAIL`);
      report.export = { path: exportPath, status: last.status, pass: false };
      report.budgets.push({ name: 'staff × requirements CSV export', pass: false });
    } else {
      const seconds = median(runs.map((r) => r.seconds));
      const growth = Math.max(...runs.map((r) => r.rssPeak - r.rssBefore));
      const rowsOk = runs.every((r) => r.lines >= STAFF + 1);
      const pass = seconds < EXPORT_BUDGET.seconds && growth < EXPORT_BUDGET.memoryGrowthMb * 1024 * 1024 && rowsOk;
      log(`\n== Staff × requirements export  GET ${exportPath}  (${last.lines.toLocaleString('en-GB')} lines, ${mb(last.bytes)} MB)`);
      log(`   seconds: ${runs.map((r) => r.seconds.toFixed(2)).join(', ')}; resident memory growth: ${runs.map((r) => mb(r.rssPeak - r.rssBefore)).join(', ')} MB`);
      log(`   budget: < ${EXPORT_BUDGET.seconds} s and < ${EXPORT_BUDGET.memoryGrowthMb} MB growth   ${pass ? 'PASS' : 'FAIL'}${rowsOk ? '' : ' (rows missing)'}   (${loadNow().text})`);
      report.export = { path: exportPath, seconds, memoryGrowthBytes: growth, lines: last.lines, bytes: last.bytes, pass, loadAverage: loadNow() };
      report.budgets.push({ name: 'staff × requirements CSV export', pass });
    }
  } finally {
    if (app) await app.stop();
    await conn.end();
    await deleteRedisKeys(redisUrl, `${prefix}*`).catch(() => {});
  }
  return report;
}

module.exports = { benchOrganisations, ensureOrganisation, signedInManager };

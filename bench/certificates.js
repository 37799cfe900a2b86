'use strict';

/**
 * Certificate issuing throughput (issue 4): 1,000 course completions turned into certificates end to end
 * (PDF rendered and stored, row written, e-mail delivered to a local SMTP server) by ONE worker process on
 * MariaDB + Redis. Budget: ≥ 150 certificates/s per worker. Also reports the PDF render time alone. Then the same
 * completions in a fresh database by TWO worker processes sharing the queue (issue 16): budget ≥ 1.8 × one's rate.
 *
 * Usable alone: `node bench/certificates.js` (after a build); run.js calls it. Needs MariaDB
 * (BENCH_MYSQL_URL, default mysql://root@127.0.0.1:3306) and Redis (BENCH_REDIS_URL); skips without them.
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const mysql = require('mysql2/promise');
const { Queue } = require('bullmq');
const { deleteRedisKeys, loadNow, mysqlReachable, startAppServer, startSmtpSink, startWorker } = require('./lib');

const COMPLETIONS = Number(process.env.BENCH_CERTIFICATES || 1000);
const BUDGET_PER_SECOND = 150;
const SCALING_BUDGET = 1.8; // two worker processes issue at least 1.8 × one's rate
const WORKER_CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY || 16);
const DATABASE = 'academy_bench_certificates';
const ROOT = path.resolve(__dirname, '..');

/** Users, one course and their completed enrolments, written straight to the tables (as completions would leave them). */
async function seed(db) {
  const now = new Date();
  await db.query('SET foreign_key_checks = 0');
  const [author] = await db.query("INSERT INTO users (email, name, password_hash, role, organisation_id, job_role, created_at) VALUES ('bench.author@example.nhs.uk', 'Bench Author', 'x', 'author', NULL, 'Author', ?)", [now]);
  const [topic] = await db.query("INSERT INTO topics (slug, name) VALUES ('clinical-safety', 'Clinical safety')");
  const [course] = await db.query(
    "INSERT INTO courses (slug, title, summary, description, who_for, level, estimated_minutes, cpd_minutes, status, topic_id, author_id, enrolment_count, published_at, created_at, updated_at) VALUES ('clinical-safety-bench', 'Clinical safety: DCB0129 and DCB0160 in practice', 'Bench', 'Bench', 'Bench', 'introductory', 60, 90, 'published', ?, ?, ?, ?, ?, ?)",
    [topic.insertId, author.insertId, COMPLETIONS, now, now, now],
  );
  const users = Array.from({ length: COMPLETIONS }, (_, i) => [`bench.completer.${i}@example.nhs.uk`, `Completer Number ${i}`, 'x', 'learner', null, 'Analyst', now]);
  const [first] = await db.query('INSERT INTO users (email, name, password_hash, role, organisation_id, job_role, created_at) VALUES ?', [users]);
  const enrolments = users.map((_, i) => [first.insertId + i, course.insertId, 'completed', 100, now, now, now]);
  const [firstEnrolment] = await db.query('INSERT INTO enrolments (user_id, course_id, status, progress_percent, enrolled_at, last_activity_at, completed_at) VALUES ?', [enrolments]);
  await db.query('SET foreign_key_checks = 1');
  return Array.from({ length: COMPLETIONS }, (_, i) => firstEnrolment.insertId + i);
}

/**
 * The PDF render time alone, in this process, per certificate: for Latin names (most of them, and the bench's),
 * and for names in scripts shaped and subset per document (Chinese, Arabic, Devanagari). `first` is the first
 * Chinese certificate of the process, which reads Noto Sans SC (10 MB).
 */
async function renderTimeMs() {
  const { renderCertificatePdf } = require(path.join(ROOT, 'dist', 'src', 'certificates', 'certificate-pdf.js'));
  const content = { kind: 'completion', holderName: 'Completer Number 1', subjectTitle: 'Clinical safety: DCB0129 and DCB0160 in practice', achievedOn: '24 November 2026', issuedAt: new Date(), cpdHours: 1.5, academyName: 'Peer Academy', code: '7KQM-R4XD-9TWC', verifyUrl: 'https://academy.example/verify/7KQM-R4XD-9TWC' };
  const names = {
    latin: (i) => `Completer Number ${i}`,
    chinese: (i) => ['王秀英', '李娜', '张伟', '刘洋', '陈静', '欧阳明'][i % 6],
    arabic: (i) => ['محمد عبد الله', 'فاطمة الزهراء', 'أحمد حسن', 'مريم علي'][i % 4],
    devanagari: (i) => ['प्रिया शर्मा', 'राहुल वर्मा', 'अनीता सिंह'][i % 3],
  };
  const time = async (name, runs) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < runs; i++) await renderCertificatePdf({ ...content, holderName: name(i) });
    return Number(process.hrtime.bigint() - started) / 1e6 / runs;
  };
  const first = await time(names.chinese, 1);
  const result = { first };
  for (const [script, name] of Object.entries(names)) {
    await time(name, 20);
    result[script] = await time(name, 200);
  }
  return result;
}

async function benchCertificates({ mysqlUrl = process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306', redisUrl = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379' } = {}) {
  console.log('');
  console.log(`bench: certificates: ${COMPLETIONS} completions → certificates (PDF stored, row, e-mail to a local SMTP server) by one worker process (JOBS_CONCURRENCY=${WORKER_CONCURRENCY}) on MariaDB + Redis`);
  if (!(await mysqlReachable(mysqlUrl))) {
    console.log('bench: certificates: skipped: MariaDB not reachable');
    return null;
  }
  const one = await issueCertificates({ mysqlUrl, redisUrl, workers: 1, withRender: true });
  // Scaling (issue 16): the same completions, a fresh database, two worker processes sharing the queue.
  console.log(`bench: certificates: the same ${COMPLETIONS} completions by two worker processes (JOBS_CONCURRENCY=${WORKER_CONCURRENCY} each)`);
  const two = await issueCertificates({ mysqlUrl, redisUrl, workers: 2, withRender: false });
  const scaling = two.perSecond / one.perSecond;
  const scalingPass = scaling >= SCALING_BUDGET && two.duplicates === 0 && two.emails === COMPLETIONS;
  console.log(
    `bench: certificates: two workers ${two.perSecond.toFixed(0)}/s vs one ${one.perSecond.toFixed(0)}/s = ${scaling.toFixed(2)}× (budget ≥ ${SCALING_BUDGET}×: ${scalingPass ? 'PASS' : 'FAIL'}); ${two.files} PDFs, ${two.emails} e-mails, ${two.duplicates} duplicates   (${loadNow().text}, shared with MariaDB, Redis and the SMTP sink)`,
  );
  const budgets = [
    { name: 'certificates issued per second (one worker)', pass: one.pass },
    { name: `certificates: two workers ≥ ${SCALING_BUDGET}× one`, pass: scalingPass },
  ];
  return { ...one, twoWorkers: { ...two, scaling, budget: SCALING_BUDGET, pass: scalingPass }, budgets };
}

/** `workers` worker processes issue COMPLETIONS certificates into a fresh database; with `withRender`, also the PDF render time alone. */
async function issueCertificates({ mysqlUrl, redisUrl, workers: workerCount, withRender }) {
  const admin = await mysql.createConnection(mysqlUrl);
  await admin.query(`DROP DATABASE IF EXISTS \`${DATABASE}\``);
  await admin.query(`CREATE DATABASE \`${DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const databaseUrl = `${mysqlUrl.replace(/\/+$/, '')}/${DATABASE}`;
  const prefix = `bench-certs-${crypto.randomBytes(3).toString('hex')}`;
  const secret = crypto.randomBytes(32).toString('hex');
  // A web process runs the migrations (and would serve the downloads); it consumes no jobs.
  const web = await startAppServer({ DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, PROCESS_ROLE: 'web', SESSION_SECRET: secret });
  const smtp = await startSmtpSink();
  const db = await mysql.createConnection({ uri: databaseUrl, multipleStatements: false });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'academy-bench-worker-'));
  const workers = [];
  try {
    const enrolmentIds = await seed(db);
    const workerEnv = {
      NODE_ENV: 'production',
      PROCESS_ROLE: 'worker',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      SMTP_URL: smtp.url,
      DATA_DIR: dataDir,
      SESSION_SECRET: secret,
      MIGRATE_ON_BOOT: 'false',
      JOBS_CONCURRENCY: String(WORKER_CONCURRENCY),
      LOG_LEVEL: 'info', // for its "Worker started" line
      PUBLIC_URL: web.url,
    };
    for (let i = 0; i < workerCount; i++) workers.push(startWorker(`worker ${i + 1}`, workerEnv));
    await Promise.all(workers.map((w) => w.ready));
    // The app's BullMQ queue ("academy", keys under REDIS_PREFIX:bull, job ids with ':' written as '~').
    const redisAddress = new URL(redisUrl);
    const queue = new Queue('academy', { connection: { host: redisAddress.hostname, port: Number(redisAddress.port || 6379) }, prefix: `${prefix}:bull` });
    const started = Date.now();
    // What the learners' last progress writes enqueue: one course.completed per enrolment.
    await queue.addBulk(enrolmentIds.map((enrolmentId) => ({ name: 'course.completed', data: { enrolmentId }, opts: { jobId: `course.completed~${enrolmentId}`, attempts: 5, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: true } })));
    let rows = 0;
    const deadline = started + 10 * 60_000;
    while (smtp.arrivals.length < COMPLETIONS || rows < COMPLETIONS) {
      if (Date.now() > deadline) throw new Error(`after 10 minutes: ${rows} certificates, ${smtp.arrivals.length} e-mails`);
      await new Promise((r) => setTimeout(r, 100));
      [[{ rows }]] = await db.query("SELECT COUNT(*) AS `rows` FROM certificates WHERE status = 'valid'");
    }
    const seconds = (Date.now() - started) / 1000;
    const files = fs.readdirSync(path.join(dataDir, 'files', 'certificates')).filter((f) => f.endsWith('.pdf')).length;
    const [[{ duplicates }]] = await db.query('SELECT COUNT(*) - COUNT(DISTINCT user_id) AS duplicates FROM certificates');
    await queue.close();
    const perSecond = COMPLETIONS / seconds;
    if (!withRender) return { workers: workerCount, completions: COMPLETIONS, seconds, perSecond, files, emails: smtp.arrivals.length, duplicates: Number(duplicates), loadAverage: loadNow() };
    const render = await renderTimeMs();
    const renderMs = render.latin;
    const verdict = perSecond >= BUDGET_PER_SECOND ? 'PASS' : 'FAIL';
    console.log(`bench: certificates: ${COMPLETIONS} issued in ${seconds.toFixed(1)} s = ${perSecond.toFixed(0)} certificates/s (budget ≥ ${BUDGET_PER_SECOND}/s: ${verdict}); ${files} PDFs stored, ${smtp.arrivals.length} e-mails received, ${duplicates} duplicates   (${loadNow().text})`);
    console.log(
      `bench: certificates: PDF render alone (in this process, per certificate): ${renderMs.toFixed(2)} ms for a Latin name (the bench's), ${render.chinese.toFixed(2)} ms Chinese, ${render.arabic.toFixed(2)} ms Arabic, ${render.devanagari.toFixed(2)} ms Devanagari (shaped and subset per document); the first Chinese one ${render.first.toFixed(0)} ms (reads Noto Sans SC)`,
    );
    return { workers: workerCount, completions: COMPLETIONS, seconds, perSecond, budget: BUDGET_PER_SECOND, pass: perSecond >= BUDGET_PER_SECOND, renderMs, renderMsByScript: render, files, emails: smtp.arrivals.length, duplicates: Number(duplicates), loadAverage: loadNow() };
  } finally {
    for (const worker of workers) {
      worker.child.kill('SIGTERM');
      await new Promise((r) => (worker.child.exitCode !== null ? r() : worker.child.once('exit', r)));
    }
    await db.end();
    await smtp.close();
    await web.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    await deleteRedisKeys(redisUrl, `${prefix}:*`);
  }
}

module.exports = { benchCertificates };

if (require.main === module) {
  benchCertificates().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

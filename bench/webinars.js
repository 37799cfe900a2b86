'use strict';

/**
 * Webinar benchmarks on MariaDB + Redis (see README "Webinars"):
 *
 *   1. Reminders: one webinar with 10,000 registrants, its 60-minute reminder fired by the delayed
 *      `webinars.remind` job that publishing the webinar schedules, worked by TWO worker processes; e-mails go
 *      to a local SMTP server in this process. Budget: all 10,000 within 60 s of the due time, 0 duplicates.
 *   2. Recording heartbeats: 2,000 viewers each sending POST /api/v1/webinars/:id/recording/heartbeat every
 *      10 s for about a minute against ONE web process. Budget: p99 < 50 ms.
 *   3. Live questions fan-out: 1,000 registrants (each with its own session cookie) following
 *      GET /webinars/:slug/questions/stream; one asks a question through the API; reported: time from the
 *      POST's answer to the last viewer receiving a frame with the new question (no budget).
 *
 * Usable alone: `node bench/webinars.js` (after a build), or `node bench/run.js webinars`. Needs MariaDB
 * (BENCH_MYSQL_URL, default mysql://root@127.0.0.1:3306) and Redis (BENCH_REDIS_URL); skips without them.
 * The database `academy_bench_webinars` is created afresh on each run; Redis keys go under a random prefix
 * that is deleted afterwards.
 */

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const mysql = require('mysql2/promise');
const IORedis = require('ioredis');
const { deleteRedisKeys, loadNow, mysqlReachable, redisReachable, request, startAppServer, startSmtpSink, startWorker } = require('./lib');

const ROOT = path.resolve(__dirname, '..');
const DATABASE = 'academy_bench_webinars';
const REGISTRANTS = Number(process.env.BENCH_WEBINAR_REGISTRANTS || 10_000);
const VIEWERS = Number(process.env.BENCH_WEBINAR_VIEWERS || 2000);
const HEARTBEAT_SECONDS = Number(process.env.BENCH_WEBINAR_HEARTBEAT_SECONDS || 60);
const HEARTBEAT_EVERY_S = 10;
const FOLLOWERS = Number(process.env.BENCH_WEBINAR_FOLLOWERS || 1000);
const WORKER_CONCURRENCY = Number(process.env.BENCH_WORKER_CONCURRENCY || 16);
const REMINDER_MINUTES = 60;
const REMINDER_LEAD_MS = 8000; // the reminder falls due this long after publishing
/** Which parts run: BENCH_WEBINARS=reminders,heartbeats,questions (default all). */
const PARTS = new Set((process.env.BENCH_WEBINARS || 'reminders,heartbeats,questions').split(',').map((p) => p.trim()));
const BUDGETS = { reminderSeconds: 60, heartbeatP99Ms: 50 };
const SESSION_TTL_HOURS = 12;

// ---------- small helpers ----------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha256 = (t) => crypto.createHash('sha256').update(t).digest('hex');
const newToken = () => crypto.randomBytes(32).toString('base64url');
const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
const ms = (n) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;

/** A local SMTP server that records each message's recipients and arrival time. */
/** CPU time (user + system) a process has used so far, in ms; null when /proc cannot tell. */
function cpuMs(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return null;
  }
}

/** The MariaDB server's pid, when it runs on this machine (for its CPU time), else null. */
function mariadbPid() {
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (['mariadbd', 'mysqld'].includes(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim())) return Number(pid);
    } catch {
      /* gone */
    }
  }
  return null;
}

/** CPU ms used by each named process between start() and the returned stop(). */
function cpuMeter(pids) {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, pid ? cpuMs(pid) : null]));
  return () => Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, before[name] === null || !pid ? null : cpuMs(pid) - before[name]]));
}

const cpuText = (used, per, unit) =>
  Object.entries(used)
    .filter(([, v]) => v !== null)
    .map(([name, v]) => `${name} ${(v / 1000).toFixed(1)} s (${(v / per).toFixed(2)} ms per ${unit})`)
    .join(', ');

// ---------- data ----------

/** The bench author and REGISTRANTS learners, written straight to the tables (placeholder password hashes: nobody signs in). */
async function seedPeople(db) {
  const now = new Date();
  const [author] = await db.query("INSERT INTO users (email, name, password_hash, role, organisation_id, job_role, created_at) VALUES ('bench.webinar.author@example.nhs.uk', 'Bench Author', 'x', 'author', NULL, 'Clinical safety officer', ?)", [now]);
  const rows = Array.from({ length: REGISTRANTS }, (_, i) => [`bench.registrant.${i}@example.nhs.uk`, `Registrant Number ${i}`, 'x', 'learner', null, 'Analyst', now]);
  const [first] = await db.query('INSERT INTO users (email, name, password_hash, role, organisation_id, job_role, created_at) VALUES ?', [rows]);
  const [[topic]] = await db.query("SELECT id FROM topics WHERE slug = 'clinical-safety'");
  const topicId = topic ? topic.id : (await db.query("INSERT INTO topics (slug, name) VALUES ('clinical-safety', 'Clinical safety')"))[0].insertId;
  return { authorId: author.insertId, userIds: Array.from({ length: REGISTRANTS }, (_, i) => first.insertId + i), topicId };
}

async function insertWebinar(db, fields) {
  const now = new Date();
  const row = {
    title: 'Bench webinar',
    summary: 'Bench',
    description: 'Bench',
    presenters: 'Bench Presenter, Clinical safety officer',
    topic_id: null,
    duration_minutes: 60,
    capacity: 100_000,
    join_url: 'https://meet.example.org/bench',
    stream_url: null,
    status: 'scheduled',
    cpd_minutes: 60,
    min_attendance_minutes: 45,
    recording_key: null,
    recording_type: null,
    recording_seconds: null,
    recording_url: null,
    recording_added_at: null,
    sequence: 0,
    cancel_reason: null,
    cancelled_at: null,
    created_at: now,
    updated_at: now,
    ...fields,
  };
  const [result] = await db.query('INSERT INTO webinars SET ?', [row]);
  return result.insertId;
}

async function register(db, webinarId, userIds) {
  const now = new Date();
  for (let i = 0; i < userIds.length; i += 5000) {
    const rows = userIds.slice(i, i + 5000).map((userId) => [webinarId, userId, 'registered', now, null, null]);
    await db.query('INSERT INTO webinar_registrations (webinar_id, user_id, status, queued_at, promoted_at, cancelled_at) VALUES ?', [rows]);
  }
}

/** Bearer tokens minted as AccountsService.issueApiToken does (pa_ + 32 random bytes, stored as SHA-256). */
async function apiTokens(db, userIds) {
  const tokens = userIds.map(() => `pa_${newToken()}`);
  const expires = new Date(Date.now() + 24 * 3600_000);
  for (let i = 0; i < userIds.length; i += 5000) {
    const rows = userIds.slice(i, i + 5000).map((userId, j) => [userId, sha256(tokens[i + j]), new Date(), expires, null]);
    await db.query('INSERT INTO api_tokens (user_id, token_hash, created_at, expires_at, revoked_at) VALUES ?', [rows]);
  }
  return tokens;
}

/** Browser sessions written to Redis as RedisSessionStore.create does; returns the cookie values. */
async function redisSessions(redisUrl, prefix, userIds) {
  const redis = new IORedis(redisUrl);
  try {
    const tokens = userIds.map(() => newToken());
    const ttl = SESSION_TTL_HOURS * 3600;
    for (let i = 0; i < userIds.length; i += 500) {
      const multi = redis.multi();
      for (let j = i; j < Math.min(userIds.length, i + 500); j++) {
        const id = sha256(tokens[j]);
        multi.set(`${prefix}:session:${id}`, JSON.stringify({ userId: userIds[j], createdAt: Date.now(), userAgent: 'bench' }), 'EX', ttl);
        multi.sadd(`${prefix}:user-sessions:${userIds[j]}`, id).expire(`${prefix}:user-sessions:${userIds[j]}`, ttl);
      }
      await multi.exec();
    }
    return tokens;
  } finally {
    redis.disconnect();
  }
}

// ---------- 1. reminders ----------

/**
 * Publishes a draft the way the author's "Publish" does: WebinarsService.publish in an application context of
 * the built app (role web: it enqueues, consumes nothing), which schedules the delayed `webinars.remind` job.
 */
async function publishThroughApp(env, authorId, webinarId) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    require(path.join(ROOT, 'node_modules', 'reflect-metadata'));
    const { loadConfig } = require(path.join(ROOT, 'dist', 'src', 'config', 'config.js'));
    const { createWorker, createLogger } = require(path.join(ROOT, 'dist', 'src', 'bootstrap.js'));
    const { WebinarsService } = require(path.join(ROOT, 'dist', 'src', 'webinars', 'webinars.service.js'));
    const config = loadConfig({ ...env, PROCESS_ROLE: 'web', LOG_LEVEL: 'warn' });
    const context = await createWorker(config, createLogger(config));
    await context.init();
    return {
      publish: async () => {
        const author = { id: authorId, email: 'bench.webinar.author@example.nhs.uk', name: 'Bench Author', role: 'author', jobRole: 'Clinical safety officer', organisationId: null, organisationName: null };
        return context.get(WebinarsService).publish(author, webinarId, config.webinars.reminderMinutes);
      },
      close: () => context.close(),
    };
  } finally {
    process.env = saved;
  }
}

async function benchReminders({ db, smtp, people, appEnv, log }) {
  log(`\n== Webinar reminders: ${REGISTRANTS.toLocaleString('en-GB')} registrants, the ${REMINDER_MINUTES}-minute reminder by the delayed webinars.remind job, 2 worker processes (JOBS_CONCURRENCY=${WORKER_CONCURRENCY}), SMTP in this process`);
  const webinarId = await insertWebinar(db, { slug: 'bench-reminders', title: 'Bench: reminders to ten thousand', topic_id: people.topicId, author_id: people.authorId, status: 'draft', starts_at: new Date(Date.now() + 2 * 3600_000) });
  await register(db, webinarId, people.userIds);
  const dataDirs = [];
  const workers = [1, 2].map((n) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `academy-bench-webinar-worker${n}-`));
    dataDirs.push(dataDir);
    return startWorker(`worker ${n}`, { ...appEnv, PROCESS_ROLE: 'worker', DATA_DIR: dataDir, JOBS_CONCURRENCY: String(WORKER_CONCURRENCY), LOG_LEVEL: 'info' });
  });
  const publisherDir = fs.mkdtempSync(path.join(os.tmpdir(), 'academy-bench-webinar-publisher-'));
  dataDirs.push(publisherDir);
  let publisher = null;
  try {
    [publisher] = await Promise.all([publishThroughApp({ ...appEnv, DATA_DIR: publisherDir }, people.authorId, webinarId), ...workers.map((w) => w.ready)]);
    // Due REMINDER_LEAD_MS from now: the start, to the whole second, then publish.
    const startsAt = new Date(Math.ceil((Date.now() + REMINDER_MINUTES * 60_000 + REMINDER_LEAD_MS) / 1000) * 1000);
    await db.query('UPDATE webinars SET starts_at = ? WHERE id = ?', [startsAt, webinarId]);
    const before = smtp.arrivals.length;
    await publisher.publish();
    const due = startsAt.getTime() - REMINDER_MINUTES * 60_000;
    log(`bench: reminders: published; due in ${((due - Date.now()) / 1000).toFixed(1)} s`);
    await publisher.close();
    publisher = null;
    const meter = cpuMeter({ 'worker 1': workers[0].child.pid, 'worker 2': workers[1].child.pid, mariadb: mariadbPid(), 'bench (SMTP)': process.pid });
    const deadline = due + 180_000;
    let lastCount = -1;
    let lastChange = Date.now();
    while (smtp.arrivals.length - before < REGISTRANTS && Date.now() < deadline) {
      await sleep(250);
      const n = smtp.arrivals.length - before;
      if (n !== lastCount) {
        lastCount = n;
        lastChange = Date.now();
      } else if (n > 0 && Date.now() - lastChange > 60_000) break; // stalled
    }
    // A little longer, to catch any late duplicate.
    await sleep(3000);
    const arrivals = smtp.arrivals.slice(before);
    const recipients = new Set(arrivals.map((a) => a.to));
    const expected = new Set(people.userIds.map((_, i) => `bench.registrant.${i}@example.nhs.uk`));
    const missing = [...expected].filter((e) => !recipients.has(e)).length;
    const duplicates = arrivals.length - recipients.size;
    const times = arrivals.map((a) => a.at).sort((a, b) => a - b);
    const firstS = times.length ? (times[0] - due) / 1000 : NaN;
    const lastS = times.length ? (times[times.length - 1] - due) / 1000 : NaN;
    const [[outbox]] = await db.query("SELECT COUNT(*) AS n, SUM(status = 'sent') AS sent, SUM(attempts > 1) AS retried FROM mail_messages WHERE template = 'webinar-reminder'");
    const pass = recipients.size === REGISTRANTS && missing === 0 && duplicates === 0 && lastS <= BUDGETS.reminderSeconds;
    log(`bench: reminders: ${arrivals.length.toLocaleString('en-GB')} e-mails received by the SMTP server for ${recipients.size.toLocaleString('en-GB')} recipients (${missing} missing), ${duplicates} duplicates; first ${firstS.toFixed(1)} s, last ${lastS.toFixed(1)} s after the due time = ${(arrivals.length / Math.max(0.001, (times[times.length - 1] - times[0]) / 1000)).toFixed(0)} e-mails/s between them`);
    log(`bench: reminders: last e-mail ${lastS.toFixed(1)} s after due (budget: all ${REGISTRANTS.toLocaleString('en-GB')} within ${BUDGETS.reminderSeconds} s of due, 0 duplicates: ${pass ? 'PASS' : 'FAIL'}); outbox: ${outbox.n} reminder rows, ${outbox.sent} sent, ${outbox.retried || 0} retried   (${loadNow().text})`);
    const cpu = meter();
    log(`bench: reminders: CPU time while delivering: ${cpuText(cpu, Math.max(1, arrivals.length), 'e-mail')}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const perWorker = workers.map((w, i) => `worker ${i + 1}: ${(w.output().match(/"level":(40|50)|\bERROR\b|\bWARN\b/g) || []).length} warning/error lines`);
    log(`bench: reminders: ${perWorker.join('; ')}`);
    return { cpuMs: cpu, registrants: REGISTRANTS, received: arrivals.length, recipients: recipients.size, missing, duplicates, firstSeconds: firstS, lastSeconds: lastS, workers: 2, workerConcurrency: WORKER_CONCURRENCY, budget: `all ${REGISTRANTS} within ${BUDGETS.reminderSeconds} s of due, 0 duplicates`, pass, loadAverage: loadNow() };
  } finally {
    if (publisher) await publisher.close().catch(() => {});
    await Promise.all(workers.map((w) => w.stop()));
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------- 2. recording heartbeats ----------

async function benchHeartbeats({ db, web, people, log }) {
  const viewers = people.userIds.slice(0, VIEWERS);
  log(`\n== Recording heartbeats: ${VIEWERS.toLocaleString('en-GB')} viewers, each POST /api/v1/webinars/:id/recording/heartbeat every ${HEARTBEAT_EVERY_S} s for ${HEARTBEAT_SECONDS} s, one web process, bearer tokens`);
  const webinarId = await insertWebinar(db, {
    slug: 'bench-recording',
    title: 'Bench: a recorded webinar',
    topic_id: people.topicId,
    author_id: people.authorId,
    starts_at: new Date(Date.now() - 2 * 24 * 3600_000),
    recording_key: 'bench/recording.mp4',
    recording_type: 'video/mp4',
    recording_seconds: 3600,
    recording_added_at: new Date(Date.now() - 24 * 3600_000),
  });
  const tokens = await apiTokens(db, viewers);
  const url = `${web.url}/api/v1/webinars/${webinarId}/recording/heartbeat`;
  const probe = await request(url, { method: 'POST', headers: { authorization: `Bearer ${tokens[0]}` }, body: { from: 0, to: 0.5 } });
  if (probe.status !== 200) throw new Error(`heartbeat probe answered ${probe.status}: ${probe.text.slice(0, 300)}`);

  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  // As in a browser, each viewer opens the webinar's page (its player) before the player's first heartbeat.
  const opened = Date.now();
  for (let i = 0; i < VIEWERS; i += 50) {
    await Promise.all(
      tokens.slice(i, i + 50).map(async (token) => {
        const page = await request(`${web.url}/webinars/bench-recording`, { headers: { authorization: `Bearer ${token}` }, agent });
        if (page.status !== 200) throw new Error(`the webinar page answered ${page.status}: ${page.text.slice(0, 300)}`);
      }),
    );
  }
  log(`bench: heartbeats: ${VIEWERS.toLocaleString('en-GB')} viewers opened the recording's page in ${((Date.now() - opened) / 1000).toFixed(1)} s`);
  const meter = cpuMeter({ web: web.pid, mariadb: mariadbPid() });
  const rounds = Math.max(1, Math.round(HEARTBEAT_SECONDS / HEARTBEAT_EVERY_S));
  const latencies = []; // { round, ms }
  const failures = {};
  const samples = [];
  const started = Date.now();
  const pending = [];
  for (let i = 0; i < VIEWERS; i++) {
    const offset = (i / VIEWERS) * HEARTBEAT_EVERY_S * 1000;
    for (let k = 0; k < rounds; k++) {
      pending.push(
        new Promise((resolve) => {
          setTimeout(() => {
            const from = k * HEARTBEAT_EVERY_S;
            request(url, { method: 'POST', headers: { authorization: `Bearer ${tokens[i]}` }, body: { from, to: from + HEARTBEAT_EVERY_S }, agent, timeoutMs: 15000 })
              .then((res) => {
                latencies.push({ round: k, ms: res.ms });
                if (res.status !== 200) {
                  failures[res.status] = (failures[res.status] || 0) + 1;
                  if (samples.length < 5) samples.push(`${res.status}: ${res.text.slice(0, 200)}`);
                }
              })
              .catch((err) => {
                failures[err.code || 'error'] = (failures[err.code || 'error'] || 0) + 1;
                if (samples.length < 5) samples.push(String(err.message));
              })
              .finally(resolve);
          }, offset + k * HEARTBEAT_EVERY_S * 1000);
        }),
      );
    }
  }
  await Promise.all(pending);
  const seconds = (Date.now() - started) / 1000;
  const cpu = meter();
  agent.destroy();
  const all = latencies.map((l) => l.ms).sort((a, b) => a - b);
  const steady = latencies.filter((l) => l.round > 0).map((l) => l.ms).sort((a, b) => a - b);
  const firsts = latencies.filter((l) => l.round === 0).map((l) => l.ms).sort((a, b) => a - b);
  const errors = Object.values(failures).reduce((a, b) => a + b, 0);
  const p99 = percentile(all, 99);
  const pass = p99 < BUDGETS.heartbeatP99Ms && errors === 0;
  const [[written]] = await db.query('SELECT COUNT(*) AS n, SUM(covered_seconds) AS covered, MAX(covered_seconds) AS maxCovered FROM webinar_attendance WHERE webinar_id = ?', [webinarId]);
  log(`bench: heartbeats: ${latencies.length.toLocaleString('en-GB')} in ${seconds.toFixed(1)} s = ${(latencies.length / seconds).toFixed(0)} heartbeats/s; p50 ${ms(percentile(all, 50))}, p99 ${ms(p99)}, max ${ms(all[all.length - 1])}; non-2xx/errors ${errors}${errors ? ` ${JSON.stringify(failures)} e.g. ${samples[0]}` : ''}`);
  log(`bench: heartbeats: first of each viewer p50 ${ms(percentile(firsts, 50))}, p99 ${ms(percentile(firsts, 99))}; later ones p50 ${ms(percentile(steady, 50))}, p99 ${ms(percentile(steady, 99))}`);
  log(`bench: heartbeats: p99 ${ms(p99)} (budget: p99 < ${BUDGETS.heartbeatP99Ms} ms, no errors: ${pass ? 'PASS' : 'FAIL'}); written: ${written.n} attendance rows, ${Number(written.covered || 0).toLocaleString('en-GB')} s covered (max ${written.maxCovered} per viewer)   (${loadNow().text})`);
  log(`bench: heartbeats: CPU time: ${cpuText(cpu, Math.max(1, latencies.length), 'heartbeat')}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  // One at a time, afterwards: the unloaded latency, and the SQL statements a heartbeat costs (MariaDB's
  // global counters, so anything else using this server in the meantime is counted too).
  const SERIAL = 100;
  const counters = async () => Object.fromEntries((await db.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_select', 'Com_insert', 'Com_update', 'Com_begin', 'Com_commit', 'Questions')"))[0].map((r) => [r.Variable_name, Number(r.Value)]));
  const serial = [];
  const before = await counters();
  for (let i = 0; i < SERIAL; i++) {
    const from = rounds * HEARTBEAT_EVERY_S;
    const res = await request(url, { method: 'POST', headers: { authorization: `Bearer ${tokens[i]}` }, body: { from, to: from + HEARTBEAT_EVERY_S } });
    if (res.status === 200) serial.push(res.ms);
  }
  const after = await counters();
  serial.sort((a, b) => a - b);
  const per = (k) => ((after[k] - before[k] - (k === 'Questions' || k === 'Com_select' ? 2 : 0)) / SERIAL).toFixed(1);
  const statements = { total: per('Questions'), select: per('Com_select'), insert: per('Com_insert'), update: per('Com_update'), begin: per('Com_begin'), commit: per('Com_commit') };
  log(`bench: heartbeats: one at a time (${serial.length} of ${SERIAL}): p50 ${ms(percentile(serial, 50))}, p99 ${ms(percentile(serial, 99))}; per heartbeat ${statements.total} statements to MariaDB (${statements.select} SELECT, ${statements.update} UPDATE, ${statements.insert} INSERT, ${statements.begin} BEGIN, ${statements.commit} COMMIT)`);
  return { serialP50: percentile(serial, 50), serialP99: percentile(serial, 99), statements, cpuMs: cpu, viewers: VIEWERS, requests: latencies.length, seconds, perSecond: latencies.length / seconds, p50: percentile(all, 50), p99, max: all[all.length - 1], firstP99: percentile(firsts, 99), steadyP50: percentile(steady, 50), steadyP99: percentile(steady, 99), errors, failures, budget: `p99 < ${BUDGETS.heartbeatP99Ms} ms`, pass, loadAverage: loadNow() };
}

// ---------- 3. live questions fan-out ----------

/** Opens one event stream and keeps its frames: { frames: [{ at, text }], opened }. */
function follow(url, cookie, agent) {
  return new Promise((resolve, reject) => {
    const client = { frames: [], buffer: '', res: null, req: null };
    const req = http.get(url, { headers: { cookie, accept: 'text/event-stream' }, agent }, (res) => {
      client.res = res;
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
          if (/^event: questions$/m.test(frame)) {
            client.frames.push({ at, text: frame });
            if (client.frames.length === 1) resolve(client);
          }
        }
      });
      res.on('error', () => {});
    });
    client.req = req;
    req.setTimeout(30000, () => req.destroy(new Error('no first questions frame within 30 s')));
    req.on('error', reject);
  });
}

async function benchQuestions({ db, web, people, redisUrl, prefix, log }) {
  const followers = people.userIds.slice(0, FOLLOWERS);
  log(`\n== Live questions: ${FOLLOWERS.toLocaleString('en-GB')} registrants following GET /webinars/:slug/questions/stream (own session cookie each), one question asked through POST /api/v1/webinars/:id/questions`);
  const slug = 'bench-live-questions';
  const webinarId = await insertWebinar(db, { slug, title: 'Bench: live questions', topic_id: people.topicId, author_id: people.authorId, starts_at: new Date(Date.now() + 5 * 60_000) });
  await register(db, webinarId, followers);
  const cookies = (await redisSessions(redisUrl, prefix, followers)).map((t) => `academy_session=${t}`);
  const [askerToken] = await apiTokens(db, [followers[0]]);
  const streamUrl = `${web.url}/webinars/${slug}/questions/stream`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const clients = [];
  try {
    try {
      clients.push(await follow(streamUrl, cookies[0], agent));
    } catch (err) {
      if (err.status === 404) {
        log(`bench: questions: skipped: GET /webinars/${slug}/questions/stream answered 404 (the live questions page's stream route is not in this build)`);
        return { skipped: 'stream route missing (404)' };
      }
      throw err;
    }
    const connectStarted = Date.now();
    const BATCH = 50;
    for (let i = 1; i < FOLLOWERS; i += BATCH) {
      clients.push(...(await Promise.all(cookies.slice(i, i + BATCH).map((c) => follow(streamUrl, c, agent)))));
    }
    const connectSeconds = (Date.now() - connectStarted) / 1000;
    log(`bench: questions: ${clients.length.toLocaleString('en-GB')} streams open, each with its first list, in ${connectSeconds.toFixed(1)} s`);
    await sleep(1000);

    const sentAt = Date.now();
    const asked = await request(`${web.url}/api/v1/webinars/${webinarId}/questions`, { method: 'POST', headers: { authorization: `Bearer ${askerToken}` }, body: { body: 'How do we keep the hazard log current after each upgrade?' } });
    if (asked.status !== 201) throw new Error(`POST /api/v1/webinars/${webinarId}/questions answered ${asked.status}: ${asked.text.slice(0, 300)}`);
    const answeredAt = asked.at;
    const needle = new RegExp(`"id":${asked.json.id}[,}]`);
    const deadline = Date.now() + 30_000;
    const arrival = () => clients.map((c) => c.frames.find((f) => f.at >= sentAt && needle.test(f.text))).map((f) => (f ? f.at : null));
    let got = arrival();
    while (got.some((t) => t === null) && Date.now() < deadline) {
      await sleep(20);
      got = arrival();
    }
    const reached = got.filter((t) => t !== null);
    const fromAnswer = reached.map((t) => t - answeredAt).sort((a, b) => a - b);
    const fromSend = reached.map((t) => t - sentAt).sort((a, b) => a - b);
    const frames = clients.reduce((n, c) => n + c.frames.filter((f) => f.at >= sentAt).length, 0);
    log(`bench: questions: POST answered 201 in ${ms(asked.ms)}; the new question reached ${reached.length.toLocaleString('en-GB')} of ${clients.length.toLocaleString('en-GB')} viewers (${frames} frames after the POST)`);
    log(`bench: questions: from the POST's answer: p50 ${ms(percentile(fromAnswer, 50))}, last ${ms(fromAnswer[fromAnswer.length - 1])} (from sending it: p50 ${ms(percentile(fromSend, 50))}, last ${ms(fromSend[fromSend.length - 1])}); no budget (reported)`);
    return { followers: clients.length, connectSeconds, reached: reached.length, postMs: asked.ms, p50FromAnswer: percentile(fromAnswer, 50), lastFromAnswer: fromAnswer[fromAnswer.length - 1], p50FromSend: percentile(fromSend, 50), lastFromSend: fromSend[fromSend.length - 1] };
  } finally {
    for (const c of clients) c.req.destroy();
    agent.destroy();
  }
}

// ---------- all three ----------

async function benchWebinars({ mysqlUrl = process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306', redisUrl = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379', log = console.log } = {}) {
  log('');
  log(`bench: webinars: reminders to ${REGISTRANTS.toLocaleString('en-GB')}, ${VIEWERS.toLocaleString('en-GB')} recording viewers, ${FOLLOWERS.toLocaleString('en-GB')} live question followers, on MariaDB + Redis`);
  if (!(await mysqlReachable(mysqlUrl))) {
    log('bench: webinars: skipped: MariaDB not reachable');
    return { skipped: 'MariaDB not reachable' };
  }
  if (!(await redisReachable(redisUrl))) {
    log('bench: webinars: skipped: Redis not reachable');
    return { skipped: 'Redis not reachable' };
  }
  const admin = await mysql.createConnection(mysqlUrl);
  await admin.query(`DROP DATABASE IF EXISTS \`${DATABASE}\``);
  await admin.query(`CREATE DATABASE \`${DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const databaseUrl = `${mysqlUrl.replace(/\/+$/, '')}/${DATABASE}`;
  const prefix = `bench-webinars-${crypto.randomBytes(3).toString('hex')}`;
  const smtp = await startSmtpSink();
  const appEnv = {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    SMTP_URL: smtp.url,
    SESSION_SECRET: crypto.randomBytes(32).toString('hex'),
    SESSION_TTL_HOURS: String(SESSION_TTL_HOURS),
    WEBINAR_REMINDER_MINUTES: String(REMINDER_MINUTES),
  };
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  // The web process migrates the new database; it consumes no jobs.
  const web = await startAppServer({ ...appEnv, PROCESS_ROLE: 'web' }, { logFile: path.join(__dirname, 'results', 'app-webinars.log') });
  Object.assign(appEnv, { MIGRATE_ON_BOOT: 'false', PUBLIC_URL: web.url });
  const db = await mysql.createConnection({ uri: databaseUrl, timezone: 'Z' });
  const report = { database: DATABASE };
  try {
    const seeded = Date.now();
    const people = await seedPeople(db);
    log(`bench: webinars: ${REGISTRANTS.toLocaleString('en-GB')} learners written in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);
    if (PARTS.has('reminders')) report.reminders = await benchReminders({ db, smtp, people, appEnv, log });
    if (PARTS.has('heartbeats')) report.heartbeats = await benchHeartbeats({ db, web, people, log });
    if (PARTS.has('questions')) report.questions = await benchQuestions({ db, web, people, redisUrl, prefix, log });
    report.budgets = [
      ...(report.reminders ? [{ name: 'webinar reminders: all within 60 s, no duplicates', pass: report.reminders.pass }] : []),
      ...(report.heartbeats ? [{ name: 'webinar recording heartbeats p99 < 50 ms', pass: report.heartbeats.pass }] : []),
    ];
    return report;
  } finally {
    await db.end();
    await smtp.close();
    await web.stop();
    await deleteRedisKeys(redisUrl, `${prefix}:*`);
  }
}

module.exports = { benchWebinars };

if (require.main === module) {
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  benchWebinars().then(
    (report) => {
      fs.writeFileSync(path.join(__dirname, 'results', 'webinars.json'), `${JSON.stringify(report, null, 2)}\n`);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

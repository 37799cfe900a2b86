'use strict';

/**
 * Bench data for the MariaDB benchmarks: a database of N enrolments and 10 × N lesson-progress rows,
 * made by the app's own migrations and then bulk-loaded with INSERT … SELECT from MariaDB's SEQUENCE
 * engine (seq_1_to_N), with foreign-key and unique checks off. A finished load leaves a `bench_dataset`
 * row describing it; a later run that finds the same description (and the same row counts) reuses the
 * database instead of generating it again.
 *
 * Shape (every figure derives from the enrolment count N):
 * - 1,000 published courses in 6 topics, each 4 modules × 4 lessons: 14 required text lessons and 2
 *   optional video lessons of 600 s (syllabus positions 2 and 13);
 * - N / 10 learners (placeholder password hash: they never sign in), 10 enrolments each on different
 *   courses; 1 in 20 withdrawn, 1 in 7 completed (with the completion job recorded), the rest active;
 * - 10 lesson-progress rows per enrolment, on the first 10 lessons of its course: 0 to 10 of them
 *   completed, the video at position 2 half watched. Lessons 11 to 16 have no progress rows, so the
 *   heartbeat bench (on the video at position 13) starts from nothing every run.
 *
 * Ids are explicit, so lesson, course and enrolment ids follow from the formulas below.
 */
const crypto = require('node:crypto');
const os = require('node:os');
const path = require('node:path');

const VERSION = 1;
const COURSES = 1000;
const MODULES_PER_COURSE = 4;
const LESSONS_PER_MODULE = 4;
const LESSONS_PER_COURSE = MODULES_PER_COURSE * LESSONS_PER_MODULE;
const VIDEO_INDEXES = [1, 12]; // 0-based syllabus positions of the two video lessons
const HEARTBEAT_VIDEO_INDEX = 12;
const VIDEO_SECONDS = 600;
const ENROLMENTS_PER_LEARNER = 10;
const PROGRESS_PER_ENROLMENT = 10;
const BATCH_ROWS = 500_000;
/** The heartbeat bench's learners: the first 2,000 generated ones (their rows on the heartbeat video are not generated data). */
const HEARTBEAT_LEARNERS = 2000;
const TOPICS = ['Clinical safety', 'Interoperability', 'Cyber security', 'Information governance', 'Implementation', 'Digital leadership'];
const ROOT = path.resolve(__dirname, '..', '..');

/** First learner's user id (user 1 is the author); learner u (0-based) is user u + 2. */
const FIRST_LEARNER_ID = 2;
const T0 = "TIMESTAMP'2025-01-01 00:00:00'";

// ---- the formulas, as SQL over an enrolment id `e` (shared by the load and the heartbeat reset) ----
const learnerOf = (e) => `((${e} - 1) DIV ${ENROLMENTS_PER_LEARNER})`;
const courseOf = (e) => `(MOD(${learnerOf(e)} * 37 + MOD(${e} - 1, ${ENROLMENTS_PER_LEARNER}) * 101, ${COURSES}) + 1)`;
const statusOf = (e) => `(CASE WHEN MOD(${e}, 20) = 0 THEN 'withdrawn' WHEN MOD(${e}, 7) = 0 THEN 'completed' ELSE 'active' END)`;
const enrolledAt = (e) => `(${T0} + INTERVAL MOD(${e} * 7919, 432000) MINUTE)`;
const lastActivityAt = (e) => `(${enrolledAt(e)} + INTERVAL MOD(${e}, 30) DAY)`;
const doneCount = (e) => `MOD(${e}, 11)`;
const progressPercentOf = (e) => `(CASE WHEN MOD(${e}, 20) <> 0 AND MOD(${e}, 7) = 0 THEN 100 ELSE FLOOR(${doneCount(e)} * 100 / 14) END)`;
const finishedAt = (e, status) => `(CASE WHEN ${statusOf(e)} = '${status}' THEN ${lastActivityAt(e)} END)`;

/** Column list and SELECT expressions of the generated enrolment with id `e`. */
const ENROLMENT_COLUMNS = 'id, user_id, course_id, status, progress_percent, enrolled_at, last_activity_at, withdrawn_at, completed_at, completion_recorded_at';
const enrolmentValues = (e) =>
  [e, `${learnerOf(e)} + ${FIRST_LEARNER_ID}`, courseOf(e), statusOf(e), progressPercentOf(e), enrolledAt(e), lastActivityAt(e), finishedAt(e, 'withdrawn'), finishedAt(e, 'completed'), finishedAt(e, 'completed')].join(', ');

/** Lesson id of syllabus position `index` (0-based) of course `c`. */
const lessonIdOf = (course, index) => (course - 1) * LESSONS_PER_COURSE + index + 1;
/** Course of generated enrolment `e` (same formula as courseOf, in JS). */
const courseOfEnrolment = (e) => ((Math.floor((e - 1) / ENROLMENTS_PER_LEARNER) * 37 + ((e - 1) % ENROLMENTS_PER_LEARNER) * 101) % COURSES) + 1;

/** The dataset's description; a database whose bench_dataset row matches it is reused. */
function specFor(enrolments) {
  if (enrolments % ENROLMENTS_PER_LEARNER !== 0) throw new Error(`enrolments must be a multiple of ${ENROLMENTS_PER_LEARNER}`);
  return {
    version: VERSION,
    courses: COURSES,
    lessonsPerCourse: LESSONS_PER_COURSE,
    learners: enrolments / ENROLMENTS_PER_LEARNER,
    enrolments,
    progress: enrolments * PROGRESS_PER_ENROLMENT,
  };
}

function serverOptions(serverUrl) {
  const u = new URL(serverUrl);
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password || ''),
    connectTimeout: 3000,
  };
}

/** The URL of database `name` on the server of `serverUrl` (any path of serverUrl is replaced). */
function databaseUrl(serverUrl, name) {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A mysql2/promise connection to the server (database optional). */
async function connect(serverUrl, database) {
  const mysql = require('mysql2/promise');
  return mysql.createConnection({ ...serverOptions(serverUrl), ...(database ? { database } : {}), multipleStatements: true, dateStrings: true });
}

/** True when the server answers; otherwise the reason, for the "skipped" line. */
async function reachable(serverUrl) {
  try {
    const conn = await connect(serverUrl);
    await conn.query('SELECT 1');
    await conn.end();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: err.code || err.message };
  }
}

/** Runs the app's migrations (compiled in dist/) against the database, as `npm run migrate` does. */
async function migrate(url) {
  const { loadConfig } = require(path.join(ROOT, 'dist', 'src', 'config', 'config.js'));
  const { migrate: run } = require(path.join(ROOT, 'dist', 'src', 'database', 'data-source.js'));
  const config = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: crypto.randomBytes(24).toString('hex'), DATA_DIR: os.tmpdir(), DATABASE_URL: url, LOG_LEVEL: 'warn' });
  return run(config);
}

async function countRows(conn, table) {
  const [[row]] = await conn.query(`SELECT COUNT(*) AS n FROM \`${table}\``);
  return Number(row.n);
}

/**
 * Makes sure database `name` holds the dataset for `enrolments` enrolments: creates it, runs the app's
 * migrations, and generates the data unless a finished load with the same description is already there.
 * Returns { name, url, spec, reused, seconds, migrated }.
 */
async function ensureLearningDatabase(serverUrl, name, enrolments, { log = console.log } = {}) {
  const spec = specFor(enrolments);
  const url = databaseUrl(serverUrl, name);
  const started = Date.now();
  const admin = await connect(serverUrl);
  try {
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin.end();
  }
  let migrated = await migrate(url);
  if (migrated.length) log(`bench: ${name}: applied ${migrated.length} migration(s): ${migrated.join(', ')}`);

  let conn = await connect(serverUrl, name);
  let empty = false;
  try {
    const found = await existingSpec(conn);
    empty = !found && (await countRows(conn, 'users')) === 0 && (await countRows(conn, 'courses')) === 0;
    if (found && JSON.stringify(found) === JSON.stringify(spec)) {
      // Cheap checks that the load really finished: the counts of the generated rows.
      const enrolled = Number((await conn.query(`SELECT COUNT(*) AS n FROM enrolments WHERE id <= ?`, [spec.enrolments]))[0][0].n);
      const learners = Number((await conn.query(`SELECT COUNT(*) AS n FROM users WHERE id BETWEEN ? AND ?`, [FIRST_LEARNER_ID, FIRST_LEARNER_ID + spec.learners - 1]))[0][0].n);
      // COUNT(*) of the whole table reads its smallest index; the bench learner's rows, and any a heartbeat run
      // left behind (it removes them when it ends, but may have been interrupted), are then taken off.
      const allProgress = await countRows(conn, 'lesson_progress');
      const benchLearner = Number((await conn.query(`SELECT COUNT(*) AS n FROM lesson_progress WHERE enrolment_id > ?`, [spec.enrolments]))[0][0].n);
      const heartbeats = Number((await conn.query(`SELECT COUNT(*) AS n FROM lesson_progress WHERE ${heartbeatRowsWhere(Math.min(HEARTBEAT_LEARNERS, spec.learners))}`))[0][0].n);
      const progress = allProgress - benchLearner - heartbeats;
      if (enrolled === spec.enrolments && learners === spec.learners && progress === spec.progress) {
        return { name, url, spec, reused: true, seconds: (Date.now() - started) / 1000, migrated };
      }
      log(`bench: ${name}: counts differ from its description (enrolments ${enrolled}, learners ${learners}, progress ${progress}): generating again`);
    } else if (found) {
      log(`bench: ${name}: holds a different dataset (${JSON.stringify(found)}): generating again`);
    }
  } finally {
    await conn.end();
  }

  if (!empty) {
    log(`bench: ${name}: dropping it to start afresh`);
    // Start afresh: drop whatever was there (a half-finished load, an older shape) and migrate again.
    const admin2 = await connect(serverUrl);
    try {
      await admin2.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin2.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    } finally {
      await admin2.end();
    }
    migrated = await migrate(url);
  }
  log(`bench: ${name}: generating ${spec.learners.toLocaleString('en-GB')} learners, ${spec.enrolments.toLocaleString('en-GB')} enrolments, ${spec.progress.toLocaleString('en-GB')} lesson-progress rows`);
  conn = await connect(serverUrl, name);
  try {
    await generate(conn, spec, log);
  } finally {
    await conn.end();
  }
  const seconds = (Date.now() - started) / 1000;
  log(`bench: ${name}: generated in ${seconds.toFixed(0)} s`);
  return { name, url, spec, reused: false, seconds, migrated };
}

async function existingSpec(conn) {
  const [tables] = await conn.query(`SHOW TABLES LIKE 'bench_dataset'`);
  if (!tables.length) return null;
  const [rows] = await conn.query('SELECT spec FROM bench_dataset WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1');
  return rows.length ? JSON.parse(rows[0].spec) : null;
}

/** Seconds since `t`, to one decimal. */
const since = (t) => ((Date.now() - t) / 1000).toFixed(1);

async function generate(conn, spec, log) {
  const t = Date.now();
  await conn.query('SET SESSION foreign_key_checks = 0, unique_checks = 0');
  await conn.query(`CREATE TABLE bench_dataset (id INT AUTO_INCREMENT PRIMARY KEY, spec TEXT NOT NULL, started_at DATETIME NOT NULL, finished_at DATETIME NULL, seconds INT NULL)`);
  const [mark] = await conn.query('INSERT INTO bench_dataset (spec, started_at) VALUES (?, UTC_TIMESTAMP())', [JSON.stringify(spec)]);

  // Catalogue: one organisation, one author, six topics, 1,000 courses of 16 lessons.
  await conn.query(`INSERT INTO organisations (id, name, name_key, created_at) VALUES (1, 'Bench Trust', 'bench trust', ${T0})`);
  await conn.query(
    `INSERT INTO users (id, email, name, password_hash, role, organisation_id, job_role, created_at)
     VALUES (1, 'bench.author@example.nhs.uk', 'Bench Author', 'bench-placeholder-not-a-hash', 'author', 1, 'Author', ${T0})`,
  );
  await conn.query(`INSERT INTO topics (id, slug, name) VALUES ${TOPICS.map((n, i) => `(${i + 1}, '${n.toLowerCase().replace(/ /g, '-')}', '${n}')`).join(', ')}`);
  await conn.query(
    `INSERT INTO courses (id, slug, title, summary, description, who_for, level, estimated_minutes, cpd_minutes, cover_image, status, topic_id, author_id, enrolment_count, published_at, created_at, updated_at)
     SELECT seq, CONCAT('bench-learning-course-', seq), CONCAT('Bench course ', seq, ': practical safety for health and care teams'),
            CONCAT('A short course, number ', seq, ', on what to do on Monday morning.'), CONCAT('## About\n\nCourse ', seq, '.'),
            'Anyone who runs IT in health and care.', ELT(MOD(seq, 3) + 1, 'introductory', 'intermediate', 'advanced'),
            10 + MOD(seq * 37, 111), 10 + MOD(seq * 37, 111), NULL, 'published', MOD(seq, ${TOPICS.length}) + 1, 1, 0,
            ${T0} - INTERVAL seq HOUR, ${T0} - INTERVAL seq HOUR, ${T0}
     FROM seq_1_to_${COURSES}`,
  );
  await conn.query(
    `INSERT INTO course_modules (id, course_id, position, title)
     SELECT seq, (seq - 1) DIV ${MODULES_PER_COURSE} + 1, MOD(seq - 1, ${MODULES_PER_COURSE}) + 1, CONCAT('Module ', MOD(seq - 1, ${MODULES_PER_COURSE}) + 1)
     FROM seq_1_to_${COURSES * MODULES_PER_COURSE}`,
  );
  const isVideo = `MOD(seq - 1, ${LESSONS_PER_COURSE}) IN (${VIDEO_INDEXES.join(', ')})`;
  await conn.query(
    `INSERT INTO lessons (id, module_id, course_id, position, kind, title, minutes, required, body, file_key, file_name, file_type, captions_key, video_seconds, pass_mark)
     SELECT seq, (seq - 1) DIV ${LESSONS_PER_MODULE} + 1, (seq - 1) DIV ${LESSONS_PER_COURSE} + 1, MOD(seq - 1, ${LESSONS_PER_MODULE}) + 1,
            IF(${isVideo}, 'video', 'text'), CONCAT('Lesson ', MOD(seq - 1, ${LESSONS_PER_COURSE}) + 1), 5, IF(${isVideo}, 0, 1),
            'A short lesson.', IF(${isVideo}, 'bench/video.mp4', NULL), NULL, NULL, IF(${isVideo}, 'bench/video.vtt', NULL),
            IF(${isVideo}, ${VIDEO_SECONDS}, NULL), NULL
     FROM seq_1_to_${COURSES * LESSONS_PER_COURSE}`,
  );
  log(`bench:   catalogue: ${COURSES} courses, ${COURSES * LESSONS_PER_COURSE} lessons (${since(t)} s)`);

  // Learners: a placeholder hash (argon2 would verify nothing against it; they never sign in).
  await conn.query(
    `INSERT INTO users (id, email, name, password_hash, role, organisation_id, job_role, created_at)
     SELECT seq + ${FIRST_LEARNER_ID - 1}, CONCAT('learner-', seq, '@bench.example.nhs.uk'), CONCAT('Bench learner ', seq),
            'bench-placeholder-not-a-hash', 'learner', 1, 'Analyst', ${T0} + INTERVAL seq SECOND
     FROM seq_1_to_${spec.learners}`,
  );
  log(`bench:   ${spec.learners.toLocaleString('en-GB')} learners (${since(t)} s)`);

  for (let from = 1; from <= spec.enrolments; from += BATCH_ROWS) {
    const to = Math.min(spec.enrolments, from + BATCH_ROWS - 1);
    await conn.query(`INSERT INTO enrolments (${ENROLMENT_COLUMNS}) SELECT ${enrolmentValues('seq')} FROM seq_${from}_to_${to}`);
  }
  log(`bench:   ${spec.enrolments.toLocaleString('en-GB')} enrolments (${since(t)} s)`);

  // Progress: row p (0-based) is lesson k = p mod 10 of enrolment e = p div 10 + 1, in primary-key order.
  const e = `(seq DIV ${PROGRESS_PER_ENROLMENT} + 1)`;
  const k = `MOD(seq, ${PROGRESS_PER_ENROLMENT})`;
  const at = `(${enrolledAt(e)} + INTERVAL ${k} HOUR)`;
  const video = `${k} IN (${VIDEO_INDEXES.join(', ')})`;
  const progressSql = (from, to) => `INSERT INTO lesson_progress (enrolment_id, lesson_id, position_seconds, covered_seconds, watched_intervals, completed_at, updated_at, watch_allowance_ms, heartbeat_at)
     SELECT ${e}, (${courseOf(e)} - 1) * ${LESSONS_PER_COURSE} + ${k} + 1,
            IF(${video}, ${VIDEO_SECONDS / 2}, 0), IF(${video}, ${VIDEO_SECONDS / 2}, 0), IF(${video}, '[[0,${VIDEO_SECONDS / 2}]]', NULL),
            IF(NOT ${video} AND ${k} < ${doneCount(e)}, ${at}, NULL), ${at}, 0, IF(${video}, ${at}, NULL)
     FROM seq_${from}_to_${to}`;
  // Rows go in in primary-key order, so the clustered index only appends; the secondary index on lesson_id
  // would take them in random order (far slower than a buffer pool's worth of pages), so it and the foreign
  // key that needs it are dropped for the load and built again afterwards, as the migration defined them.
  const [[{ 'Create Table': before }]] = await conn.query('SHOW CREATE TABLE lesson_progress');
  await conn.query('ALTER TABLE lesson_progress DROP FOREIGN KEY fk_lesson_progress_lesson, DROP INDEX idx_lesson_progress_lesson');
  const total = spec.progress;
  let lastLog = Date.now();
  for (let from = 0; from < total; from += BATCH_ROWS * 2) {
    const to = Math.min(total, from + BATCH_ROWS * 2) - 1;
    await conn.query(progressSql(from, to));
    if (Date.now() - lastLog > 10_000 || to === total - 1) {
      lastLog = Date.now();
      log(`bench:   lesson progress ${(to + 1).toLocaleString('en-GB')} of ${total.toLocaleString('en-GB')} (${since(t)} s)`);
    }
  }

  await conn.query(
    `ALTER TABLE lesson_progress ADD INDEX idx_lesson_progress_lesson (lesson_id),
       ADD CONSTRAINT fk_lesson_progress_lesson FOREIGN KEY (lesson_id) REFERENCES lessons (id) ON DELETE CASCADE ON UPDATE NO ACTION`,
  );
  const [[{ 'Create Table': after }]] = await conn.query('SHOW CREATE TABLE lesson_progress');
  // The same columns, keys and constraints; the server may list the rebuilt index in another place.
  const definition = (sql) => sql.split('\n').map((line) => line.trim().replace(/,$/, '')).sort().join('\n');
  if (definition(after) !== definition(before)) throw new Error(`lesson_progress differs from its migrated definition after the load:\n${before}\n---\n${after}`);
  log(`bench:   index on lesson_progress.lesson_id built again (${since(t)} s)`);

  // The "most popular" counter, as enrolling keeps it.
  await conn.query(
    `UPDATE courses c JOIN (SELECT course_id, COUNT(*) AS n FROM enrolments WHERE status <> 'withdrawn' GROUP BY course_id) x ON x.course_id = c.id SET c.enrolment_count = x.n`,
  );
  await conn.query('ANALYZE TABLE users, courses, lessons, enrolments, lesson_progress');
  await conn.query('UPDATE bench_dataset SET finished_at = UTC_TIMESTAMP(), seconds = ? WHERE id = ?', [Math.round((Date.now() - t) / 1000), mark.insertId]);
}

// ---------- the learners the benches act as ----------

/**
 * The "My learning" learner's 20 courses and, per course, how many of its required (text) lessons to
 * complete: all 14 on the first two (so those courses complete), 0 to 11 on the others.
 */
function benchLearnerPlan() {
  const textIndexes = [...Array(LESSONS_PER_COURSE).keys()].filter((i) => !VIDEO_INDEXES.includes(i));
  return Array.from({ length: 20 }, (_, i) => {
    const courseId = 1 + ((i * 50 + 3) % COURSES);
    const done = i < 2 ? textIndexes.length : i % 12;
    return { courseId, completeLessonIds: textIndexes.slice(0, done).map((index) => lessonIdOf(courseId, index)) };
  });
}

/** The progress rows heartbeats of the first `count` learners write: on the heartbeat video of their first enrolment's course. */
const heartbeatRowsWhere = (count) =>
  `enrolment_id <= ${count * ENROLMENTS_PER_LEARNER} AND MOD(enrolment_id - 1, ${ENROLMENTS_PER_LEARNER}) = 0
   AND lesson_id = (${courseOf('enrolment_id')} - 1) * ${LESSONS_PER_COURSE} + ${HEARTBEAT_VIDEO_INDEX + 1}`;

/**
 * Puts the first `count` learners back as generated: no progress on their heartbeat video (the generator
 * never makes any), their first enrolment's fields as generated (a heartbeat may change them), no tokens.
 */
async function resetHeartbeatLearners(conn, count) {
  const lastEnrolment = (count - 1) * ENROLMENTS_PER_LEARNER + 1;
  await conn.query(`DELETE FROM lesson_progress WHERE ${heartbeatRowsWhere(count)}`);
  await conn.query(
    `UPDATE enrolments SET status = ${statusOf('id')}, progress_percent = ${progressPercentOf('id')}, last_activity_at = ${lastActivityAt('id')},
       completed_at = ${finishedAt('id', 'completed')}, completion_recorded_at = ${finishedAt('id', 'completed')}
     WHERE id <= ? AND MOD(id - 1, ${ENROLMENTS_PER_LEARNER}) = 0`,
    [lastEnrolment],
  );
  await conn.query('DELETE FROM api_tokens WHERE user_id BETWEEN ? AND ?', [FIRST_LEARNER_ID, FIRST_LEARNER_ID + count - 1]);
}

/**
 * The heartbeat learners: the first `count` generated learners, each on the video at syllabus position 13
 * of the course of its first enrolment. Puts them back as generated (resetHeartbeatLearners), then mints a
 * bearer token for each the way the app does (`pa_` + 32 random bytes, stored as its SHA-256).
 * Returns { learners: [{ userId, enrolmentId, lessonId, videoSeconds, token }], cleanup() }; cleanup()
 * puts them back again, so the database stays as generated.
 */
async function prepareHeartbeatLearners(conn, spec, count = HEARTBEAT_LEARNERS, ttlDays = 1) {
  if (count > spec.learners || count > HEARTBEAT_LEARNERS) throw new Error(`at most ${Math.min(spec.learners, HEARTBEAT_LEARNERS)} heartbeat learners in this dataset, ${count} wanted`);
  const learners = Array.from({ length: count }, (_, u) => {
    const enrolmentId = u * ENROLMENTS_PER_LEARNER + 1;
    const token = `pa_${crypto.randomBytes(32).toString('base64url')}`;
    return { userId: u + FIRST_LEARNER_ID, enrolmentId, lessonId: lessonIdOf(courseOfEnrolment(enrolmentId), HEARTBEAT_VIDEO_INDEX), videoSeconds: VIDEO_SECONDS, token };
  });
  await resetHeartbeatLearners(conn, count);
  const hash = (t) => crypto.createHash('sha256').update(t).digest('hex');
  for (let i = 0; i < learners.length; i += 1000) {
    const rows = learners.slice(i, i + 1000).map((l) => [l.userId, hash(l.token)]);
    await conn.query(
      `INSERT INTO api_tokens (user_id, token_hash, created_at, expires_at, revoked_at) VALUES ${rows.map(() => `(?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL ${ttlDays} DAY, NULL)`).join(', ')}`,
      rows.flat(),
    );
  }
  return { learners, cleanup: () => resetHeartbeatLearners(conn, count) };
}

module.exports = {
  VIDEO_SECONDS,
  HEARTBEAT_LEARNERS,
  specFor,
  databaseUrl,
  connect,
  migrate,
  reachable,
  ensureLearningDatabase,
  benchLearnerPlan,
  prepareHeartbeatLearners,
};

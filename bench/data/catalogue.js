'use strict';

/**
 * Bench data: N published courses (with topics and an author) written straight into the app's SQLite file,
 * spread over six topics, three levels and lengths from 10 to 120 minutes, published over the last N hours.
 */
const Database = require('better-sqlite3');

const TOPICS = ['Clinical safety', 'Interoperability', 'Cyber security', 'Information governance', 'Implementation', 'Digital leadership'];
const LEVELS = ['introductory', 'intermediate', 'advanced'];
const WORDS = ['hazard', 'FHIR', 'cutover', 'phishing', 'consent', 'hypercare', 'records', 'APIs', 'backups', 'leadership', 'safety case', 'UK Core'];

function seedCatalogue(sqliteFile, count) {
  const db = new Database(sqliteFile);
  db.pragma('busy_timeout = 5000');
  const now = Date.now();
  const iso = (ms) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  db.transaction(() => {
    const org = db.prepare('INSERT INTO organisations (name, name_key, created_at) VALUES (?, ?, ?)').run('Bench Trust', 'bench trust', iso(now));
    const author = db
      .prepare('INSERT INTO users (email, name, password_hash, role, organisation_id, job_role, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run('bench.author@example.nhs.uk', 'Bench Author', 'not-a-hash', 'author', org.lastInsertRowid, 'Author', iso(now));
    const topicIds = TOPICS.map((name) => db.prepare('INSERT INTO topics (slug, name) VALUES (?, ?)').run(name.toLowerCase().replace(/ /g, '-'), name).lastInsertRowid);
    const insert = db.prepare(
      `INSERT INTO courses (slug, title, summary, description, who_for, level, estimated_minutes, cpd_minutes, status, topic_id, author_id, enrolment_count, published_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'published', ?, ?, ?, ?, ?, ?)`,
    );
    for (let i = 0; i < count; i++) {
      const minutes = 10 + ((i * 37) % 111);
      const word = WORDS[i % WORDS.length];
      insert.run(
        `bench-course-${i}`,
        `Practical ${word} for health and care teams, part ${i + 1}`,
        `A short course on ${word}: what it is, why it matters, and what to do on Monday morning.`,
        `## About\n\nCourse ${i + 1} about ${word}.`,
        'Anyone who runs IT in health and care.',
        LEVELS[i % LEVELS.length],
        minutes,
        minutes,
        topicIds[i % topicIds.length],
        author.lastInsertRowid,
        (i * 7919) % 500,
        iso(now - i * 3600_000),
        iso(now),
        iso(now),
      );
    }
  })();
  db.close();
}

module.exports = { seedCatalogue };

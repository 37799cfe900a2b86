'use strict';

/**
 * Reusable pieces for the benchmarks in bench/: start the built app, start a bare Fastify
 * baseline that serves fixed bytes, measure a URL with autocannon, and format the results.
 *
 * Plain CommonJS so it runs without a build step. Everything binds to 127.0.0.1 only.
 */

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');

const ROOT = path.resolve(__dirname, '..');
const HOST = '127.0.0.1';
const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

/** Environment variables the app reads; cleared from the inherited environment so the bench is reproducible. */
const APP_VARIABLES = [
  'NODE_ENV', 'PROCESS_ROLE', 'HOST', 'PORT', 'PUBLIC_URL', 'DATA_DIR', 'DATABASE_URL', 'REDIS_URL', 'REDIS_PREFIX',
  'SMTP_URL', 'MAIL_FROM', 'ACADEMY_NAME', 'SESSION_SECRET', 'SESSION_TTL_HOURS', 'API_TOKEN_TTL_DAYS',
  'PASSWORD_RESET_TTL_MINUTES', 'COOKIE_SECURE', 'AUTH_RATE_LIMIT_PER_IP', 'AUTH_RATE_LIMIT_PER_ACCOUNT',
  'AUTH_RATE_WINDOW_SECONDS', 'JOBS_CONCURRENCY', 'MIGRATE_ON_BOOT', 'DEMO_DATA', 'LOG_LEVEL', 'SHUTDOWN_TIMEOUT_SECONDS',
];

function appVariables() {
  // Prefer the app's own list (kept in step with its config schema); fall back to the copy above.
  try {
    const { CONFIG_VARIABLES } = require(path.join(ROOT, 'dist', 'src', 'config', 'config.js'));
    if (Array.isArray(CONFIG_VARIABLES) && CONFIG_VARIABLES.length) return [...new Set([...CONFIG_VARIABLES, ...APP_VARIABLES])];
  } catch {
    /* not built yet, or moved: use the fallback */
  }
  return APP_VARIABLES;
}

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A random printable secret of `length` characters. */
function randomSecret(length = 48) {
  return crypto.randomBytes(length).toString('base64url').slice(0, length);
}

/**
 * GET a URL with node:http (no decompression, no cookies) and return the exact body bytes,
 * status and headers, as a load generator sees them.
 */
function fetchRaw(url, { headers = {}, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

// Servers started by this module and not yet stopped, so a crash or Ctrl-C can still stop them.
const running = new Set();

/** Stops every server started here that is still running (used on error / SIGINT). */
async function stopAll() {
  await Promise.allSettled([...running].map((s) => s.stop()));
}

process.on('exit', () => {
  // Last resort if the harness dies without awaiting stopAll(): no orphaned app processes.
  for (const s of running) if (s.child && s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
});

/**
 * Starts the built app (`node dist/src/main.js`) as a child process on a free port of 127.0.0.1,
 * with embedded SQLite in a fresh temporary DATA_DIR and in-process jobs, and waits until
 * GET /health answers 200.
 *
 * `env` overrides/extends the defaults. Output of the app is written to `logFile` (if given)
 * and the last lines are kept for error messages.
 *
 * Returns { url, port, pid, dataDir, child, output(), stop() }. stop() sends SIGTERM, waits for the
 * process to exit (SIGKILL after `stopTimeoutMs`), removes the DATA_DIR and resolves
 * { code, signal, ms, killed }.
 */
/** Extra node options for the app's processes, e.g. BENCH_APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them. */
const nodeArgs = (variable) => (process.env[variable] ? process.env[variable].split(' ').filter(Boolean) : []);

async function startAppServer(env = {}, { readyTimeoutMs = 60000, stopTimeoutMs = 30000, logFile = null, healthPath = '/health' } = {}) {
  if (!fs.existsSync(MAIN)) throw new Error(`${path.relative(process.cwd(), MAIN)} not found: run "npm run build" first`);
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'academy-bench-'));

  const childEnv = { ...process.env };
  for (const key of appVariables()) delete childEnv[key];
  Object.assign(childEnv, {
    NODE_ENV: 'production',
    SESSION_SECRET: randomSecret(48),
    HOST,
    PORT: String(port),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    // No load balancer to drain from: stop at once.
    SHUTDOWN_DRAIN_SECONDS: '0',
    ...env,
  });
  if (childEnv.PORT !== String(port)) throw new Error('startAppServer chooses the port itself; do not pass PORT');

  const child = spawn(process.execPath, [...nodeArgs('BENCH_APP_NODE_ARGS'), MAIN], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = logFile ? fs.createWriteStream(logFile) : null;
  const tail = [];
  const keep = (stream) => (chunk) => {
    if (log) log.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      tail.push(`[${stream}] ${line}`);
      if (tail.length > 200) tail.shift();
    }
  };
  child.stdout.on('data', keep('stdout'));
  child.stderr.on('data', keep('stderr'));

  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exitInfo = null;
  exited.then((info) => {
    exitInfo = info;
  });

  const url = `http://${HOST}:${port}`;
  let stopping = null;
  const handle = {
    url,
    port,
    pid: child.pid,
    dataDir,
    child,
    output: () => tail.join('\n'),
    stop() {
      if (stopping) return stopping;
      stopping = (async () => {
        const started = Date.now();
        let killed = false;
        if (!exitInfo) {
          child.kill('SIGTERM');
          const timer = sleep(stopTimeoutMs).then(() => 'timeout');
          if ((await Promise.race([exited, timer])) === 'timeout') {
            killed = true;
            child.kill('SIGKILL');
          }
        }
        const info = await exited;
        running.delete(handle);
        if (log) await new Promise((resolve) => log.end(resolve));
        fs.rmSync(dataDir, { recursive: true, force: true });
        return { ...info, ms: Date.now() - started, killed };
      })();
      return stopping;
    },
  };
  running.add(handle);

  // Readiness: poll /health until 200, failing fast if the process exits.
  const deadline = Date.now() + readyTimeoutMs;
  let last = 'no answer yet';
  for (;;) {
    if (exitInfo) {
      await handle.stop();
      throw new Error(`App exited before it was ready (code ${exitInfo.code}, signal ${exitInfo.signal}). Last output:\n${handle.output()}`);
    }
    try {
      const res = await fetchRaw(url + healthPath, { timeoutMs: 2000 });
      if (res.status === 200) break;
      last = `HTTP ${res.status}: ${res.body.toString('utf8').slice(0, 300)}`;
    } catch (err) {
      last = err.code || err.message;
    }
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`App not ready within ${readyTimeoutMs / 1000} s (GET ${healthPath}: ${last}). Last output:\n${handle.output()}`);
    }
    await sleep(200);
  }
  return handle;
}

/**
 * Starts a bare Fastify server (in this process, logger off) on a free port of 127.0.0.1 that
 * answers GET `routePath` with `body` (a Buffer, sent as-is from memory) and `contentType`.
 * Returns { url, port, stop() }.
 */
async function startBareServer(routePath, body, contentType) {
  const fastify = require('fastify')({ logger: false });
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body);
  fastify.get(routePath, (request, reply) => {
    if (contentType) reply.header('content-type', contentType);
    reply.send(payload);
  });
  await fastify.listen({ host: HOST, port: 0 });
  const { port } = fastify.server.address();
  let stopping = null;
  const handle = {
    url: `http://${HOST}:${port}`,
    port,
    stop() {
      if (!stopping) stopping = fastify.close().finally(() => running.delete(handle));
      return stopping;
    },
  };
  running.add(handle);
  return handle;
}

const DEFAULT_MEASURE = { connections: 10, duration: 10, pipelining: 1, warmupSeconds: 2, workers: 1 };

function runAutocannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/**
 * Loads `url` with autocannon: an unmeasured warm-up of `warmupSeconds`, then the measured run.
 * Options: connections (10), duration seconds (10), pipelining (1), warmupSeconds (2),
 * workers (1: the load runs in a worker thread, so an in-process server under test gets the
 * main thread to itself), plus any other autocannon option (method, headers, body, ...).
 * Returns { reqPerSec, p50, p99, non2xx, errors, timeouts, totalRequests, statusCodes, ... , raw }.
 */
async function measure(url, opts = {}) {
  const { warmupSeconds, ...o } = { ...DEFAULT_MEASURE, ...opts };
  const base = { ...o, url };
  if (!base.workers) delete base.workers;
  if (warmupSeconds > 0) await runAutocannon({ ...base, duration: warmupSeconds });
  const r = await runAutocannon(base);
  const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats || {}).map(([code, v]) => [code, v.count]));
  return {
    url,
    connections: base.connections,
    pipelining: base.pipelining,
    duration: base.duration,
    reqPerSec: r.requests.average,
    reqPerSecStddev: r.requests.stddev,
    p50: r.latency.p50,
    p99: r.latency.p99,
    latencyAvg: r.latency.average,
    latencyMax: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    totalRequests: r.requests.total,
    bytesPerSec: r.throughput.average,
    statusCodes,
    raw: r,
  };
}

// ---------- formatting ----------

const num = (n, digits = 0) =>
  n === null || n === undefined || Number.isNaN(n) ? '-' : Number(n).toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
// autocannon records latency in whole milliseconds, so percentiles are printed without decimals ("0 ms" means under 1 ms).
const ms = (n) => (n === null || n === undefined ? '-' : `${num(n, Number.isInteger(n) ? 0 : 2)} ms`);
const pct = (ratio) => (ratio === null || ratio === undefined || !Number.isFinite(ratio) ? '-' : `${(ratio * 100).toFixed(1)}%`);

const COLUMNS = [
  { title: '', width: 6, align: 'left' },
  { title: 'req/s (avg)', width: 12 },
  { title: 'p50', width: 8 },
  { title: 'p99', width: 8 },
  { title: 'non-2xx', width: 8 },
  { title: 'errors', width: 7 },
  { title: 'requests', width: 9 },
];

function cell(text, { width, align }) {
  const s = String(text);
  return align === 'left' ? s.padEnd(width) : s.padStart(width);
}

/** One table row (string) for a measure() result, labelled e.g. "ours" or "bare". */
function printRow(label, m) {
  const values = [label, num(m.reqPerSec), ms(m.p50), ms(m.p99), num(m.non2xx), num(m.errors + (m.timeouts || 0)), num(m.totalRequests)];
  return values.map((v, i) => cell(v, COLUMNS[i])).join('  ');
}

/**
 * The ratio ours/bare of req/s and whether it meets `budgetRatio` (null: no budget, reported only).
 * A run with non-2xx answers or errors on our side never passes.
 */
function verdict(name, ours, bare, budgetRatio) {
  const ratio = bare.reqPerSec > 0 ? ours.reqPerSec / bare.reqPerSec : null;
  if (budgetRatio === null || budgetRatio === undefined) {
    return { ratio, budgetRatio: null, budget: 'budget: none (reported)', pass: null };
  }
  const clean = ours.non2xx === 0 && ours.errors === 0 && (ours.timeouts || 0) === 0;
  const pass = ratio !== null && ratio >= budgetRatio && clean;
  const note = clean ? '' : ' (ours had non-2xx/errors)';
  return { ratio, budgetRatio, budget: `budget: ${name} ≥ ${Math.round(budgetRatio * 100)}% of bare`, pass, note };
}

/** A titled table comparing ours with bare for one page, with the ratio and the budget verdict. */
function formatTable({ name, path: pagePath, ours, bare, budgetRatio, bytes, contentType, settings }) {
  const v = verdict(name, ours, bare, budgetRatio);
  const header = COLUMNS.map((c) => cell(c.title, c)).join('  ');
  const lines = [
    '',
    `== ${name}  GET ${pagePath}${bytes !== undefined ? `  (${num(bytes)} bytes, ${contentType || 'no content-type'})` : ''}`,
    settings ? `   ${settings}; latency in whole ms (autocannon's resolution)` : null,
    header,
    '-'.repeat(header.length),
    printRow('ours', ours),
    printRow('bare', bare),
    `ratio ours/bare req/s: ${pct(v.ratio)}   ${v.budget}${v.pass === null ? '' : `   ${v.pass ? 'PASS' : 'FAIL'}${v.note || ''}`}   (${loadNow().text})`,
  ];
  return { text: lines.filter((l) => l !== null).join('\n'), verdict: v };
}

/** Deletes the Redis keys matching a pattern (a bench's own prefix), in batches. */
async function deleteRedisKeys(url, pattern) {
  const IORedis = require('ioredis');
  const redis = new IORedis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A worker process (PROCESS_ROLE=worker) of the built app; `ready` once it says so, `stop` ends it gracefully. */
function startWorker(name, env) {
  const child = spawn(process.execPath, [...nodeArgs('BENCH_WORKER_NODE_ARGS'), path.join(ROOT, 'dist', 'src', 'main.js')], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const ready = new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (output.includes('Worker started')) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`${name} exited with ${code}:\n${output.slice(-2000)}`));
    });
  });
  ready.catch(() => {});
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 20000);
    await new Promise((r) => child.once('exit', r));
    clearTimeout(killer);
  };
  return { child, ready, stop, output: () => output };
}

/** Whether Redis answers at `url` (the benches that need it skip with a message otherwise). */
async function redisReachable(url) {
  let IORedis;
  try {
    IORedis = require('ioredis');
  } catch {
    return false;
  }
  const redis = new IORedis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}


/** Whether MariaDB/MySQL answers at `url`. */
async function mysqlReachable(url) {
  const mysql = require('mysql2/promise');
  try {
    const c = await mysql.createConnection(url);
    await c.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * One HTTP request (no cookie jar; its own connection unless an agent is given). A string body is sent as it is,
 * anything else as JSON. Resolves { status, headers, text, json, ms, at }.
 */
function request(url, { method = 'GET', headers = {}, body = null, agent = false, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === null ? null : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const allHeaders = { ...headers };
    if (payload) {
      allHeaders['content-length'] = payload.length;
      if (!Object.keys(allHeaders).some((h) => h.toLowerCase() === 'content-type')) allHeaders['content-type'] = 'application/json';
    }
    const started = process.hrtime.bigint();
    const req = http.request(url, { method, headers: allHeaders, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json, ms: Number(process.hrtime.bigint() - started) / 1e6, at: Date.now() });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** A local SMTP server that accepts everything and notes each recipient and when: `arrivals` [{ to, at }]. */
function startSmtpSink() {
  const arrivals = []; // { to, at }
  const { SMTPServer } = require('smtp-server');
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    maxClients: 100,
    onData(stream, session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => {
        const at = Date.now();
        for (const r of session.envelope.rcptTo) arrivals.push({ to: r.address.toLowerCase(), at });
        callback();
      });
    },
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `smtp://127.0.0.1:${server.server.address().port}`, arrivals, close: () => new Promise((r) => server.close(r)) })),
  );
}

/**
 * The machine's load average when a figure is taken, printed beside every budget line: a figure measured
 * while other work shares the cores is not the app's alone (a loaded machine has missed budgets a quiet one meets).
 */
function loadNow() {
  const [one, five, fifteen] = os.loadavg();
  return { oneMinute: one, fiveMinutes: five, fifteenMinutes: fifteen, cpus: os.cpus().length, text: `load average ${one.toFixed(2)} ${five.toFixed(2)} ${fifteen.toFixed(2)} on ${os.cpus().length} CPUs` };
}

/** The response, if its status is one of `allowed`; otherwise an error naming the request and the answer. */
function expectStatus(res, allowed, what) {
  if (!allowed.includes(res.status)) throw new Error(`${what} answered ${res.status}, not ${allowed.join(' or ')}: ${res.text.slice(0, 300)}`);
  return res;
}

/** name=value pairs of a response's Set-Cookie headers. */
function cookiesOf(res) {
  return Object.fromEntries([].concat(res.headers['set-cookie'] || []).map((c) => c.split(';')[0].split(/=(.*)/s).slice(0, 2)));
}

/**
 * Signs in through the sign-in form as a browser does (the form's CSRF token and cookie from GET /sign-in, then
 * the POST) and returns the session's cookie header.
 */
async function signInAsBrowser(baseUrl, email, password, next) {
  const page = await request(`${baseUrl}/sign-in`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text);
  const csrfCookie = Object.entries(cookiesOf(page)).find(([name]) => name.endsWith('academy_csrf'));
  if (page.status !== 200 || !csrf || !csrfCookie) throw new Error(`GET /sign-in answered ${page.status} with no CSRF token or cookie`);
  const form = new URLSearchParams({ _csrf: csrf[1], email, password, next }).toString();
  const signedIn = await request(`${baseUrl}/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${csrfCookie[0]}=${csrfCookie[1]}` }, body: form });
  const session = Object.entries(cookiesOf(signedIn)).find(([name]) => name.endsWith('academy_session'));
  if (signedIn.status !== 303 || !session) throw new Error(`POST /sign-in answered ${signedIn.status} and set no session cookie: ${signedIn.text.slice(0, 300)}`);
  return `${session[0]}=${session[1]}`;
}

module.exports = {
  cookiesOf,
  expectStatus,
  signInAsBrowser,
  loadNow,
  mysqlReachable,
  request,
  startSmtpSink,
  startWorker,
  redisReachable,
  deleteRedisKeys,
  HOST,
  ROOT,
  freePort,
  fetchRaw,
  randomSecret,
  sleep,
  startAppServer,
  startBareServer,
  measure,
  printRow,
  formatTable,
  verdict,
  stopAll,
};

import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { parseStorageUrl, type S3Location } from '../storage/storage-url';

/**
 * Every environment variable the academy reads is declared here, once, with its default.
 * `loadConfig` validates them and returns one typed, frozen object; nothing else reads process.env.
 */

export const PROCESS_ROLES = ['web', 'worker', 'all'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

const bool = (name: string) =>
  z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: `${name} must be true or false` }).transform((v) => ['true', '1', 'yes'].includes(v));

const int = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `${name} must be a whole number between ${min} and ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: `${name} must be a whole number between ${min} and ${max}` });

const url = (name: string, protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol.replace(':', ''));
      } catch {
        return false;
      }
    },
    { error: `${name} must be a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}` },
  );

/** One address or CIDR block ("10.0.0.0/8", "2001:db8::/32"); null when it is neither. */
function addressOrCidr(entry: string): string | null {
  const [address, bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (!family || rest.length) return null;
  if (bits === undefined) return address;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128)) return null;
  return `${address}/${Number(bits)}`;
}

const addressList = (name: string) =>
  z.string().transform((value, ctx) => {
    const entries = value.split(',').map((e) => e.trim()).filter(Boolean);
    const bad = entries.find((e) => addressOrCidr(e) === null);
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `${name} must be IP addresses or CIDR blocks separated by commas, such as 10.0.0.0/8,192.0.2.7 ("${bad}" is neither)` });
      return z.NEVER;
    }
    return entries.map((e) => addressOrCidr(e)!);
  });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test'], { error: 'NODE_ENV must be development, production or test' }).default('development'),
  PROCESS_ROLE: z.enum(PROCESS_ROLES, { error: 'PROCESS_ROLE must be web, worker or all' }).default('all'),
  HOST: z.string().min(1, { error: 'HOST must not be empty' }).default('0.0.0.0'),
  PORT: int('PORT', 0, 65535).default(3000),
  PUBLIC_URL: url('PUBLIC_URL', ['http', 'https']).optional(),
  DATA_DIR: z.string().min(1, { error: 'DATA_DIR must not be empty' }).default('var'),
  DATABASE_URL: url('DATABASE_URL', ['mysql', 'mariadb']).optional(),
  REDIS_URL: url('REDIS_URL', ['redis', 'rediss']).optional(),
  REDIS_PREFIX: z.string().regex(/^[\w:.-]{1,40}$/, { error: 'REDIS_PREFIX must be 1-40 letters, digits or :._-' }).default('academy'),
  STORAGE_URL: z.string().transform((value, ctx) => {
    const parsed = parseStorageUrl(value);
    if ('problem' in parsed) {
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }
    return parsed;
  }).optional(),
  SMTP_URL: url('SMTP_URL', ['smtp', 'smtps']).optional(),
  MAIL_FROM: z.string().min(3, { error: 'MAIL_FROM must be an address such as "Peer Academy <no-reply@example.org>"' }).default('Peer Academy <no-reply@peer-academy.local>'),
  ACADEMY_NAME: z.string().min(1).max(80, { error: 'ACADEMY_NAME must be at most 80 characters' }).default('Peer Academy'),
  SESSION_SECRET: z.string().min(32, { error: 'SESSION_SECRET must be at least 32 characters' }).optional(),
  SESSION_TTL_HOURS: int('SESSION_TTL_HOURS', 1, 24 * 90).default(12),
  SESSION_MAX_HOURS: int('SESSION_MAX_HOURS', 1, 24 * 365).default(72),
  TRUSTED_PROXIES: addressList('TRUSTED_PROXIES').optional(),
  API_TOKEN_TTL_DAYS: int('API_TOKEN_TTL_DAYS', 1, 365).default(30),
  PASSWORD_RESET_TTL_MINUTES: int('PASSWORD_RESET_TTL_MINUTES', 5, 24 * 60).default(60),
  COOKIE_SECURE: bool('COOKIE_SECURE').optional(),
  AUTH_RATE_LIMIT_PER_IP: int('AUTH_RATE_LIMIT_PER_IP', 1, 100000).default(60),
  AUTH_RATE_LIMIT_PER_ACCOUNT: int('AUTH_RATE_LIMIT_PER_ACCOUNT', 1, 100000).default(10),
  AUTH_RATE_WINDOW_SECONDS: int('AUTH_RATE_WINDOW_SECONDS', 1, 86400).default(900),
  JOBS_CONCURRENCY: int('JOBS_CONCURRENCY', 1, 100).default(4),
  JOBS_RETRY_DELAY_MS: int('JOBS_RETRY_DELAY_MS', 50, 600_000).default(2000),
  SWEEP_INTERVAL_SECONDS: int('SWEEP_INTERVAL_SECONDS', 5, 86_400).default(300),
  MIGRATE_ON_BOOT: bool('MIGRATE_ON_BOOT').default(true),
  DEMO_DATA: bool('DEMO_DATA').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { error: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent' }).default('info'),
  SHUTDOWN_TIMEOUT_SECONDS: int('SHUTDOWN_TIMEOUT_SECONDS', 1, 600).default(25),
  SHUTDOWN_DRAIN_SECONDS: int('SHUTDOWN_DRAIN_SECONDS', 0, 120).default(5),
  UPLOAD_MAX_MB: int('UPLOAD_MAX_MB', 1, 10_000).default(500),
  VIDEO_COMPLETION_PERCENT: int('VIDEO_COMPLETION_PERCENT', 1, 100).default(90),
  VERIFY_RATE_LIMIT_PER_MINUTE: int('VERIFY_RATE_LIMIT_PER_MINUTE', 1, 100000).default(30),
  NUDGE_AFTER_DAYS: int('NUDGE_AFTER_DAYS', 1, 365).default(7),
  WEBINAR_REMINDER_MINUTES: z
    .string()
    .regex(/^\s*\d{1,5}(\s*,\s*\d{1,5}){0,4}\s*$/, { error: 'WEBINAR_REMINDER_MINUTES must be up to five whole numbers of minutes separated by commas, such as 1440,60' })
    .default('1440,60'),
  WEBINAR_RECORDING_CREDIT_PERCENT: int('WEBINAR_RECORDING_CREDIT_PERCENT', 1, 100).default(75),
  PEER_CONTACTS_PER_HOUR: int('PEER_CONTACTS_PER_HOUR', 1, 1000).default(5),
  PEER_CONTACTS_PER_DAY: int('PEER_CONTACTS_PER_DAY', 1, 10000).default(20),
});

export type Env = z.input<typeof envSchema>;

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  role: ProcessRole;
  host: string;
  port: number;
  publicUrl: string;
  academyName: string;
  dataDir: string;
  database: { kind: 'mysql'; url: string } | { kind: 'sqlite'; file: string };
  redis: { url: string; prefix: string } | null;
  /** The S3 bucket that files (videos, resources, recordings, certificates) live in; null: the local disk, DATA_DIR/files. */
  objectStorage: S3Location | null;
  mail: { smtpUrl: string | null; from: string; outboxDir: string };
  /** ttlHours: idle lifetime, renewed on use; maxHours: absolute lifetime from sign-in, beyond which renewal stops. */
  session: { secret: string; ttlHours: number; maxHours: number; cookieSecure: boolean };
  /** Proxies (addresses or CIDR blocks) whose X-Forwarded-For is believed; empty: the client is the TCP peer. */
  trustedProxies: string[];
  apiTokenTtlDays: number;
  passwordResetTtlMinutes: number;
  authRateLimit: { perIp: number; perAccount: number; windowSeconds: number };
  jobs: {
    concurrency: number;
    /** First retry delay of a failed job; each further retry waits twice as long. */
    retryDelayMs: number;
    /** The longest a sweep waits between runs (sweeps re-enqueue what the database shows undone). */
    sweepIntervalSeconds: number;
  };
  migrateOnBoot: boolean;
  demoData: boolean;
  logLevel: string;
  shutdownTimeoutSeconds: number;
  /** On SIGTERM, how long a web process answers /health/ready with 503 (still serving) before it stops taking requests. */
  shutdownDrainSeconds: number;
  uploads: { maxBytes: number };
  /** Share of a video's duration a learner must really have watched for the lesson to count as complete. */
  videoCompletionPercent: number;
  /** Certificate verification lookups allowed per IP address and minute. */
  verifyRateLimitPerMinute: number;
  /** Days without activity on a course before its learner is reminded (once per idle spell, at most once per this many days). */
  nudgeAfterDays: number;
  webinars: {
    /** Minutes before the start when registrants are reminded, largest first (24 hours and 1 hour by default). */
    reminderMinutes: number[];
    /** Share of a recording a learner must really watch for a certificate of attendance. */
    recordingCreditPercent: number;
  };
  /** New conversations one person may start through the peer contact relay, per hour and per day (replies are not counted). */
  peers: { contactsPerHour: number; contactsPerDay: number };
}

/** Thrown for a bad environment; its message is the one line printed before exit code 1. */
export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const known = Object.fromEntries(
    Object.keys(envSchema.shape)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const parsed = envSchema.safeParse(known);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0] ?? 'environment');
    const got = env[name] === undefined ? '' : ` (got "${env[name]}")`;
    const message = issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
    throw new ConfigError(`Invalid configuration: ${message}${got}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.DATA_DIR);
  if (e.NODE_ENV === 'production' && !e.SESSION_SECRET) {
    throw new ConfigError('Invalid configuration: SESSION_SECRET is required when NODE_ENV=production (at least 32 characters)');
  }
  if (e.PROCESS_ROLE !== 'all' && !e.REDIS_URL) {
    throw new ConfigError(`Invalid configuration: PROCESS_ROLE=${e.PROCESS_ROLE} needs REDIS_URL (without Redis, jobs run inside the one process: use PROCESS_ROLE=all)`);
  }
  const publicUrl = (e.PUBLIC_URL ?? `http://${['0.0.0.0', '::'].includes(e.HOST) ? 'localhost' : e.HOST}:${e.PORT}`).replace(/\/+$/, '');
  return Object.freeze({
    env: e.NODE_ENV,
    role: e.PROCESS_ROLE,
    host: e.HOST,
    port: e.PORT,
    publicUrl,
    academyName: e.ACADEMY_NAME,
    dataDir,
    database: e.DATABASE_URL ? { kind: 'mysql', url: e.DATABASE_URL } : { kind: 'sqlite', file: join(dataDir, 'academy.sqlite') },
    redis: e.REDIS_URL ? { url: e.REDIS_URL, prefix: e.REDIS_PREFIX } : null,
    objectStorage: e.STORAGE_URL ?? null,
    mail: { smtpUrl: e.SMTP_URL ?? null, from: e.MAIL_FROM, outboxDir: join(dataDir, 'outbox') },
    session: {
      secret: e.SESSION_SECRET ?? localSecret(dataDir),
      ttlHours: e.SESSION_TTL_HOURS,
      maxHours: e.SESSION_MAX_HOURS,
      cookieSecure: e.COOKIE_SECURE ?? publicUrl.startsWith('https://'),
    },
    trustedProxies: e.TRUSTED_PROXIES ?? [],
    apiTokenTtlDays: e.API_TOKEN_TTL_DAYS,
    passwordResetTtlMinutes: e.PASSWORD_RESET_TTL_MINUTES,
    authRateLimit: { perIp: e.AUTH_RATE_LIMIT_PER_IP, perAccount: e.AUTH_RATE_LIMIT_PER_ACCOUNT, windowSeconds: e.AUTH_RATE_WINDOW_SECONDS },
    jobs: { concurrency: e.JOBS_CONCURRENCY, retryDelayMs: e.JOBS_RETRY_DELAY_MS, sweepIntervalSeconds: e.SWEEP_INTERVAL_SECONDS },
    migrateOnBoot: e.MIGRATE_ON_BOOT,
    // Demo accounts (with printed passwords) only on the embedded default, never by default in production.
    demoData: e.DEMO_DATA ?? (!e.DATABASE_URL && e.NODE_ENV !== 'production'),
    logLevel: e.LOG_LEVEL,
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_SECONDS,
    shutdownDrainSeconds: e.SHUTDOWN_DRAIN_SECONDS,
    uploads: { maxBytes: e.UPLOAD_MAX_MB * 1024 * 1024 },
    videoCompletionPercent: e.VIDEO_COMPLETION_PERCENT,
    verifyRateLimitPerMinute: e.VERIFY_RATE_LIMIT_PER_MINUTE,
    nudgeAfterDays: e.NUDGE_AFTER_DAYS,
    webinars: {
      reminderMinutes: [...new Set(e.WEBINAR_REMINDER_MINUTES.split(',').map((m) => Number(m.trim())).filter((m) => m > 0))].sort((a, b) => b - a),
      recordingCreditPercent: e.WEBINAR_RECORDING_CREDIT_PERCENT,
    },
    peers: { contactsPerHour: e.PEER_CONTACTS_PER_HOUR, contactsPerDay: e.PEER_CONTACTS_PER_DAY },
  } satisfies AppConfig);
}

/**
 * Outside production a missing SESSION_SECRET is generated once and kept in DATA_DIR,
 * so a newcomer needs no configuration and sessions survive a restart.
 */
function localSecret(dataDir: string): string {
  const file = join(dataDir, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** The documented variables, for the README table and the config test that keeps them in step. */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape);

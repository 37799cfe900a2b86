import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from './config';

const base = { DATA_DIR: '/tmp/academy-config-spec' };

describe('configuration', () => {
  it('runs with no configuration at all on the embedded defaults', () => {
    const config = loadConfig(base);
    expect(config.role).toBe('all');
    expect(config.port).toBe(3000);
    expect(config.database).toEqual({ kind: 'sqlite', file: '/tmp/academy-config-spec/academy.sqlite' });
    expect(config.redis).toBeNull();
    expect(config.mail.smtpUrl).toBeNull();
    expect(config.demoData).toBe(true);
    expect(config.session.secret.length).toBeGreaterThanOrEqual(32);
    expect(loadConfig(base).session.secret).toBe(config.session.secret);
  });

  it('uses MySQL and Redis when their URLs are given, and then seeds no demo data', () => {
    const config = loadConfig({ ...base, DATABASE_URL: 'mysql://u:p@db:3306/academy', REDIS_URL: 'redis://cache:6379' });
    expect(config.database).toEqual({ kind: 'mysql', url: 'mysql://u:p@db:3306/academy' });
    expect(config.redis).toEqual({ url: 'redis://cache:6379', prefix: 'academy' });
    expect(config.demoData).toBe(false);
  });

  it.each([
    [{ PORT: 'abc' }, /^Invalid configuration: PORT must be a whole number between 0 and 65535 \(got "abc"\)$/],
    [{ PORT: '70000' }, /PORT must be a whole number/],
    [{ PROCESS_ROLE: 'cron' }, /PROCESS_ROLE must be web, worker or all \(got "cron"\)/],
    [{ DATABASE_URL: 'postgres://x' }, /DATABASE_URL must be a URL starting with mysql:\/\/ or mariadb:\/\//],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL must be a URL starting with redis:\/\//],
    [{ SMTP_URL: 'mail.example.org' }, /SMTP_URL must be a URL/],
    [{ SESSION_SECRET: 'short' }, /SESSION_SECRET must be at least 32 characters/],
    [{ NODE_ENV: 'production' }, /SESSION_SECRET is required when NODE_ENV=production/],
    [{ PROCESS_ROLE: 'worker' }, /PROCESS_ROLE=worker needs REDIS_URL/],
    [{ MIGRATE_ON_BOOT: 'maybe' }, /MIGRATE_ON_BOOT must be true or false/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ TRUSTED_PROXIES: '10.0.0.0/33' }, /^Invalid configuration: TRUSTED_PROXIES must be IP addresses or CIDR blocks separated by commas, such as 10\.0\.0\.0\/8,192\.0\.2\.7 \("10\.0\.0\.0\/33" is neither\)/],
    [{ TRUSTED_PROXIES: '127.0.0.1, proxy.internal' }, /TRUSTED_PROXIES must be IP addresses or CIDR blocks .*"proxy\.internal" is neither/],
    [{ TRUSTED_PROXIES: '10.0.0.0/8/1' }, /TRUSTED_PROXIES must be/],
    [{ TRUSTED_PROXIES: '2001:db8::/129' }, /TRUSTED_PROXIES must be/],
    [{ SESSION_MAX_HOURS: '0' }, /SESSION_MAX_HOURS must be a whole number between 1 and 8760/],
    [{ STORAGE_URL: 'minio:9000/academy' }, /^Invalid configuration: STORAGE_URL must start with s3:\/\/ .*\(got "minio:9000\/academy"\)$/],
    [{ STORAGE_URL: 's3://academy?endpoint=minio:9000' }, /STORAGE_URL's endpoint must be an http:\/\/ or https:\/\/ address/],
  ])('refuses %j with one clear line', (env, message) => {
    let error: unknown;
    try {
      loadConfig({ ...base, ...env });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('keeps files on the local disk unless STORAGE_URL names a bucket', () => {
    expect(loadConfig(base).objectStorage).toBeNull();
    expect(loadConfig({ ...base, STORAGE_URL: 's3://academy-files?endpoint=http://minio:9000&region=eu-west-2' }).objectStorage).toEqual({ bucket: 'academy-files', endpoint: 'http://minio:9000', region: 'eu-west-2', forcePathStyle: true });
  });

  it('trusts no proxy by default, and takes addresses and CIDR blocks of both families', () => {
    expect(loadConfig(base).trustedProxies).toEqual([]);
    expect(loadConfig({ ...base, TRUSTED_PROXIES: ' 10.0.0.0/8 ,192.0.2.7,::1, 2001:db8::/32,' }).trustedProxies).toEqual(['10.0.0.0/8', '192.0.2.7', '::1', '2001:db8::/32']);
  });

  it('gives sessions an absolute lifetime of 72 hours by default', () => {
    expect(loadConfig(base).session.maxHours).toBe(72);
    expect(loadConfig({ ...base, SESSION_MAX_HOURS: '24' }).session.maxHours).toBe(24);
  });

  it('documents every variable in the README configuration table', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    for (const name of CONFIG_VARIABLES) expect(readme).toContain(`| \`${name}\``);
  });
});

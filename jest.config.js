/**
 * `npm test`: unit specs beside the code (src/…/NAME.spec.ts) and e2e specs (test/e2e/NAME.e2e-spec.ts).
 * Every spec that touches data runs on whichever engines the environment names: embedded SQLite and
 * in-process jobs by default, MySQL/MariaDB and BullMQ on Redis when DATABASE_URL and REDIS_URL are set.
 */
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022' }, module: { type: 'commonjs' } }];

function esmPackages() {
  const { readdirSync, readFileSync, existsSync } = require('node:fs');
  const { join } = require('node:path');
  const root = join(__dirname, 'node_modules');
  const names = new Set();
  const visit = (dir, prefix = '') => {
    for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
      if (entry.startsWith('.')) continue;
      if (entry.startsWith('@') && !prefix) {
        visit(join(dir, entry), `${entry}/`);
        continue;
      }
      try {
        const pkg = JSON.parse(readFileSync(join(dir, entry, 'package.json'), 'utf8'));
        if (pkg.type === 'module') names.add(`${prefix}${entry}`.replace(/[.+]/g, '\\$&'));
      } catch {
        // not a package
      }
    }
  };
  visit(root);
  return [...names];
}

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': swc },
  // Nest 12 and a few of its dependencies ship ES modules only. Node 20 loads them with require(esm);
  // Jest (before Node 24.9) cannot, so swc compiles exactly those packages to CommonJS.
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages().join('|')})/)`],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/e2e/**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/test/browser/'],
  testTimeout: 60000,
  maxWorkers: 2,
  reporters: process.env.CI ? ['default', 'summary'] : ['default'],
};

/**
 * `npm run test:browser`: journeys in a real (headless) Chromium against the built server.
 * Specs are test/browser/NAME.browser.ts. Each file starts `node dist/src/main.js` on a free port with its own
 * data folder (and, when DATABASE_URL/REDIS_URL are set, its own MySQL database and Redis key prefix).
 * The global setup rebuilds dist/ only when it is missing or older than src/ or migrations/.
 * Chromium: CHROMIUM_PATH, default /usr/bin/chromium.
 */
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022' } }];

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)sx?$': swc },
  testMatch: ['<rootDir>/test/browser/**/*.browser.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  globalSetup: '<rootDir>/test/browser/support/global-setup.ts',
  testTimeout: 120000,
  maxWorkers: 1,
  reporters: process.env.CI ? ['default', 'summary'] : ['default'],
};

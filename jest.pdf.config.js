/**
 * `npm run test:pdf`: the specs that read certificate PDFs back with Poppler (Debian's poppler-utils: pdftotext,
 * pdftoppm, pdffonts) — the text round trip, the fonts and a rendered-page check for each script. Kept out of
 * `npm test`, which needs Node.js alone, as the browser journeys are; without Poppler they fail and say how to
 * install it. Same engines as `npm test`: embedded by default, MySQL/MariaDB and Redis when the environment names them.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: ['<rootDir>/src/**/*.pdf-spec.ts', '<rootDir>/test/e2e/**/*.pdf-spec.ts'],
};

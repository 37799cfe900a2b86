// Lint: typescript-eslint's recommended rules over the TypeScript sources and tests. `npm run lint` also type-checks.
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'var/', 'bench/results/', 'test/browser/screenshots/'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Every transaction goes through UnitOfWork.run: the one place that retries deadlock victims and marks the
    // transaction's async flow (database/transaction-scope.ts, database/sqlite-gate.ts). And "now" comes from
    // the Clock (common/clock.ts), so every expiry can be tested by moving time.
    files: ['src/**/*.ts'],
    ignores: ['src/database/**', 'src/**/*.spec.ts', 'src/common/clock.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='transaction']", message: 'Run transactions through UnitOfWork.run (src/database/unit-of-work.ts).' },
        { selector: "CallExpression[callee.property.name='startTransaction']", message: 'Run transactions through UnitOfWork.run (src/database/unit-of-work.ts).' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Ask the Clock for the time (src/common/clock.ts), so tests can move it.' },
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Ask the Clock for the time (src/common/clock.ts), so tests can move it.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

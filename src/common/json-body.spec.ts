import { jsonNestedDeeperThan } from './json-body';

describe('jsonNestedDeeperThan', () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

  it('counts arrays and objects inside each other', () => {
    expect(jsonNestedDeeperThan(nested(32), 32)).toBe(false);
    expect(jsonNestedDeeperThan(nested(33), 32)).toBe(true);
    expect(jsonNestedDeeperThan('{"a":{"b":[{"c":[1]}]}}', 4)).toBe(true);
    expect(jsonNestedDeeperThan('{"a":{"b":[{"c":[1]}]}}', 5)).toBe(false);
  });

  it('counts depth, not the number of containers', () => {
    expect(jsonNestedDeeperThan(`[${Array(10_000).fill('[1]').join(',')}]`, 2)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes and backslashes included', () => {
    expect(jsonNestedDeeperThan(JSON.stringify({ text: '['.repeat(100) }), 1)).toBe(false);
    expect(jsonNestedDeeperThan(JSON.stringify({ text: `"${'{'.repeat(100)}` }), 1)).toBe(false);
    expect(jsonNestedDeeperThan(JSON.stringify({ text: `\\`, more: `\\"[[[[` }), 1)).toBe(false);
    expect(jsonNestedDeeperThan(`["\\\\", ${nested(3)}]`, 3)).toBe(true);
    expect(jsonNestedDeeperThan(`["\\"", ${nested(3)}]`, 3)).toBe(true);
  });

  // Its speed is not asserted here (timings belong in npm run bench): what matters is that it answers without recursing,
  // where a parser would overflow its stack on 450,000 levels.
  it('answers for 900 KB of nested arrays, and for 900 KB of string, without recursing', () => {
    expect(jsonNestedDeeperThan(nested(450_000), 32)).toBe(true);
    expect(jsonNestedDeeperThan(JSON.stringify({ text: 'x'.repeat(900_000) }), 32)).toBe(false);
  });
});

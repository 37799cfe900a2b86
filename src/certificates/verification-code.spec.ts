import { CODE_ALPHABET, CODE_BITS, newVerificationCode, normaliseCode } from './verification-code';

describe('verification codes', () => {
  it('have at least 40 random bits and none of 0, O, 1 or I', () => {
    expect(CODE_BITS).toBeGreaterThanOrEqual(40);
    const codes = new Set(Array.from({ length: 2000 }, () => newVerificationCode()));
    expect(codes.size).toBe(2000);
    for (const code of codes) {
      expect(code).toMatch(/^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
      expect(code).not.toMatch(/[01OI]/);
    }
    expect(CODE_ALPHABET).toHaveLength(32);
  });

  it('accept the ways people type them, and refuse what cannot be a code', () => {
    expect(normaliseCode('7kqm r4xd 9twc')).toBe('7KQM-R4XD-9TWC');
    expect(normaliseCode('7KQMR4XD9TWC')).toBe('7KQM-R4XD-9TWC');
    expect(normaliseCode('7KQM-R4XD-9TW')).toBeNull();
    expect(normaliseCode('7KQM-R4XD-9TW1')).toBeNull();
    expect(normaliseCode("' OR 1=1 --")).toBeNull();
  });
});

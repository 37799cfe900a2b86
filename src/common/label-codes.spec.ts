import { isCodeOf } from './label-codes';

describe('isCodeOf', () => {
  const isColour = isCodeOf({ red: 'Red', dark_blue: 'Dark blue' } as const);

  it('is true for the codes of the labels only, not for their labels, inherited keys or other types', () => {
    expect(['red', 'dark_blue'].map(isColour)).toEqual([true, true]);
    expect(['Red', 'toString', '__proto__', 'constructor', '', 'RED'].map(isColour)).toEqual([false, false, false, false, false, false]);
    expect([null, undefined, 1, ['red'], { red: 1 }].map(isColour)).toEqual([false, false, false, false, false]);
  });
});

import { londonDate, londonDateTime, londonFields, londonTime, londonToUtc } from './london-time';

describe('London times, GOV.UK style', () => {
  it.each([
    // Summer (BST, UTC+1)
    ['2026-06-10T11:30:00Z', '12:30pm'],
    ['2026-06-10T11:00:00Z', 'midday'],
    ['2026-06-10T23:00:00Z', 'midnight'],
    ['2026-06-10T23:05:00Z', '12:05am'],
    ['2026-06-10T08:00:00Z', '9am'],
    ['2026-06-10T08:05:00Z', '9:05am'],
    ['2026-06-10T12:00:00Z', '1pm'],
    ['2026-06-10T14:45:00Z', '3:45pm'],
    ['2026-06-10T10:59:00Z', '11:59am'],
    ['2026-06-10T22:59:00Z', '11:59pm'],
    // Winter (GMT)
    ['2026-01-10T12:00:00Z', 'midday'],
    ['2026-01-10T12:30:00Z', '12:30pm'],
    ['2026-01-10T00:00:00Z', 'midnight'],
    ['2026-01-10T00:30:00Z', '12:30am'],
    ['2026-01-10T09:00:00Z', '9am'],
  ])('%s is %s in London', (instant, expected) => {
    expect(londonTime(new Date(instant))).toBe(expected);
  });

  it('never writes "0:30 pm", a space before am/pm or ":00"', () => {
    for (let minutes = 0; minutes < 24 * 60; minutes += 5) {
      const text = londonTime(new Date(Date.UTC(2026, 0, 10, 0, minutes)));
      expect(text).toMatch(/^(midday|midnight|(1[0-2]|[1-9])(:[0-5]\d)?[ap]m)$/);
      expect(text).not.toMatch(/^0|:00|\s/);
    }
  });

  it('writes the date and time together, on the London day', () => {
    expect(londonDateTime(new Date('2026-06-10T11:30:00Z'))).toBe('10 June 2026 at 12:30pm');
    expect(londonDateTime(new Date('2026-11-24T15:05:00Z'))).toBe('24 November 2026 at 3:05pm');
    expect(londonDateTime(new Date('2026-06-10T08:00:00Z'))).toBe('10 June 2026 at 9am');
    // 11pm UTC in summer is already the next day in London.
    expect(londonDateTime(new Date('2026-06-10T23:00:00Z'))).toBe('11 June 2026 at midnight');
    expect(londonDate(new Date('2026-06-10T23:00:00Z'))).toBe('11 June 2026');
  });

  it('reads form fields as London wall-clock time across the clock changes', () => {
    expect(londonToUtc('2026-06-10', '12:30').toISOString()).toBe('2026-06-10T11:30:00.000Z');
    expect(londonToUtc('2026-01-10', '12:30').toISOString()).toBe('2026-01-10T12:30:00.000Z');
    expect(londonFields(new Date('2026-06-10T11:30:00Z'))).toEqual({ date: '2026-06-10', time: '12:30' });
    expect(londonTime(londonToUtc('2026-03-29', '12:30'))).toBe('12:30pm');
  });
});

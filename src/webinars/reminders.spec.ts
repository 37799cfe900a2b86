import { dueOffset, reminderWording } from './webinars.service';

describe('webinar reminders', () => {
  const offsets = [1440, 60];

  it('is due at each offset until the next one, and not once half of it has gone by', () => {
    expect(dueOffset(2000, offsets)).toBeNull();
    expect(dueOffset(1440, offsets)).toBe(1440);
    expect(dueOffset(1000, offsets)).toBe(1440);
    expect(dueOffset(700, offsets)).toBeNull(); // published or moved late: no "tomorrow" reminder 11 hours before
    expect(dueOffset(120, offsets)).toBeNull();
    expect(dueOffset(60, offsets)).toBe(60);
    expect(dueOffset(30, offsets)).toBe(60);
    expect(dueOffset(29, offsets)).toBeNull();
    expect(dueOffset(0, offsets)).toBeNull();
    expect(dueOffset(-5, offsets)).toBeNull();
  });

  it('words the reminder by the time actually left', () => {
    expect(reminderWording(1439)).toBe('tomorrow');
    expect(reminderWording(3 * 1440)).toBe('in 3 days');
    expect(reminderWording(180)).toBe('in 3 hours');
    expect(reminderWording(59)).toBe('in 1 hour');
    expect(reminderWording(20)).toBe('in 20 minutes');
  });
});

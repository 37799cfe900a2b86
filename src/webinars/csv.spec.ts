import { registrationReport, registrationsCsv } from './csv';

const webinar = { startsAt: new Date('2026-06-10T13:00:00Z'), durationMinutes: 60, recordingKey: 'webinars/1/r.mp4', recordingSeconds: 100 };
const at = (iso: string) => new Date(iso);

describe('registrationReport', () => {
  const registrations = [
    { id: 4, userId: 14, status: 'waitlisted' as const, queuedAt: at('2026-06-01T10:05:00Z') },
    { id: 1, userId: 11, status: 'registered' as const, queuedAt: at('2026-06-01T09:00:00Z') },
    { id: 5, userId: 15, status: 'cancelled' as const, queuedAt: at('2026-06-01T08:00:00Z') },
    { id: 3, userId: 13, status: 'waitlisted' as const, queuedAt: at('2026-06-01T10:00:00Z') },
  ];
  const contacts = new Map([
    [11, { name: 'Ada', email: 'ada@example.org' }],
    [13, { name: 'Cy', email: 'cy@example.org' }],
    [14, { name: 'Di', email: 'di@example.org' }],
  ]);
  const attendance = new Map([[11, { firstJoinedAt: at('2026-06-10T13:20:00Z'), watchedIntervals: '[[0,50]]', creditedAt: at('2026-06-10T14:00:00Z') }]]);

  it('lists registered learners, then the waitlist in order with places, then cancellations', () => {
    const rows = registrationReport(webinar, registrations, contacts, attendance);
    expect(rows.map((r) => [r.userId, r.status, r.waitlistPosition])).toEqual([
      [11, 'registered', null],
      [13, 'waitlisted', 1],
      [14, 'waitlisted', 2],
      [15, 'cancelled', null],
    ]);
    expect(rows[0]).toMatchObject({ name: 'Ada', email: 'ada@example.org', liveMinutes: 40, recordingWatchedPercent: 50, creditedAt: at('2026-06-10T14:00:00Z') });
    expect(rows[1]).toMatchObject({ joinedLiveAt: null, liveMinutes: 0, recordingWatchedPercent: 0, creditedAt: null });
    // A learner whose account is gone keeps their row, without a name.
    expect(rows[3]).toMatchObject({ name: '', email: '' });
  });

  it('has no watched share when there is no uploaded recording', () => {
    const [row] = registrationReport({ ...webinar, recordingKey: null, recordingSeconds: null }, registrations.slice(1, 2), contacts, attendance);
    expect(row.recordingWatchedPercent).toBeNull();
  });
});

describe('registrationsCsv', () => {
  it('writes the header and one row per registration, times in UTC, formulas defused', () => {
    const csv = registrationsCsv([
      {
        userId: 1,
        name: '=HYPERLINK("x")',
        email: 'a@example.org',
        status: 'registered',
        registeredAt: at('2026-06-01T09:00:00Z'),
        waitlistPosition: null,
        joinedLiveAt: at('2026-06-10T13:20:00Z'),
        liveMinutes: 40,
        recordingWatchedPercent: null,
        creditedAt: null,
      },
      { userId: 2, name: 'Smith, Jo', email: 'jo@example.org', status: 'waitlisted', registeredAt: at('2026-06-01T10:00:00Z'), waitlistPosition: 1, joinedLiveAt: null, liveMinutes: 0, recordingWatchedPercent: 0, creditedAt: null },
    ]);
    expect(csv.split('\r\n')).toEqual([
      '\uFEFFname,email,status,registered_at,waitlist_position,joined_live_at,live_minutes,recording_watched_percent,credited_at',
      `"'=HYPERLINK(""x"")",a@example.org,registered,2026-06-01T09:00:00.000Z,,2026-06-10T13:20:00.000Z,40,,`,
      '"Smith, Jo",jo@example.org,waitlisted,2026-06-01T10:00:00.000Z,1,,0,0,',
      '',
    ]);
  });
});

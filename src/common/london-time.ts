/** Dates as people in the UK read them: always in Europe/London, whatever the server's time zone. */
const zone = { timeZone: 'Europe/London' } as const;
const DATE = new Intl.DateTimeFormat('en-GB', { ...zone, day: 'numeric', month: 'long', year: 'numeric' });
const DATE_TIME = new Intl.DateTimeFormat('en-GB', { ...zone, day: 'numeric', month: 'long', year: 'numeric', hour: 'numeric', minute: '2-digit', hour12: true });
const ISO_DATE = new Intl.DateTimeFormat('en-CA', { ...zone, year: 'numeric', month: '2-digit', day: '2-digit' });
const YEAR = new Intl.DateTimeFormat('en-GB', { ...zone, year: 'numeric' });

/** "24 November 2026" */
export const londonDate = (moment: Date) => DATE.format(moment);
/** "24 November 2026 at 3:05 pm" */
export const londonDateTime = (moment: Date) => DATE_TIME.format(moment);
/** "2026-11-24": the calendar day in London, for files and machines. */
export const londonIsoDate = (moment: Date) => ISO_DATE.format(moment);
/** "2026" */
export const londonYear = (moment: Date) => YEAR.format(moment);

const PARTS = new Intl.DateTimeFormat('en-GB', { ...zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** "2026-06-10" and "14:00" read as London wall-clock time → the UTC instant (BST or GMT as on that day). */
export function londonToUtc(isoDate: string, time: string): Date {
  const [y, mo, d] = isoDate.split('-').map(Number);
  const [h, mi] = time.split(':').map(Number);
  const wanted = Date.UTC(y, mo - 1, d, h, mi);
  let guess = wanted;
  // Twice: the offset at the first guess can differ from the offset at the answer near a clock change.
  for (let i = 0; i < 2; i++) guess = wanted - (londonWallClock(new Date(guess)) - guess);
  return new Date(guess);
}

/** The London wall-clock fields of a moment: { date: "2026-06-10", time: "14:00" }, for forms. */
export function londonFields(moment: Date): { date: string; time: string } {
  const p = Object.fromEntries(PARTS.formatToParts(moment).map((part) => [part.type, part.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}

/** A moment's London wall-clock time, as if it were UTC (ms). */
function londonWallClock(moment: Date): number {
  const { date, time } = londonFields(moment);
  const [y, mo, d] = date.split('-').map(Number);
  const [h, mi] = time.split(':').map(Number);
  return Date.UTC(y, mo - 1, d, h, mi, moment.getUTCSeconds(), moment.getUTCMilliseconds());
}

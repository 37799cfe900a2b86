/** Dates as people in the UK read them: always in Europe/London, whatever the server's time zone. */
const zone = { timeZone: 'Europe/London' } as const;
const DATE = new Intl.DateTimeFormat('en-GB', { ...zone, day: 'numeric', month: 'long', year: 'numeric' });
const ISO_DATE = new Intl.DateTimeFormat('en-CA', { ...zone, year: 'numeric', month: '2-digit', day: '2-digit' });
const YEAR = new Intl.DateTimeFormat('en-GB', { ...zone, year: 'numeric' });

/** "24 November 2026" */
export const londonDate = (moment: Date) => DATE.format(moment);
/**
 * The London time of day in GOV.UK style: "9am", "3:05pm", "12:30pm", "12:05am", "midday", "midnight".
 * (Intl's en-GB 12-hour clock says "0:30 pm" for half past twelve, so the hours and minutes are read in 24-hour
 * form and written here.)
 */
export function londonTime(moment: Date): string {
  const [hours, minutes] = londonFields(moment).time.split(':').map(Number);
  if (minutes === 0 && hours === 12) return 'midday';
  if (minutes === 0 && hours === 0) return 'midnight';
  const hour = hours % 12 === 0 ? 12 : hours % 12;
  return `${hour}${minutes ? `:${String(minutes).padStart(2, '0')}` : ''}${hours < 12 ? 'am' : 'pm'}`;
}

/** "24 November 2026 at 3:05pm", "at 9am", "at midday": the London day and time (see londonTime). */
export function londonDateTime(moment: Date): string {
  // Pages list many posts, each with its times, on every visit: formatted once per minute of time.
  const minute = Math.floor(moment.getTime() / 60_000);
  let text = dateTimes.get(minute);
  if (text === undefined) {
    text = `${londonDate(moment)} at ${londonTime(moment)}`;
    if (dateTimes.size >= 20_000) dateTimes.clear();
    dateTimes.set(minute, text);
  }
  return text;
}
const dateTimes = new Map<number, string>();
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

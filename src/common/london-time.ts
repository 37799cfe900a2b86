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

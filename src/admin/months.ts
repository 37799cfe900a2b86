import { londonFields, londonToUtc } from '../common/london-time';

export const FIGURE_MONTHS = 12;

export interface Month {
  /** "2026-03" */
  key: string;
  /** "Mar 2026" */
  label: string;
  start: Date;
  end: Date;
}

const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The last `count` calendar months in London, the current one last. */
export function lastMonths(now: Date, count = FIGURE_MONTHS): Month[] {
  const [year, month] = londonFields(now).date.split('-').map(Number);
  const startOf = (offset: number) => {
    const index = year * 12 + (month - 1) + offset;
    const y = Math.floor(index / 12);
    const m = (index % 12) + 1;
    return { y, m, at: londonToUtc(`${y}-${String(m).padStart(2, '0')}-01`, '00:00') };
  };
  return Array.from({ length: count }, (_, i) => {
    const from = startOf(i - count + 1);
    const to = startOf(i - count + 2);
    return { key: `${from.y}-${String(from.m).padStart(2, '0')}`, label: `${MONTH_NAMES[from.m - 1]} ${from.y}`, start: from.at, end: to.at };
  });
}

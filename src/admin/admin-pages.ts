import { ParseIntPipe } from '@nestjs/common';
import { NotFound } from '../common/errors';

/** A numeric id from the URL; anything else is the 404 an unknown id gets. */
export const idOf = (what: string) => new ParseIntPipe({ exceptionFactory: () => new NotFound(`There is no ${what} at this address`) });

/** A page number from the query: a positive whole number, else the first page. */
export function pageNumber(value: unknown): number {
  const n = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : 1;
  return Math.max(1, n);
}

/** A positive whole number from a query or a form, or null. */
export function positiveId(value: unknown): number | null {
  return typeof value === 'string' && /^\d{1,10}$/.test(value.trim()) && Number(value) > 0 ? Number(value) : null;
}

/** The text of a form field or query parameter ('' when absent or not text). */
export const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** Previous and next links that keep the filters. */
export function pagingLinks(path: string, filters: Record<string, string | number | undefined>, page: number, hasNext: boolean, noun: string) {
  const href = (p: number) => {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(filters)) if (value !== undefined && value !== '') query.set(key, String(value));
    if (p > 1) query.set('page', String(p));
    const qs = query.toString();
    return `${path}${qs ? `?${qs}` : ''}`;
  };
  return {
    previous: page > 1 ? { href: href(page - 1), title: `Page ${page - 1} of ${noun}` } : undefined,
    next: hasNext ? { href: href(page + 1), title: `Page ${page + 1} of ${noun}` } : undefined,
  };
}

/** Options for an NHS select, the current value selected. */
export function options(labels: Record<string, string>, selected: string | null | undefined) {
  return Object.entries(labels).map(([value, label]) => ({ value, text: label, selected: value === selected }));
}

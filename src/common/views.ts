import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import Handlebars from 'handlebars';
import { VIEWS_DIR } from './paths';

const LONDON_DATE = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'long', year: 'numeric' });
const LONDON_DATE_TIME = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'long', year: 'numeric', hour: 'numeric', minute: '2-digit', hour12: true });

/** The Handlebars instance for pages, with the few helpers the templates use. */
export function createHandlebars(): typeof Handlebars {
  const hbs = Handlebars.create();
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hbs.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  hbs.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  hbs.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).join(''));
  hbs.registerHelper('not', (a: unknown) => !a);
  hbs.registerHelper('lookupError', (errors: Record<string, string> | undefined, field: string) => errors?.[field]);
  hbs.registerHelper('date', (value: Date | string | null | undefined) => (value ? LONDON_DATE.format(new Date(value)) : ''));
  hbs.registerHelper('dateTime', (value: Date | string | null | undefined) => (value ? LONDON_DATE_TIME.format(new Date(value)) : ''));
  hbs.registerHelper('isoDate', (value: Date | string | null | undefined) => (value ? new Date(value).toISOString() : ''));
  return hbs;
}

/** Every file under views/partials/, by name without extension ("form/input" for partials/form/input.hbs). */
export function partialsMap(): Record<string, string> {
  const dir = join(VIEWS_DIR, 'partials');
  const result: Record<string, string> = {};
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.hbs')) result[relative(dir, path).replace(/\.hbs$/, '')] = relative(VIEWS_DIR, path);
    }
  };
  walk(dir);
  return result;
}

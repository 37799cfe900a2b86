import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { FastifyInstance } from 'fastify';
import Handlebars from 'handlebars';
import { londonDate, londonDateTime } from './london-time';
import { VIEWS_DIR } from './paths';

declare module 'fastify' {
  interface FastifyReply {
    /** Values every page gets (user, navigation, CSRF token), set per request before the route runs. */
    locals: Record<string, unknown> | null;
    /** Renders views/NAME.hbs inside views/layouts/main.hbs and sends it as HTML. */
    view(name: string, data?: Record<string, unknown>): FastifyReply;
    /** The page `view` would send, as a string (for pages cached whole). */
    renderView(name: string, data?: Record<string, unknown>): string;
  }
}


/** The Handlebars instance for pages, with the few helpers the templates use. */
export function createHandlebars(): typeof Handlebars {
  const hbs = Handlebars.create();
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hbs.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  hbs.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  hbs.registerHelper('concat', (...args: unknown[]) => args.slice(0, -1).join(''));
  hbs.registerHelper('not', (a: unknown) => !a);
  hbs.registerHelper('hours', (n: number) => `${n} ${n === 1 ? 'hour' : 'hours'}`);
  hbs.registerHelper('date', (value: Date | string | null | undefined) => (value ? londonDate(new Date(value)) : ''));
  hbs.registerHelper('dateTime', (value: Date | string | null | undefined) => (value ? londonDateTime(new Date(value)) : ''));
  hbs.registerHelper('isoDate', (value: Date | string | null | undefined) => (value ? new Date(value).toISOString() : ''));
  return hbs;
}

function templateFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return templateFiles(path);
    return entry.name.endsWith('.hbs') ? [path] : [];
  });
}

/**
 * How page templates and partials are compiled. `preventIndent`: Handlebars would otherwise indent every line of
 * a partial's output by the whitespace before the `{{> partial}}` call, and that output includes the values it
 * renders: a textarea's text gained that indentation on each line after the first, so every save of a form
 * changed what its author wrote (a Markdown list became a code block). With it, the whitespace before the call
 * is written once, as it stands, and a partial's output is left alone.
 */
export const PAGE_COMPILE_OPTIONS: CompileOptions = { strict: false, preventIndent: true };

/**
 * Page templates: every views/**.hbs compiled once (partials from views/partials/), rendered into the layout.
 * With `reload` (development) the files are read and compiled again on each render, so edits show at once.
 */
export class PageViews {
  private hbs = createHandlebars();
  private compiled = new Map<string, HandlebarsTemplateDelegate>();

  constructor(private readonly reload: boolean) {
    this.load();
  }

  render(name: string, data: Record<string, unknown>): string {
    if (this.reload) this.load();
    const page = this.compiled.get(name);
    const layout = this.compiled.get('layouts/main');
    if (!page || !layout) throw new Error(`No page template views/${name}.hbs`);
    return layout({ ...data, body: page(data) });
  }

  private load() {
    this.hbs = createHandlebars();
    this.compiled.clear();
    for (const file of templateFiles(VIEWS_DIR)) {
      const name = relative(VIEWS_DIR, file).replace(/\.hbs$/, '');
      if (name.startsWith('mail/')) continue;
      const source = readFileSync(file, 'utf8');
      // Partials are compiled here too, so they get these options whichever page calls them first.
      if (name.startsWith('partials/')) this.hbs.registerPartial(name.slice('partials/'.length), this.hbs.compile(source, PAGE_COMPILE_OPTIONS));
      else this.compiled.set(name, this.hbs.compile(source, PAGE_COMPILE_OPTIONS));
    }
  }
}

/** Adds `reply.view(name, data)`, merging the request's locals and the site-wide values into the data. */
export function installPageViews(fastify: FastifyInstance, views: PageViews, siteWide: Record<string, unknown>): void {
  fastify.decorateReply('locals', null);
  fastify.decorateReply('renderView', function (this: import('fastify').FastifyReply, name: string, data: Record<string, unknown> = {}) {
    // Object.assign rather than three spreads: V8 adds the properties of a second and third spread one by one on a
    // slow path (tens of µs for a page's 50 values), Object.assign copies them in a few.
    return views.render(name, Object.assign({}, siteWide, this.locals, data));
  });
  fastify.decorateReply('view', function (this: import('fastify').FastifyReply, name: string, data: Record<string, unknown> = {}) {
    return this.type('text/html; charset=utf-8').send(this.renderView(name, data));
  });
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { VIEWS_DIR } from '../common/paths';

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

const MAIL_DIR = join(VIEWS_DIR, 'mail');

/**
 * E-mail templates: views/mail/NAME.html.hbs and NAME.text.hbs, each starting with a `{{!-- subject: … --}}`
 * line that may use the data. Compiled once at start; the HTML part is wrapped in views/mail/layout.html.hbs.
 */
export class MailTemplates {
  private readonly hbs = Handlebars.create();
  private readonly templates = new Map<string, { subject: HandlebarsTemplateDelegate; html: HandlebarsTemplateDelegate; text: HandlebarsTemplateDelegate }>();
  private readonly layout: HandlebarsTemplateDelegate;

  constructor(dir = MAIL_DIR) {
    this.layout = this.hbs.compile(readFileSync(join(dir, 'layout.html.hbs'), 'utf8'));
    for (const file of readdirSync(dir)) {
      const match = /^(.+)\.html\.hbs$/.exec(file);
      if (!match || match[1] === 'layout') continue;
      const name = match[1];
      const html = readFileSync(join(dir, file), 'utf8');
      const text = readFileSync(join(dir, `${name}.text.hbs`), 'utf8');
      const subject = /\{\{!--\s*subject:\s*(.+?)\s*--\}\}/.exec(html)?.[1];
      if (!subject) throw new Error(`views/mail/${file} has no {{!-- subject: … --}} line`);
      this.templates.set(name, { subject: this.hbs.compile(subject, { noEscape: true }), html: this.hbs.compile(html), text: this.hbs.compile(text, { noEscape: true }) });
    }
  }

  has(name: string): boolean {
    return this.templates.has(name);
  }

  render(name: string, data: Record<string, unknown>): RenderedMail {
    const template = this.templates.get(name);
    if (!template) throw new Error(`No e-mail template named "${name}"`);
    const subject = template.subject(data);
    return { subject, html: this.layout({ ...data, subject, body: template.html(data) }), text: template.text(data) };
  }
}

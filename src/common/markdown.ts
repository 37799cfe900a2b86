import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';

const markdown = new MarkdownIt({ html: false, linkify: true, typographer: true });

const ALLOWED = {
  allowedTags: ['h2', 'h3', 'h4', 'h5', 'p', 'ul', 'ol', 'li', 'strong', 'em', 'a', 'code', 'pre', 'blockquote', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'hr', 'br'],
  allowedAttributes: { a: ['href'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  // NHS.UK classes on the elements Markdown produces, so content looks like the rest of the site.
  transformTags: {
    table: sanitizeHtml.simpleTransform('table', { class: 'nhsuk-table' }),
    ul: sanitizeHtml.simpleTransform('ul', { class: 'nhsuk-list nhsuk-list--bullet' }),
    ol: sanitizeHtml.simpleTransform('ol', { class: 'nhsuk-list nhsuk-list--number' }),
  },
  allowedClasses: { table: ['nhsuk-table'], ul: ['nhsuk-list', 'nhsuk-list--bullet'], ol: ['nhsuk-list', 'nhsuk-list--number'] },
};

/**
 * Author-written Markdown to HTML that is safe to put in a page: raw HTML in the source is not rendered,
 * and the output is sanitised again (only the tags above, links to http(s) and mailto only).
 */
export function renderMarkdown(source: string, options: { demoteHeadings?: boolean } = {}): string {
  const html = sanitizeHtml(markdown.render(source), ALLOWED);
  // Inside a page that has its own h2 sections, the author's headings step down a level.
  return options.demoteHeadings ? html.replace(/<(\/?)h([234])>/g, (_, slash: string, level: string) => `<${slash}h${Number(level) + 1}>`) : html;
}

import { renderMarkdown } from '../../common/markdown';
import { slugify } from '../../common/slug';

/**
 * A person's @handle in discussions: the slug of their name and their id (`@ada-lovelace-12`). Only the id counts
 * when a post is read, so a handle written before a change of name still reaches the same person.
 */
export const handleOf = (person: { id: number; name: string }) => `${slugify(person.name, 60) || 'person'}-${person.id}`;

/** `@` then slug words joined by hyphens, ending in the id; not inside a word or an e-mail address (`a@b-1`). */
const HANDLE = /(^|[^\w@./-])@((?:[a-z0-9]+-)+)(\d{1,9})(?![\w-])/gi;

/** Elements whose text is not scanned for mentions: code is quoted as written, and links already point somewhere. */
const OPAQUE = new Set(['code', 'pre', 'a']);

/**
 * Calls `replace` on each run of text between tags of sanitised HTML that is not inside code, a code block or a link;
 * the tags themselves are left as they are.
 */
function mapText(html: string, replace: (text: string) => string): string {
  let depth = 0;
  return html.replace(/(<\/?([a-z0-9]+)[^>]*>)|([^<]+)/gi, (whole, tag: string | undefined, name: string | undefined, text: string | undefined) => {
    if (tag && name) {
      if (OPAQUE.has(name.toLowerCase()) && !tag.endsWith('/>')) depth += tag.startsWith('</') ? -1 : 1;
      return whole;
    }
    return depth > 0 || text === undefined ? whole : replace(text);
  });
}

/** The ids of the people a post's body names with @handles outside code, in order of first mention. */
export function mentionedIds(bodyHtmlWithoutMentions: string): number[] {
  const ids = new Set<number>();
  mapText(bodyHtmlWithoutMentions, (text) => {
    for (const match of text.matchAll(HANDLE)) ids.add(Number(match[3]));
    return text;
  });
  return [...ids];
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/**
 * A post's Markdown as the HTML it is stored with: rendered and sanitised (headings stepped down under the thread's
 * own), with each @handle of a person in `named` (those who can read the thread) as their name in bold. A handle of
 * anyone else, or of nobody, stays the plain text it was.
 */
export function renderPostHtml(markdownHtml: string, named: ReadonlyMap<number, string>): string {
  if (!named.size) return markdownHtml;
  return mapText(markdownHtml, (text) => text.replace(HANDLE, (whole, before: string, _slug: string, id: string) => {
    const name = named.get(Number(id));
    return name === undefined ? whole : `${before}<strong>@${escapeHtml(name)}</strong>`;
  }));
}

/** The Markdown of a post, rendered and sanitised, before mentions are resolved. */
export const renderPostMarkdown = (body: string) => renderMarkdown(body, { demoteHeadings: true });

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' };

/** The words of sanitised HTML, without tags or entities: for search, and for a quoted excerpt. */
export function plainText(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, name: string) => ENTITIES[name])
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)))
    .replace(/\s+/g, ' ')
    .trim();
}

/** The start of a post's text, cut at a word, for a quote. */
export function excerpt(html: string, max = 240): string {
  const text = plainText(html);
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/**
 * Reading a form out of a page and submitting it the way a browser does, without a browser: what an author
 * who changes nothing and presses the button sends back. It follows the HTML standard where it matters for
 * a round trip:
 *
 * - the input stream's CR and CRLF become LF before parsing;
 * - character references are decoded in attribute values and in a textarea's text (RCDATA); a named
 *   reference this helper does not know throws, rather than guessing what a browser would make of it;
 * - a single LF right after `<textarea>` is dropped;
 * - text-like inputs lose line breaks from their value (url and email inputs also lose leading and trailing
 *   whitespace); checkboxes and radios are sent only when checked (value "on" by default); a select sends its
 *   selected option, or its first; disabled controls, buttons and file inputs are not sent;
 * - every line break in a value is sent as CRLF, and the body is application/x-www-form-urlencoded.
 */

export type FormEntries = Array<[name: string, value: string]>;

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Decodes the character references in attribute values or RCDATA text. */
export function decodeHtml(text: string): string {
  return text.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return String.fromCodePoint(code);
    }
    if (!whole.endsWith(';')) throw new Error(`Character reference without a semicolon in the page: ${whole}`);
    const decoded = NAMED[ref];
    if (decoded === undefined) throw new Error(`Unknown character reference in the page: ${whole}`);
    return decoded;
  });
}

const ATTRIBUTE = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

function attributesOf(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of source.matchAll(ATTRIBUTE)) {
    const name = match[1].toLowerCase();
    if (!attributes.has(name)) attributes.set(name, decodeHtml(match[2] ?? match[3] ?? match[4] ?? ''));
  }
  return attributes;
}

const TAG = /<!--[\s\S]*?-->|<(\/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/g;

/** The entries a browser would submit for the form whose action is `action`, in tree order. */
export function formEntries(html: string, action: string): FormEntries {
  const source = html.replace(/\r\n?/g, '\n');
  const entries: FormEntries = [];
  let inForm = false;
  let found = false;
  let select: { name: string; disabled: boolean; options: Array<{ value: string; selected: boolean }> } | null = null;
  let option: { value: string | null; text: string; selected: boolean } | null = null;
  const closeOption = () => {
    if (option && select) select.options.push({ value: option.value ?? option.text.replace(/[ \t\n\f\r]+/g, ' ').trim(), selected: option.selected });
    option = null;
  };
  TAG.lastIndex = 0;
  let last = 0;
  for (let match = TAG.exec(source); match; match = TAG.exec(source)) {
    if (option) option.text += decodeHtml(source.slice(last, match.index));
    last = TAG.lastIndex;
    if (match[0].startsWith('<!--')) continue;
    const closing = match[1] === '/';
    const tag = match[2].toLowerCase();
    const attributes = attributesOf(match[3] ?? '');
    if (tag === 'form') {
      if (closing) {
        if (inForm) return entries;
        continue;
      }
      if (attributes.get('action') === action) {
        if (found) throw new Error(`Two forms post to ${action}`);
        inForm = found = true;
      }
      continue;
    }
    if (!inForm) continue;
    const name = attributes.get('name');
    const disabled = attributes.has('disabled');
    if (tag === 'textarea' && !closing) {
      const end = /<\/textarea[\s/>]/i.exec(source.slice(TAG.lastIndex));
      if (!end) throw new Error('A textarea is not closed');
      let value = decodeHtml(source.slice(TAG.lastIndex, TAG.lastIndex + end.index));
      if (value.startsWith('\n')) value = value.slice(1);
      TAG.lastIndex += end.index;
      last = TAG.lastIndex;
      if (name && !disabled) entries.push([name, value]);
    } else if (tag === 'input' && !closing) {
      const type = (attributes.get('type') ?? 'text').toLowerCase();
      if (!name || disabled || ['submit', 'button', 'reset', 'image', 'file'].includes(type)) continue;
      if (type === 'checkbox' || type === 'radio') {
        if (attributes.has('checked')) entries.push([name, attributes.get('value') ?? 'on']);
        continue;
      }
      let value = attributes.get('value') ?? '';
      if (type !== 'hidden') value = value.replace(/[\r\n]/g, '');
      if (type === 'url' || type === 'email') value = value.replace(/^[ \t\n\f\r]+|[ \t\n\f\r]+$/g, '');
      entries.push([name, value]);
    } else if (tag === 'select') {
      if (!closing) {
        select = { name: name ?? '', disabled, options: [] };
        continue;
      }
      closeOption();
      if (select && select.name && !select.disabled && select.options.length) {
        const chosen = select.options.filter((o) => o.selected).pop() ?? select.options[0];
        entries.push([select.name, chosen.value]);
      }
      select = null;
    } else if (tag === 'option') {
      closeOption();
      if (!closing) option = { value: attributes.get('value') ?? null, text: '', selected: attributes.has('selected') };
    }
  }
  throw new Error(found ? `The form posting to ${action} is not closed` : `No form posts to ${action}`);
}

/** The urlencoded body a browser sends for these entries: line breaks as CRLF, spaces as +. */
export function urlencoded(entries: FormEntries): string {
  const crlf = (text: string) => text.replace(/\r\n|\r|\n/g, '\r\n');
  return new URLSearchParams(entries.map(([name, value]) => [crlf(name), crlf(value)])).toString();
}

import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { emptyToUndefined, markdownText, trimmed } from './form-fields';

class Fields {
  @markdownText()
  markdown?: unknown;

  @trimmed()
  line?: unknown;

  @emptyToUndefined()
  optional?: unknown;
}

const parse = (plain: Record<string, unknown>) => plainToInstance(Fields, plain);

describe('form fields', () => {
  const written = '\n## Heading\n\n    code first\n  - nested\nhard break  \nnext\ttab\n临床安全 السلامة\n  ';

  it('keeps Markdown exactly as written, only with line breaks as LF (browsers send CRLF)', () => {
    expect(parse({ markdown: written }).markdown).toBe(written);
    expect(parse({ markdown: written.replace(/\n/g, '\r\n') }).markdown).toBe(written);
    expect(parse({ markdown: 'old Mac\rline' }).markdown).toBe('old Mac\nline');
    expect(parse({ markdown: '    code on the first line' }).markdown).toBe('    code on the first line');
  });

  it('stores Markdown that is only whitespace as empty, so required fields still refuse it', () => {
    expect(parse({ markdown: ' \r\n\t\n ' }).markdown).toBe('');
  });

  it('is idempotent: the stored text, sent again as a browser sends it, is stored the same', () => {
    for (const text of [written, '  a  \r\n\r\n', ' \r\n ', 'plain']) {
      const once = parse({ markdown: text, line: text, optional: text });
      const again = parse({ markdown: String(once.markdown).replace(/\n/g, '\r\n'), line: once.line === undefined ? undefined : String(once.line).replace(/\n/g, '\r\n'), optional: once.optional });
      expect(again).toEqual(once);
    }
  });

  it('trims one-line fields and gives any line breaks in them (a reason, a question) as LF', () => {
    expect(parse({ line: '  Hazard logs &amp; <risk>  ' }).line).toBe('Hazard logs &amp; <risk>');
    expect(parse({ line: ' first\r\nsecond \r\n' }).line).toBe('first\nsecond');
    expect(parse({ optional: '  ' }).optional).toBeUndefined();
    expect(parse({ optional: ' a\r\nb ' }).optional).toBe('a\nb');
  });

  it('leaves what is not a string for the validators to refuse', () => {
    expect(parse({ markdown: ['a', 'b'], line: 3 })).toMatchObject({ markdown: ['a', 'b'], line: 3 });
  });
});

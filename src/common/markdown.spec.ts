import { renderMarkdown } from './markdown';

describe('renderMarkdown', () => {
  it('renders headings, lists and tables with NHS.UK classes', () => {
    const html = renderMarkdown('## Hazards\n\n- one\n- two\n\n| a | b |\n| - | - |\n| 1 | 2 |');
    expect(html).toContain('<h2>Hazards</h2>');
    expect(html).toContain('<ul class="nhsuk-list nhsuk-list--bullet">');
    expect(html).toContain('<table class="nhsuk-table">');
  });

  it('never lets script, event handlers or javascript: links through', () => {
    const html = renderMarkdown('<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1)) [ok](https://www.nhs.uk)');
    expect(html).not.toMatch(/<script|<img|href="javascript/i);
    expect(html).toContain("&lt;script&gt;");
    expect(html).toContain('href="https://www.nhs.uk"');
  });
});

describe('renderMarkdown with demoted headings', () => {
  it('steps each heading down a level, for content inside a page section', () => {
    expect(renderMarkdown('## Why\n\n### How', { demoteHeadings: true })).toBe('<h3>Why</h3>\n<h4>How</h4>\n');
  });
});

import { descriptionExcerpt, EXCERPT_MAX, listHref } from './community-views';

describe('a community’s description on the list', () => {
  it('is its first paragraph past any heading, as sanitised HTML', () => {
    expect(descriptionExcerpt('## Who it is for\n\nOfficers of **DCB0129** <b>and</b> [DCB0160](https://digital.nhs.uk).\n\nThe rest.')).toBe(
      '<p>Officers of <strong>DCB0129</strong> &lt;b&gt;and&lt;/b&gt; <a href="https://digital.nhs.uk">DCB0160</a>.</p>\n',
    );
    expect(descriptionExcerpt('# Only a heading')).toBe('Only a heading\n');
    expect(descriptionExcerpt(null)).toBe('');
    expect(descriptionExcerpt('  \n ')).toBe('');
  });

  it('is cut at a word when it is long, and never links to a script', () => {
    const long = `${'word '.repeat(100)}end`;
    const excerpt = descriptionExcerpt(long);
    expect(excerpt).toMatch(/^<p>(word )+word…<\/p>\n$/);
    expect(excerpt.length).toBeLessThan(EXCERPT_MAX + 20);
    expect(descriptionExcerpt('[click](javascript:alert(1))')).not.toContain('href');
  });
});

describe('the way back to the list', () => {
  it('names the page only past the first', () => {
    expect(listHref(1, 'joined', 'cyber-leads')).toBe('/communities?notice=joined&community=cyber-leads#community-cyber-leads');
    expect(listHref(3, 'left', 'cyber-leads')).toBe('/communities?page=3&notice=left&community=cyber-leads#community-cyber-leads');
  });
});

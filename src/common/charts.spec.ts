import { barChart, CHART_COLOURS, chartTable, escapeMarkup, formatValue, niceScale, truncate } from './charts';

const months = ['Jan 2025', 'Feb 2025', 'Mar 2025', 'Apr 2025', 'May 2025', 'Jun 2025', 'Jul 2025', 'Aug 2025', 'Sep 2025', 'Oct 2025', 'Nov 2025', 'Dec 2025'];

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4)));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a: string, b: string): number {
  const [l1, l2] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (l1 + 0.05) / (l2 + 0.05);
}
/** The texts of every <text> element, unescaped. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&'));
}

describe('barChart', () => {
  it('is an image named by its title and described by its desc, with ids unique per chart', () => {
    const a = barChart({ title: 'Completions per month', description: 'Completions in each of the last 12 months.', bars: [{ label: 'Jan', value: 3 }] });
    const b = barChart({ title: 'Other', description: 'Other chart', bars: [{ label: 'Jan', value: 3 }] });
    const [, labelledBy] = a.match(/aria-labelledby="([^"]+)"/)!;
    const [titleId, descId] = labelledBy.split(' ');
    expect(a).toMatch(/^<svg [^>]*role="img"/);
    expect(a).toContain(`<title id="${titleId}">Completions per month</title>`);
    expect(a).toContain(`<desc id="${descId}">Completions in each of the last 12 months.</desc>`);
    expect(b).not.toContain(`id="${titleId}"`);
    expect(barChart({ id: 'my chart"', title: 't', description: 'd', bars: [] })).toContain('aria-labelledby="my-chart--title my-chart--desc"');
  });

  it('is responsive: a fixed viewBox and width 100%, no fixed height', () => {
    const svg = barChart({ title: 't', description: 'd', bars: months.map((label, i) => ({ label, value: i })) });
    expect(svg).toMatch(/<svg [^>]*viewBox="0 0 \d+(\.\d)? \d+(\.\d)?"/);
    expect(svg).toMatch(/<svg [^>]*width="100%"/);
    expect(svg).not.toMatch(/<svg [^>]*\sheight=/);
  });

  it('uses no style attribute or element (the CSP forbids inline style) and no script', () => {
    for (const orientation of ['vertical', 'horizontal'] as const) {
      const svg = barChart({ orientation, title: 't', description: 'd', bars: [{ label: 'A', value: 1, status: 'warning' }, { label: 'B', value: 2, status: 'bad' }] });
      expect(svg).not.toMatch(/style/i);
      expect(svg).not.toMatch(/<script|on\w+=/i);
    }
  });

  it('escapes every text: title, description, labels and value texts', () => {
    const evil = '<script>alert("x")</script> & \'';
    const svg = barChart({ title: evil, description: evil, bars: [{ label: evil, value: 1, valueText: evil }], orientation: 'horizontal' });
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('"x"');
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;');
    expect(escapeMarkup('a\u0000b\u0007c')).toBe('abc');
  });

  it('prints each value next to its bar, with the unit', () => {
    const svg = barChart({ title: 't', description: 'd', bars: [{ label: 'Ward A', value: 75 }, { label: 'Ward B', value: 1234 }], unit: '%', max: 100, orientation: 'horizontal' });
    expect(texts(svg)).toEqual(expect.arrayContaining(['Ward A', '75%', 'Ward B', '1,234%']));
    const hours = barChart({ title: 't', description: 'd', bars: [{ label: 'x', value: 2.5 }], unit: 'hours' });
    expect(texts(hours)).toContain('2.5 hours');
    expect(texts(barChart({ title: 't', description: 'd', bars: [{ label: 'x', value: 3, valueText: '3 of 4' }] }))).toContain('3 of 4');
  });

  it('scales sensibly when every value is 0 (bars of no height, values still printed, a whole-number scale)', () => {
    const svg = barChart({ title: 't', description: 'd', bars: months.map((label) => ({ label, value: 0 })) });
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(texts(svg).filter((t) => t === '0').length).toBeGreaterThanOrEqual(12);
    const heights = [...svg.matchAll(/<rect [^>]*height="([^"]+)" fill="#005eb8"/g)].map((m) => Number(m[1]));
    expect(heights).toHaveLength(12);
    expect(heights.every((h) => h === 0)).toBe(true);
    expect(barChart({ title: 't', description: 'd', bars: [] })).not.toMatch(/NaN|Infinity/);
    expect(barChart({ title: 't', description: 'd', bars: [{ label: 'x', value: Number.NaN }, { label: 'y', value: -3 }] })).not.toMatch(/NaN|Infinity|-3/);
  });

  it('heights follow the values on a round scale', () => {
    const svg = barChart({ title: 't', description: 'd', bars: [{ label: 'a', value: 5 }, { label: 'b', value: 10 }, { label: 'c', value: 0 }] });
    const heights = [...svg.matchAll(/<rect [^>]*height="([^"]+)" fill="#005eb8"/g)].map((m) => Number(m[1]));
    expect(heights[1]).toBeCloseTo(heights[0] * 2, 0);
    expect(heights[2]).toBe(0);
    expect(niceScale(10)).toEqual({ max: 10, step: 5 });
    expect(niceScale(7)).toEqual({ max: 8, step: 2 });
    expect(niceScale(1)).toEqual({ max: 1, step: 1 });
    expect(niceScale(0)).toEqual({ max: 4, step: 1 });
    expect(niceScale(1234)).toEqual({ max: 1500, step: 500 });
    expect(niceScale(40, 100)).toEqual({ max: 100, step: 25 });
    expect(niceScale(0.3, undefined, false).max).toBeCloseTo(0.3);
  });

  it('truncates long labels to fit, keeping the full label in the bar’s own title', () => {
    const long = 'Safeguarding adults and children level 3: recognising and responding to abuse and neglect';
    for (const orientation of ['vertical', 'horizontal'] as const) {
      const svg = barChart({ orientation, title: 't', description: 'd', bars: [{ label: long, value: 4 }, { label: 'Short', value: 2 }] });
      const shown = texts(svg).find((t) => t.startsWith('Safeguarding'))!;
      expect(shown.endsWith('…')).toBe(true);
      expect(shown.length).toBeLessThan(long.length);
      expect(svg).toContain(`<title>${long}: 4</title>`);
    }
    expect(truncate('short', 200, 14)).toBe('short');
    // Never cuts a surrogate pair in half.
    const emoji = truncate('😀'.repeat(40), 60, 14);
    expect(emoji.endsWith('…')).toBe(true);
    expect(Array.from(emoji).every((ch) => ch === '😀' || ch === '…')).toBe(true);
  });

  it('colours bars by status with NHS colours of at least 3:1 contrast (or an outline that has), naming the status in words', () => {
    const svg = barChart({ title: 't', description: 'd', orientation: 'horizontal', bars: [
      { label: 'A', value: 90, status: 'good' }, { label: 'B', value: 60, status: 'warning', statusText: 'Amber' }, { label: 'C', value: 10, status: 'bad' }, { label: 'D', value: 0, status: 'neutral' },
    ], unit: '%', max: 100 });
    expect(svg).toContain(`fill="${CHART_COLOURS.good}"`);
    expect(svg).toContain(`fill="${CHART_COLOURS.warning}" stroke="${CHART_COLOURS.outline}"`);
    expect(svg).toContain(`fill="${CHART_COLOURS.bad}"`);
    expect(svg).toContain('<title>B: 60% (Amber)</title>');
    expect(svg).toContain('<title>A: 90% (Good)</title>');
    for (const colour of [CHART_COLOURS.bar, CHART_COLOURS.good, CHART_COLOURS.bad, CHART_COLOURS.neutral, CHART_COLOURS.axis]) expect(contrast(colour, CHART_COLOURS.background)).toBeGreaterThanOrEqual(3);
    expect(contrast(CHART_COLOURS.warning, CHART_COLOURS.background)).toBeLessThan(3); // hence its outline:
    expect(contrast(CHART_COLOURS.outline, CHART_COLOURS.background)).toBeGreaterThanOrEqual(3);
    expect(contrast(CHART_COLOURS.outline, CHART_COLOURS.warning)).toBeGreaterThanOrEqual(3);
    expect(contrast(CHART_COLOURS.text, CHART_COLOURS.background)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(CHART_COLOURS.secondaryText, CHART_COLOURS.background)).toBeGreaterThanOrEqual(4.5);
  });

  it('keeps labels flat when they fit and turns them when they do not', () => {
    const short = barChart({ title: 't', description: 'd', bars: ['Jan', 'Feb', 'Mar'].map((label) => ({ label, value: 1 })) });
    expect(short).not.toContain('rotate(');
    const many = barChart({ title: 't', description: 'd', bars: months.map((label) => ({ label: `${label} (all staff groups)`, value: 1 })) });
    expect(many).toContain('rotate(-45');
  });

  it('gives a wider viewBox rather than overlapping value texts when there are many bars', () => {
    const svg = barChart({ title: 't', description: 'd', bars: Array.from({ length: 40 }, (_, i) => ({ label: String(i), value: 123456 })) });
    const width = Number(svg.match(/viewBox="0 0 ([\d.]+) /)![1]);
    expect(width).toBeGreaterThan(640);
  });
});

describe('chartTable', () => {
  it('gives the same labels (in full) and value texts as the chart, in its order', () => {
    const options = { title: 'Completions per month', description: 'd', bars: [{ label: 'Jan 2025', value: 3 }, { label: 'Feb 2025', value: 0 }, { label: 'A very long label that the chart has to truncate, since it will not fit', value: 1500 }] };
    const table = chartTable(options, { label: 'Month', value: 'Completions' });
    expect(table.caption).toBe('Completions per month');
    expect(table.headings).toEqual(['Month', 'Completions']);
    expect(table.hasStatus).toBe(false);
    expect(table.rows).toEqual([
      { label: 'Jan 2025', value: 3, valueText: '3' },
      { label: 'Feb 2025', value: 0, valueText: '0' },
      { label: 'A very long label that the chart has to truncate, since it will not fit', value: 1500, valueText: '1,500' },
    ]);
    const svgTexts = texts(barChart(options));
    for (const row of table.rows.slice(0, 2)) expect(svgTexts).toEqual(expect.arrayContaining([row.label, row.valueText]));
  });

  it('adds a status column in words when the bars have statuses', () => {
    const table = chartTable({ title: 'Compliance', description: 'd', unit: '%', bars: [{ label: 'Fire safety', value: 95, status: 'good', statusText: 'Green' }, { label: 'Manual handling', value: 40, status: 'bad' }] }, { label: 'Requirement', value: 'Compliance' });
    expect(table.headings).toEqual(['Requirement', 'Compliance', 'Status']);
    expect(table.rows.map((r) => [r.valueText, r.statusText])).toEqual([['95%', 'Green'], ['40%', 'Poor']]);
  });

  it('formats values as the chart does', () => {
    expect(formatValue(1234.56)).toBe('1,234.6');
    expect(formatValue(3, 'hours')).toBe('3 hours');
    expect(formatValue(50, '%')).toBe('50%');
  });
});

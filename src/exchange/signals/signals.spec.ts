import { ValidationFailed } from '../../common/errors';
import { adoptionsChart } from './signals.pages.controller';
import { countsOf, isSlug, normaliseNote } from './signals.service';

describe('signals: notes, slugs, counts and the adoptions chart', () => {
  it('stores a note as written (line breaks as LF), an empty one as none, and refuses one over 500 characters', () => {
    expect(normaliseNote('Adapted for\r\ncommunity teams')).toBe('Adapted for\ncommunity teams');
    expect(normaliseNote('  ')).toBeNull();
    expect(normaliseNote('')).toBeNull();
    expect(normaliseNote(null)).toBeNull();
    expect(normaliseNote(undefined)).toBeNull();
    expect(normaliseNote('n'.repeat(500))).toHaveLength(500);
    expect(() => normaliseNote('n'.repeat(501))).toThrow(ValidationFailed);
  });

  it('takes only lower-case slugs as item addresses', () => {
    expect(isSlug('discharge-letters-k3x9')).toBe(true);
    for (const bad of ['', 'Upper', 'has space', '../etc', 'x'.repeat(121), 42, null]) expect(isSlug(bad)).toBe(false);
  });

  it('reads counters as numbers (MySQL may hand them over as strings)', () => {
    expect(countsOf({ helpfulCount: '3' as unknown as number, saveCount: 1, adoptionCount: 0, downloadCount: 9 })).toEqual({ helpful: 3, saves: 1, adoptions: 0, downloads: 9 });
  });

  it('describes the adoptions chart in words, and gives the same figures as its table', () => {
    const months = [
      { key: '2026-01', label: 'Jan 2026', adoptions: 0 },
      { key: '2026-02', label: 'Feb 2026', adoptions: 3 },
      { key: '2026-03', label: 'Mar 2026', adoptions: 1 },
    ];
    const chart = adoptionsChart({ months, adoptionsBeforeChart: 0 });
    expect(chart.svg).toContain('role="img"');
    expect(chart.svg).toContain('4 in all, the most (3) in Feb 2026');
    expect(chart.table.rows.map((r) => [r.label, r.value])).toEqual([
      ['Jan 2026', 0],
      ['Feb 2026', 3],
      ['Mar 2026', 1],
    ]);
    expect(adoptionsChart({ months: months.map((m) => ({ ...m, adoptions: 0 })), adoptionsBeforeChart: 0 }).svg).toContain('No organisation recorded an adoption');
  });
});

import type { ExchangeRevision } from '../entities/exchange-revision.entity';
import { characterCount, hackSummary, keyFiguresOf, kindForSegment, missingForSubmission, parseFigure, parseKeyFigureRows } from './contribution-rules';
import { newSlug } from './contributions.service';

describe('contribution rules', () => {
  it('counts characters as a person does: code points after trimming', () => {
    expect(characterCount('  abc \n')).toBe(3);
    expect(characterCount('🩺🩺')).toBe(2);
    expect('🩺🩺'.length).toBe(4);
    expect(characterCount('a\nb')).toBe(3);
    expect(characterCount(null)).toBe(0);
  });

  it('reads numbers as typed, and nothing else', () => {
    expect(parseFigure('94')).toBe(94);
    expect(parseFigure(' 61.5 ')).toBe(61.5);
    expect(parseFigure('1,200')).toBe(1200);
    expect(parseFigure('1,000,000,000')).toBe(1_000_000_000);
    for (const bad of ['', '-3', '1e5', '12.345', 'lots', '1,000,000,001', '0x10', 'Infinity']) expect(parseFigure(bad)).toBeNull();
  });

  it('takes filled key figure rows, ignores empty ones and says what a partial row lacks', () => {
    const { figures, errors } = parseKeyFigureRows({
      'figureLabel-1': 'Letters within 24 hours',
      'figureBefore-1': '61',
      'figureAfter-1': '94',
      'figureUnit-1': '%',
      'figureLabel-3': '',
      'figureBefore-3': '',
      'figureLabel-4': 'Beds',
      'figureAfter-4': '12',
      'figureLabel-5': 'x'.repeat(81),
      'figureBefore-5': '1',
      'figureAfter-5': '2',
    });
    expect(figures).toEqual([{ label: 'Letters within 24 hours', before: 61, after: 94, unit: '%' }]);
    expect(Object.keys(errors).sort()).toEqual(['figureBefore-4', 'figureLabel-5']);
  });

  it('reads stored key figures defensively, at most six', () => {
    expect(keyFiguresOf('not json')).toEqual([]);
    expect(keyFiguresOf('{"label":"x"}')).toEqual([]);
    const many = JSON.stringify(Array.from({ length: 8 }, (_, i) => ({ label: `F${i}`, before: i, after: i + 1, unit: '' })));
    expect(keyFiguresOf(many)).toHaveLength(6);
    expect(keyFiguresOf('[{"label":"ok","before":1,"after":"2","unit":""},{"label":"good","before":1,"after":2}]')).toEqual([{ label: 'good', before: 1, after: 2, unit: '' }]);
  });

  it('lists what each kind still lacks before it can be submitted', () => {
    const empty = { title: 'T', summary: '', topicIds: '[]', toolFileId: null } as unknown as ExchangeRevision;
    expect(Object.keys(missingForSubmission('case_study', empty))).toEqual(['summary', 'careSetting', 'context', 'actions', 'results', 'lessons', 'topics']);
    expect(Object.keys(missingForSubmission('tool', empty))).toEqual(['summary', 'toolType', 'purpose', 'howToUse', 'licence', 'file', 'topics']);
    expect(Object.keys(missingForSubmission('hack', { ...empty, tip: '  ' }))).toEqual(['tip', 'topics']);
    expect(missingForSubmission('hack', { ...empty, tip: 'Restart it.', topicIds: '[3]' })).toEqual({});
  });

  it('summarises a hack from its tip as plain words', () => {
    expect(hackSummary('Use **print preview** and [the guide](https://example.org).')).toBe('Use print preview and the guide.');
    const long = hackSummary('word '.repeat(200));
    expect([...long].length).toBe(280);
    expect(long.endsWith('…')).toBe(true);
  });

  it('makes slugs from titles with a random part, never a page’s word', () => {
    expect(newSlug('Discharge letters: within a day!', 'case_study')).toMatch(/^discharge-letters-within-a-day-[0-9a-f]{6}$/);
    expect(newSlug('临床', 'hack')).toMatch(/^hack-[0-9a-f]{6}$/);
    expect(newSlug('new', 'tool')).not.toBe('new');
    expect(kindForSegment('case-study')).toBe('case_study');
    expect(kindForSegment('case_study')).toBeNull();
  });
});

import { safeFileName } from './uploads';

describe('safeFileName', () => {
  it.each([
    ['Hazard log template.csv', 'Hazard log template.csv'],
    ['C:\\fakepath\\Plan.docx', 'Plan.docx'],
    ['../../etc/passwd.csv', 'passwd.csv'],
    ['Report: "final" <v2>?.pdf', 'Report_ _final_ _v2__.pdf'],
    ['evil\u202Efdp.exe.csv', 'evilfdp.exe.csv'],
    ['  tabs\tand\nnewlines .pdf ', 'tabsandnewlines .pdf'],
    ['.hidden.csv', 'hidden.csv'],
    ['.csv', 'file.csv'],
    ['', 'file.csv'],
    ['no-extension', 'no-extension.zip'],
  ])('%j → %j', (name, expected) => {
    expect(safeFileName(name, expected.split('.').pop()!)).toBe(expected);
  });

  it('keeps at most 160 characters, extension included', () => {
    const long = safeFileName(`${'a'.repeat(300)}.xlsx`, 'xlsx');
    expect(long).toHaveLength(160);
    expect(long.endsWith('a.xlsx')).toBe(true);
  });
});

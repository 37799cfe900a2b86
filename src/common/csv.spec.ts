import { csvCell, csvDocument } from './csv';

describe('csvCell', () => {
  it('leaves plain text and numbers as they are, and writes nothing for no value', () => {
    expect(csvCell('Ada Lovelace')).toBe('Ada Lovelace');
    expect(csvCell(42)).toBe('42');
    expect(csvCell(0)).toBe('0');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell('')).toBe('');
  });

  it('quotes cells holding a comma, a quote or a line break, doubling the quotes (RFC 4180)', () => {
    expect(csvCell('Leeds, St James')).toBe('"Leeds, St James"');
    expect(csvCell('Zoë "Zed" O’Neil')).toBe('"Zoë ""Zed"" O’Neil"');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('a\r\nb')).toBe('"a\r\nb"');
  });

  it('never lets a spreadsheet read a cell as a formula', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\tcmd')).toBe("'\tcmd");
    expect(csvCell('\r=1')).toBe(`"'\r=1"`);
    // Only the first character matters.
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell('2024-01-01T00:00:00.000Z')).toBe('2024-01-01T00:00:00.000Z');
  });
});

describe('csvDocument', () => {
  it('writes a byte-order mark, then every row ended by CRLF', () => {
    expect(csvDocument([['name', 'email'], ['Ada', 'ada@example.org'], ['=1', null]])).toBe('\uFEFFname,email\r\nAda,ada@example.org\r\n\'=1,\r\n');
  });
});

/**
 * CSV files for people to open in a spreadsheet (RFC 4180): cells quoted when they hold a comma, a quote
 * or a line break, rows ended by CRLF, and a byte-order mark so Excel reads the text as UTF-8.
 */
export type CsvValue = string | number | null | undefined;

/**
 * One cell, quoted when needed and never read as a formula: text starting with = + - @, a tab or a carriage
 * return gets a leading single quote (OWASP's advice against CSV injection).
 */
export function csvCell(value: CsvValue): string {
  const text = value === null || value === undefined ? '' : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A whole file: the rows (the header first), each ended by CRLF, after a UTF-8 byte-order mark. */
export function csvDocument(rows: readonly (readonly CsvValue[])[]): string {
  return `\uFEFF${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

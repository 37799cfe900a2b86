import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface PdfInspection {
  text: string;
  qrCodes: string[];
  pages: number;
  size: { width: number; height: number };
}

/** The text of a PDF and the QR codes drawn in it, read by independent libraries (pdf-parse, jsQR). */
export function inspectPdf(pdf: Buffer): PdfInspection {
  const output = execFileSync(process.execPath, [join(__dirname, 'bin', 'inspect-pdf.cjs')], { input: pdf, cwd: join(__dirname, '..', '..') });
  return JSON.parse(output.toString('utf8'));
}

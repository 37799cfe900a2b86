import { inspectPdf } from '../../test/support/pdf';
import { CertificateContent, layoutCertificate, renderCertificatePdf } from './certificate-pdf';

const content: CertificateContent = {
  kind: 'completion',
  holderName: 'Łukasz Dvořák-Øster',
  subjectTitle: 'Clinical safety: DCB0129 and DCB0160 in practice — hazard logs, safety cases and the “go-live” decision for a new EPR',
  achievedOn: '24 November 2026',
  issuedAt: new Date('2026-11-24T10:15:00Z'),
  cpdHours: 1.5,
  academyName: 'Peer Academy',
  code: '7KQM-R4XD-9TWC',
  verifyUrl: 'https://academy.example/verify/7KQM-R4XD-9TWC',
};

const oneLine = (text: string) => text.replace(/\s+/g, ' ');

describe('renderCertificatePdf', () => {
  it('writes one A4 landscape page whose text and QR code independent readers get back', async () => {
    const pdf = inspectPdf(await renderCertificatePdf(content));
    expect(pdf.pages).toBe(1);
    expect(pdf.size).toEqual({ width: 841.89, height: 595.28 });
    const text = oneLine(pdf.text);
    for (const expected of ['Certificate of completion', 'Łukasz Dvořák-Øster', content.subjectTitle, 'on 24 November 2026', 'CPD: 1.5 hours', 'Code: 7KQM-R4XD-9TWC', 'Peer Academy']) {
      expect(text).toContain(expected);
    }
    expect(pdf.qrCodes).toEqual([content.verifyUrl]);
  });

  it('renders the same certificate to the same bytes', async () => {
    const first = await renderCertificatePdf(content);
    expect(Buffer.compare(first, await renderCertificatePdf(content))).toBe(0);
    expect(Buffer.compare(first, await renderCertificatePdf({ ...content, holderName: 'Mary Seacole' }))).not.toBe(0);
  });

  it('embeds a subset made for the document when a name needs characters beyond the common set', async () => {
    const pdf = inspectPdf(await renderCertificatePdf({ ...content, kind: 'attendance', holderName: 'Ярослава Ωmega' }));
    expect(oneLine(pdf.text)).toContain('Ярослава Ωmega');
    expect(pdf.text).toContain('Certificate of attendance');
    expect(pdf.qrCodes).toEqual([content.verifyUrl]);
  });

  it('prints a long title whole, shrunk and wrapped onto at most three lines, above the CPD line', async () => {
    const title = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const text = oneLine(inspectPdf(await renderCertificatePdf({ ...content, subjectTitle: title })).text);
    expect(text).toContain(title);
    const layout = layoutCertificate({ ...content, subjectTitle: title });
    const lines = layout.lines.filter((l) => l.element === 'subject');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(lines[0].size).toBeLessThan(20);
    const cpd = layout.lines.find((l) => l.element === 'cpd')!;
    expect(cpd.y).toBeLessThan(lines.at(-1)!.y);
    expect(cpd.y).toBeGreaterThan(layout.lines.find((l) => l.element === 'code')!.y + 12);
  });

  it('reads a big font only when a text needs it: Latin certificates never load Noto Sans SC', () => {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require('./certificate-pdf') as typeof import('./certificate-pdf');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fonts = require('./pdf/fonts') as typeof import('./pdf/fonts');
      fresh.layoutCertificate({ ...content, holderName: 'Ярослава Ωmega Nguyễn' });
      expect(fonts.isLoaded('han')).toBe(false);
      expect(fonts.isLoaded('arabic')).toBe(false);
      fresh.layoutCertificate({ ...content, holderName: '王秀英' });
      expect(fonts.isLoaded('han')).toBe(true);
    });
  });
});

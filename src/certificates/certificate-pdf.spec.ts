import { inspectPdf } from '../../test/support/pdf';
import { CertificateContent, renderCertificatePdf } from './certificate-pdf';

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

  it('wraps a long title onto at most three lines rather than off the page', async () => {
    const title = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const text = oneLine(inspectPdf(await renderCertificatePdf({ ...content, subjectTitle: title })).text);
    expect(text).toContain('word0 word1');
    expect(text).not.toContain('word39');
  });
});

import { join } from 'node:path';
import { describeWithPoppler, harfbuzzReference, inkCoverage, inkDifference, inspectTagging, onlyMarkedContent, pdfFonts, pdfToText, renderPage } from '../../test/support/pdf';
import { CertificateContent, layoutCertificate, renderCertificatePdf } from './certificate-pdf';

const base: CertificateContent = {
  kind: 'completion',
  holderName: 'Mary Seacole',
  subjectTitle: 'Clinical safety: DCB0129 and DCB0160 in practice',
  achievedOn: '24 November 2026',
  issuedAt: new Date('2026-11-24T10:15:00Z'),
  cpdHours: 1.5,
  academyName: 'Peer Academy',
  code: '7KQM-R4XD-9TWC',
  verifyUrl: 'https://academy.example/verify/7KQM-R4XD-9TWC',
};

const FONTS = join(__dirname, '..', '..', 'node_modules', '@expo-google-fonts');
const noto = (name: string) => join(FONTS, `noto-sans-${name.toLowerCase()}`, '400Regular', `NotoSans${name}_400Regular.ttf`);
const DEJAVU = join(__dirname, '..', '..', 'node_modules', 'dejavu-fonts-ttf', 'ttf', 'DejaVuSans.ttf');

/** A realistic name and course title in each script, the font that should draw them, and the language their elements should declare. */
const SCRIPTS: Array<{ script: string; name: string; title: string; font: string; family: string; lang?: string; direction?: 'rtl' }> = [
  // Typed with combining marks (NFD: e + U+0308, A + U+030A, e + U+0302 + U+0303) as some keyboards and systems do.
  { script: 'Latin with combining marks', name: 'Zoe\u0308 A\u030angstro\u0308m-Nguye\u0302\u0303n', title: 'Quản lý rủi ro lâm sàng trong thực tế', font: DEJAVU, family: 'DejaVuSans' },
  { script: 'Greek', name: 'Παπαδόπουλος', title: 'Κλινική ασφάλεια στην πράξη', font: DEJAVU, family: 'DejaVuSans' },
  { script: 'Cyrillic', name: 'Иванова', title: 'Клиническая безопасность на практике', font: DEJAVU, family: 'DejaVuSans' },
  { script: 'Arabic', name: 'محمد عبد الله', title: 'السلامة السريرية في أنظمة المعلومات الصحية', font: noto('Arabic'), family: 'NotoSansArabic', lang: 'ar', direction: 'rtl' },
  { script: 'Hebrew', name: 'שרה כהן', title: 'בטיחות קלינית במערכות מידע', font: noto('Hebrew'), family: 'NotoSansHebrew', lang: 'he', direction: 'rtl' },
  { script: 'Devanagari', name: 'प्रिया शर्मा', title: 'नैदानिक सुरक्षा का परिचय', font: noto('Devanagari'), family: 'NotoSansDevanagari', lang: 'hi' },
  { script: 'Bengali', name: 'প্রিয়া দাস', title: 'ক্লিনিক্যাল নিরাপত্তার ভূমিকা', font: noto('Bengali'), family: 'NotoSansBengali', lang: 'bn' },
  { script: 'Gurmukhi', name: 'ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ', title: 'ਕਲੀਨਿਕਲ ਸੁਰੱਖਿਆ ਦੀ ਜਾਣ ਪਛਾਣ', font: noto('Gurmukhi'), family: 'NotoSansGurmukhi', lang: 'pa' },
  { script: 'Tamil', name: 'பிரியா ராஜ்', title: 'மருத்துவ பாதுகாப்பு அறிமுகம்', font: noto('Tamil'), family: 'NotoSansTamil', lang: 'ta' },
  { script: 'Thai', name: 'สมชาย ใจดี', title: 'ความปลอดภัยทางคลินิกเบื้องต้น', font: noto('Thai'), family: 'NotoSansThai', lang: 'th' },
  { script: 'Chinese', name: '王秀英', title: '临床安全实践入门', font: noto('SC'), family: 'NotoSansSC', lang: 'zh' },
];

const nfc = (text: string) => text.normalize('NFC');
/** White space and hyphens removed: pdftotext joins a word hyphenated at the end of a line, dropping its hyphen. */
const squeeze = (text: string) => nfc(text).replace(/[\s-]+/g, '');
type Box = [number, number, number, number];

/** The MCID whose ink holds the line drawn at (x, y): the sequence whose ink box spans that baseline and starts near x. */
function mcidAt(ink: Record<string, Box | null>, x: number, y: number): number {
  const found = Object.entries(ink).find(([, box]) => box && box[1] <= y + 0.5 && box[3] >= y && Math.abs(box[0] - x) < 6);
  if (!found) throw new Error(`no marked content at (${x}, ${y})`);
  return Number(found[0]);
}

/**
 * The line as the certificate draws it (its marked content alone) and as HarfBuzz shapes it in the expected
 * font, rendered by pdftoppm at 144 dpi, compared pixel by pixel.
 */
function compareWithReference(pdf: Buffer, ink: Record<string, Box | null>, line: { x: number; y: number; size: number; colour: number[]; line: { text: string } }, font: string, options: { direction?: 'rtl'; unshaped?: boolean } = {}) {
  const ours = renderPage(onlyMarkedContent(pdf, mcidAt(ink, line.x, line.y)), 144);
  const reference = renderPage(harfbuzzReference({ font, text: line.line.text, size: line.size, x: line.x, y: line.y, colour: line.colour, page: [841.89, 595.28], ...options }), 144);
  return { ours, reference, ...inkDifference(ours, reference) };
}

describeWithPoppler('certificate PDF in every script (pdftotext, pdftoppm, pdffonts)', () => {
  describe.each(SCRIPTS)('$script', ({ name, title, font, family, lang, direction }) => {
    let pdf: Buffer;
    beforeAll(async () => {
      pdf = await renderCertificatePdf({ ...base, holderName: name, subjectTitle: title });
    });

    it('gives the name and title back through pdftotext, in reading order', () => {
      const text = pdfToText(pdf);
      expect(text).toContain(nfc(name));
      expect(text).toContain(nfc(title));
      const order = ['Certificate of completion', 'This certifies that', nfc(name), 'completed the course', nfc(title), 'on 24 November 2026', 'CPD: 1.5 hours'].map((s) => text.indexOf(s));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    });

    it('embeds every font as a subset with a ToUnicode map, the script’s own among them', () => {
      const fonts = pdfFonts(pdf);
      expect(fonts.every((f) => f.embedded && f.subset && f.unicode && /^[A-Z]{6}\+/.test(f.name))).toBe(true);
      expect(fonts.map((f) => f.name.slice(7))).toContainEqual(expect.stringContaining(family));
    });

    it('draws the name and the title as HarfBuzz shapes them in the script’s font (rendered, compared pixel by pixel)', () => {
      const { ink } = inspectTagging(pdf, { ink: true });
      const layout = layoutCertificate({ ...base, holderName: name, subjectTitle: title });
      for (const element of ['name', 'subject']) {
        const lines = layout.lines.filter((l) => l.element === element);
        expect(lines).toHaveLength(1);
        const { ours, share, inked } = compareWithReference(pdf, ink!, lines[0], font, { direction });
        expect(inkCoverage(ours)).toBeGreaterThan(0.0005); // glyphs really drawn, not an empty line
        expect(inked).toBeGreaterThan(200);
        expect(share).toBeLessThan(0.03);
      }
    });

    it('tags the name and title with the language their script suggests', () => {
      const { elements } = inspectTagging(pdf);
      const paragraphs = elements.filter((e) => e.type === 'P');
      // Academy, "This certifies that", the name, "completed the course", the title…
      expect(paragraphs[2].lang).toBe(lang);
      expect(paragraphs[4].lang).toBe(lang);
      expect(elements.filter((e) => e.lang !== undefined)).toHaveLength(lang ? 2 : 0);
    });

    it('renders the same certificate to the same bytes', async () => {
      expect(Buffer.compare(pdf, await renderCertificatePdf({ ...base, holderName: name, subjectTitle: title }))).toBe(0);
    });
  });

  it.each([
    { holderName: '王秀英', wrong: 'drawn by a font without its glyphs (boxes)', font: DEJAVU, unshaped: false },
    { holderName: 'प्रिया शर्मा', wrong: 'unshaped (each letter its own glyph, vowel signs after their consonants)', font: noto('Devanagari'), unshaped: true },
    { holderName: 'محمد عبد الله', wrong: 'unshaped (letters unjoined, left to right)', font: noto('Arabic'), unshaped: true },
  ])('tells a wrong rendering apart: $holderName $wrong', async ({ holderName, font, unshaped }) => {
    const pdf = await renderCertificatePdf({ ...base, holderName });
    const { ink } = inspectTagging(pdf, { ink: true });
    const line = layoutCertificate({ ...base, holderName }).lines.find((l) => l.element === 'name')!;
    expect(compareWithReference(pdf, ink!, line, font, { unshaped }).share).toBeGreaterThan(0.2);
  });

  it('extracts a name that mixes scripts: Latin, Chinese and Arabic in one line', async () => {
    const holderName = 'Wei 王 Ahmed أحمد';
    const pdf = await renderCertificatePdf({ ...base, holderName });
    expect(pdfToText(pdf)).toContain('Wei 王 Ahmed');
    expect(pdfToText(pdf)).toContain('أحمد');
    expect(pdfFonts(pdf).map((f) => f.name.slice(7))).toEqual(expect.arrayContaining([expect.stringContaining('NotoSansSC'), expect.stringContaining('NotoSansArabic'), expect.stringContaining('DejaVuSans')]));
    // No single script: no language is claimed for the name.
    expect(inspectTagging(pdf).elements.filter((e) => e.type === 'P')[2].lang).toBeUndefined();
  });
});

/** Long names and titles, in several scripts: each must be printed whole and nothing may touch anything else. */
const LONG: Array<{ label: string; holderName: string; subjectTitle: string }> = [
  {
    label: 'a Latin name of three lines and a long title',
    holderName: 'Oluwaseun Adebayo-Okonkwo Chukwuemeka Nnamdi Azikiwe Babatunde Olamide Adeyemi Fitzgerald-Montgomery Wolfeschlegelsteinhausenbergerdorff Junior',
    subjectTitle: 'An exceptionally long course title about interoperability standards, FHIR UK Core profiles, SNOMED CT, dm+d, NHS number tracing and the Spine mini services provider in practice for trusts',
  },
  { label: 'the longest name and title the database keeps, without a space', holderName: 'W'.repeat(120), subjectTitle: 'M'.repeat(160) },
  { label: 'a long Chinese name and title', holderName: '欧阳王秀英'.repeat(8), subjectTitle: '临床安全实践：危险日志、安全案例以及新电子病历系统上线决策的完整指南与案例分析，适用于医院信息部门的全体工作人员' },
  { label: 'a long Arabic name and title', holderName: 'محمد عبد الله بن عبد الرحمن بن عبد العزيز آل سعود الهاشمي القرشي المكي المدني', subjectTitle: 'السلامة السريرية في أنظمة المعلومات الصحية وسجلات المخاطر وحالات السلامة وقرار التشغيل في المستشفيات الكبيرة' },
  { label: 'a long Thai title and Devanagari name', holderName: 'श्रीमती प्रियंका क्षत्रिय द्विवेदी चतुर्वेदी त्रिपाठी श्रीवास्तव', subjectTitle: 'ความปลอดภัยทางคลินิกสำหรับระบบสารสนเทศโรงพยาบาลและการตัดสินใจเปิดใช้งานระบบเวชระเบียนอิเล็กทรอนิกส์ใหม่ในโรงพยาบาลขนาดใหญ่ทั่วประเทศ' },
];

describeWithPoppler('long names and titles: shrunk and wrapped, never cut, never overlapping (rendered ink)', () => {
  it.each(LONG)('$label', async ({ holderName, subjectTitle }) => {
    const content = { ...base, holderName, subjectTitle };
    const pdf = await renderCertificatePdf(content);
    const layout = layoutCertificate(content);

    // Whole: every character of the name and the title comes back (lines joined; white space and hyphens aside)…
    const text = squeeze(pdfToText(pdf));
    expect(text).toContain(squeeze(holderName));
    expect(text).toContain(squeeze(subjectTitle));
    const name = layout.lines.filter((l) => l.element === 'name');
    const title = layout.lines.filter((l) => l.element === 'subject');
    expect(name.length).toBeLessThanOrEqual(3);
    expect(title.length).toBeLessThanOrEqual(3);
    // …and the lines laid out hold every character, in order (only spaces at the breaks are not drawn).
    const unspaced = (text: string) => nfc(text).replace(/\s+/g, '');
    expect(unspaced(name.map((l) => l.line.text).join(''))).toBe(unspaced(holderName));
    expect(unspaced(title.map((l) => l.line.text).join(''))).toBe(unspaced(subjectTitle));

    // Apart: each marked-content sequence rendered alone; no two inks meet, and all stay inside the frame.
    const { ink, elements } = inspectTagging(pdf, { ink: true });
    const boxes = Object.entries(ink!).map(([mcid, box]) => ({ mcid: Number(mcid), box: box! }));
    expect(boxes.every(({ box }) => box !== null)).toBe(true);
    const figure = elements.find((e) => e.type === 'Figure')!;
    const apart = (a: Box, b: Box) => a[2] <= b[0] || b[2] <= a[0] || a[3] <= b[1] || b[3] <= a[1];
    for (let i = 0; i < boxes.length; i++) {
      const { box } = boxes[i];
      expect(box[0] >= 27 && box[1] >= 27 && box[2] <= 841.89 - 27 && box[3] <= 595.28 - 27).toBe(true);
      for (let j = i + 1; j < boxes.length; j++) {
        if (!apart(box, boxes[j].box)) throw new Error(`MCID ${boxes[i].mcid} ${JSON.stringify(box)} overlaps MCID ${boxes[j].mcid} ${JSON.stringify(boxes[j].box)}`);
      }
    }
    // The name and title lines stay in the text column, left of the QR code; the flow ends above the code line.
    const column = boxes.filter(({ mcid }) => !figure.mcids.includes(mcid) && ink![mcid]![0] < 600);
    expect(Math.max(...column.map(({ box }) => box[2]))).toBeLessThan(figure.bbox![0]);
    const cpd = layout.lines.find((l) => l.element === 'cpd')!;
    const code = layout.lines.find((l) => l.element === 'code')!;
    expect(ink![String(mcidAt(ink!, cpd.x, cpd.y))]![1]).toBeGreaterThan(ink![String(mcidAt(ink!, code.x, code.y))]![3]);
  });

  it('keeps a name that fits at its full size, and shrinks one a little too long onto one line before wrapping', () => {
    const short = layoutCertificate(base).lines.filter((l) => l.element === 'name');
    expect(short.map((l) => l.size)).toEqual([28]);
    const longer = layoutCertificate({ ...base, holderName: 'Alexandra Konstantinidou-Papadopoulou Smith' }).lines.filter((l) => l.element === 'name');
    expect(longer).toHaveLength(1);
    expect(longer[0].size).toBeLessThan(28);
    expect(longer[0].size).toBeGreaterThanOrEqual(18);
  });
});

describeWithPoppler('tagging (PDF/UA basics)', () => {
  let pdf: Buffer;
  const content = { ...base, holderName: '王秀英' };
  beforeAll(async () => {
    pdf = await renderCertificatePdf(content);
  });

  it('is a marked PDF in British English whose title viewers show, with the same title in its XMP metadata', () => {
    const { catalog, info, page } = inspectTagging(pdf);
    expect(catalog).toMatchObject({ marked: true, lang: 'en-GB', displayDocTitle: true });
    expect(info.title).toBe(`Certificate of completion: ${content.subjectTitle}`);
    expect(catalog.metadata).toMatchObject({ subtype: 'XML', filtered: false });
    expect(catalog.metadata!.xml).toContain(`<dc:title><rdf:Alt><rdf:li xml:lang="x-default">${info.title}</rdf:li></rdf:Alt></dc:title>`);
    expect(catalog.metadata!.xml).toContain('<dc:language><rdf:Bag><rdf:li>en-GB</rdf:li></rdf:Bag></dc:language>');
    expect(catalog.metadata!.xml).toContain('<xmp:CreateDate>2026-11-24T10:15:00Z</xmp:CreateDate>');
    expect(page).toEqual({ structParents: 0, tabs: 'S' });
  });

  it('has a structure tree: a Document of a heading, paragraphs and the QR code as a figure with alternative text', () => {
    const { tree } = inspectTagging(pdf);
    expect(tree).toHaveLength(1);
    expect(tree[0].type).toBe('Document');
    expect(tree[0].kids.map((k) => k.type)).toEqual(['P', 'H1', 'P', 'P', 'P', 'P', 'P', 'P', 'P', 'P', 'Figure', 'P']);
    const figure = tree[0].kids.find((k) => k.type === 'Figure')!;
    expect(figure.alt).toContain(content.verifyUrl);
    expect(figure.bbox).toEqual([631.89, 110, 781.89, 260]);
    expect(tree[0].kids.find((k) => k.type === 'P' && k.lang === 'zh')).toBeDefined();
  });

  it('marks every piece of content with an MCID that the parent tree maps to its element, and the frame as an artifact', () => {
    const { elements, parentTree, sequences, textOutsideMarkedContent } = inspectTagging(pdf);
    expect(textOutsideMarkedContent).toBe(false);
    const top = sequences.filter((s) => s.depth === 0);
    expect(top[0]).toMatchObject({ tag: 'Artifact', hasText: false });
    const marked = top.filter((s) => s.mcid !== undefined);
    expect(marked.map((s) => s.mcid)).toEqual(marked.map((_, i) => i)); // in reading order, each once
    expect(top.length).toBe(marked.length + 1);
    const owners = elements.filter((e) => e.mcids.length > 0);
    expect(owners.flatMap((e) => e.mcids).sort((a, b) => a - b)).toEqual(marked.map((s) => s.mcid));
    expect(parentTree['0']).toEqual(marked.map((s) => owners.find((e) => e.mcids.includes(s.mcid!))!.type));
    for (const s of marked) expect(s.tag).toBe(owners.find((e) => e.mcids.includes(s.mcid!))!.type);
  });

  it('gives a wrapped name one marked-content sequence per line, all in its one element', async () => {
    const long = { ...base, holderName: LONG[0].holderName };
    const { elements } = inspectTagging(await renderCertificatePdf(long));
    const lines = layoutCertificate(long).lines.filter((l) => l.element === 'name').length;
    expect(lines).toBe(3);
    expect(elements.filter((e) => e.type === 'P')[2].mcids).toHaveLength(3);
  });

  it('spells shaped runs out in ActualText where glyphs do not (Devanagari vowel before its consonant)', async () => {
    const { sequences } = inspectTagging(await renderCertificatePdf({ ...base, holderName: 'प्रिया शर्मा' }));
    expect(sequences.filter((s) => s.tag === 'Span').map((s) => s.actualText)).toContain('प्रिया शर्मा');
  });
});

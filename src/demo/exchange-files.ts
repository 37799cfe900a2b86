import ExcelJS from 'exceljs';
import { csvDocument } from '../common/csv';
import { readZipArchive, zipArchive, type ZipEntry } from './zip-archive';

/*
 * The files of the demo exchange's tools and attachments, made when the demo is seeded (nothing binary ships with the
 * code). Each is made from fixed text and the date it is given, nothing else: the same date always makes the same bytes
 * (Office files are ZIP archives, rewritten with that date on every entry), so its SHA-256 is known.
 */

export interface DemoFile {
  fileName: string;
  contentType: string;
  bytes: Buffer;
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const DOCX_TYPE = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** The generators the demo exchange's definitions name (`"file": { "generator": … }`). */
export const DEMO_FILE_GENERATORS: Record<string, (at: Date) => Promise<DemoFile>> = {
  'dspt-evidence-checklist-v1': (at) => dsptEvidenceChecklist(1, at),
  'dspt-evidence-checklist-v2': (at) => dsptEvidenceChecklist(2, at),
  'dpia-template-general-practice': async (at) => dpiaTemplate(at),
  'change-freeze-calendar': async (at) => changeFreezeCalendar(at),
  'password-reset-script': async () => passwordResetScript(),
  'phishing-simulation-results': async () => phishingSimulationResults(),
};

// ---------------------------------------------------------------------------------------------------------------
// The DSPT evidence checklist (XLSX through exceljs)

interface EvidenceItem {
  ref: string;
  standard: number;
  caf: 'A' | 'B' | 'C' | 'D';
  evidence: string;
  good: string;
  /** Only in version 2. */
  since?: 2;
}

/** The National Data Guardian's ten data security standards, which the toolkit's assertions follow. */
const STANDARDS = [
  '',
  'Personal confidential data',
  'Staff responsibilities',
  'Training',
  'Managing data access',
  'Process reviews',
  'Responding to incidents',
  'Continuity planning',
  'Unsupported systems',
  'IT protection',
  'Accountable suppliers',
];

const CAF_OBJECTIVES = { A: 'A: Managing security risk', B: 'B: Protecting against cyber attack', C: 'C: Detecting cyber security events', D: 'D: Minimising the impact of incidents' } as const;

const EVIDENCE: readonly EvidenceItem[] = [
  { ref: '1.1', standard: 1, caf: 'A', evidence: 'Data protection and information governance policies approved in the last 12 months', good: 'The policies with their review dates, and the board or committee minutes that approved them' },
  { ref: '1.2', standard: 1, caf: 'A', evidence: 'Information asset register and data flow map reviewed', good: 'Each system with its information asset owner, lawful basis and flows out of the organisation; reviewed at least once a year' },
  { ref: '1.3', standard: 1, caf: 'A', evidence: 'Record of processing activities (ROPA)', good: 'A ROPA that matches the asset register, reviewed by the data protection officer' },
  { ref: '1.4', standard: 1, caf: 'A', evidence: 'DPIAs for new or changed processing', good: 'A list of this year’s DPIAs, each with the DPO’s advice and who signed it off' },
  { ref: '1.5', standard: 1, caf: 'A', evidence: 'Privacy notice published and up to date', good: 'The link to the notice on the website and the date it was last reviewed' },
  { ref: '2.1', standard: 2, caf: 'A', evidence: 'Staff agree to confidentiality and acceptable use', good: 'The contract clause or acceptable use statement, and the induction checklist that covers it' },
  { ref: '3.1', standard: 3, caf: 'B', evidence: 'Data security awareness training completed by at least 95% of staff', good: 'The year’s training report from the learning system, with the completion rate and the date it was run' },
  { ref: '3.2', standard: 3, caf: 'B', evidence: 'Specialist training for key roles (SIRO, Caldicott Guardian, DPO, asset owners)', good: 'Certificates or attendance records for each named person' },
  { ref: '4.1', standard: 4, caf: 'B', evidence: 'Leavers’ accounts disabled promptly', good: 'A report comparing HR leaving dates with account disabling dates; our target is one working day' },
  { ref: '4.2', standard: 4, caf: 'B', evidence: 'Privileged (administrator) accounts reviewed', good: 'The list of administrator accounts with who reviewed it and when; every quarter' },
  { ref: '4.3', standard: 4, caf: 'B', evidence: 'Multi-factor authentication on remote and administrator access', good: 'A configuration report or screenshot showing it enforced, and the list of any exceptions with their owner', since: 2 },
  { ref: '5.1', standard: 5, caf: 'D', evidence: 'Lessons from incidents and near misses reviewed', good: 'Minutes of the IG or digital board showing the review and the actions agreed' },
  { ref: '5.2', standard: 5, caf: 'C', evidence: 'Access to records audited', good: 'Reports of access audits (privacy monitoring) and what was done about what they found' },
  { ref: '6.1', standard: 6, caf: 'D', evidence: 'Incidents reported, including to the ICO within 72 hours where required', good: 'The incident policy, and the log of reportable incidents with the dates they were reported' },
  { ref: '6.2', standard: 6, caf: 'C', evidence: 'High-severity cyber alerts acted on', good: 'The log of alerts with the dates they were acknowledged and acted on' },
  { ref: '7.1', standard: 7, caf: 'D', evidence: 'Business continuity plans for key systems tested', good: 'A test report (tabletop or live) from the last 12 months, with its actions and their owners' },
  { ref: '7.2', standard: 7, caf: 'D', evidence: 'Backups tested by restoring them', good: 'The restore test record: what was restored, how long it took and who checked the result' },
  { ref: '8.1', standard: 8, caf: 'B', evidence: 'Unsupported software and devices listed, with a plan', good: 'The list, each with an owner, the risk and the date it will be replaced or isolated' },
  { ref: '9.1', standard: 9, caf: 'B', evidence: 'Security patches applied within the target times', good: 'A patch compliance report for servers and devices; critical patches within 14 days' },
  { ref: '9.2', standard: 9, caf: 'C', evidence: 'Endpoint protection on every device', good: 'The console report showing coverage, and the devices not reporting in with what is being done about them' },
  { ref: '9.3', standard: 9, caf: 'B', evidence: 'Vulnerability scan or penetration test', good: 'The latest report and the plan for fixing what it found, with dates', since: 2 },
  { ref: '10.1', standard: 10, caf: 'A', evidence: 'Suppliers who handle personal data are under contract', good: 'The supplier register with each contract’s data protection clauses (UK GDPR Article 28)' },
  { ref: '10.2', standard: 10, caf: 'A', evidence: 'Suppliers’ own security assured', good: 'Each key supplier’s toolkit status, Cyber Essentials Plus or ISO 27001 certificate, with its expiry date' },
];

const STATUSES = ['Not started', 'In progress', 'Ready', 'Uploaded'];

/** The checklist: the evidence sheet (with a status drop-down), a summary that counts by status, and how to use it. */
export async function dsptEvidenceChecklist(version: 1 | 2, at: Date): Promise<DemoFile> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'Demo Community Health NHS Trust';
  workbook.lastModifiedBy = 'Demo Community Health NHS Trust';
  workbook.title = `DSPT evidence checklist (version ${version})`;
  workbook.created = at;
  workbook.modified = at;

  const items = EVIDENCE.filter((e) => version === 2 || e.since !== 2);
  const sheet = workbook.addWorksheet('Evidence', { views: [{ state: 'frozen', ySplit: 1, xSplit: 1 }] });
  sheet.columns = [
    { header: 'Ref', key: 'ref', width: 7 },
    { header: 'Data security standard', key: 'standard', width: 26 },
    ...(version === 2 ? [{ header: 'CAF objective', key: 'caf', width: 30 }] : []),
    { header: 'Evidence', key: 'evidence', width: 48 },
    { header: 'What good evidence looks like', key: 'good', width: 60 },
    { header: 'Owner', key: 'owner', width: 20 },
    { header: 'Where we keep it', key: 'where', width: 28 },
    { header: 'Status', key: 'status', width: 14 },
    { header: 'Due by', key: 'due', width: 12, style: { numFmt: 'dd/mm/yyyy' } },
    ...(version === 2 ? [{ header: 'Checked on', key: 'checked', width: 12, style: { numFmt: 'dd/mm/yyyy' } }] : []),
    { header: 'Notes', key: 'notes', width: 40 },
  ];
  const header = sheet.getRow(1);
  header.font = { bold: true, color: { argb: 'FFFFFFFF' } };
  header.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FF005EB8' } };
  header.alignment = { vertical: 'middle', wrapText: true };
  for (const item of items) {
    const row = sheet.addRow({ ref: item.ref, standard: `${item.standard}. ${STANDARDS[item.standard]}`, caf: CAF_OBJECTIVES[item.caf], evidence: item.evidence, good: item.good, status: 'Not started' });
    row.alignment = { vertical: 'top', wrapText: true };
  }
  const statusColumn = sheet.getColumn('status').letter;
  for (let r = 2; r <= items.length + 1; r++) {
    sheet.getCell(`${statusColumn}${r}`).dataValidation = { type: 'list', allowBlank: false, formulae: [`"${STATUSES.join(',')}"`], showErrorMessage: true, errorTitle: 'Status', error: `Choose one of: ${STATUSES.join(', ')}` };
  }
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: sheet.columnCount } };

  const summary = workbook.addWorksheet('Summary');
  summary.columns = [
    { header: 'Status', key: 'status', width: 16 },
    { header: 'Items', key: 'items', width: 10 },
  ];
  summary.getRow(1).font = { bold: true };
  const range = `Evidence!$${statusColumn}$2:$${statusColumn}$${items.length + 1}`;
  for (const status of STATUSES) summary.addRow({ status, items: { formula: `COUNTIF(${range},"${status}")`, result: status === 'Not started' ? items.length : 0 } });
  summary.addRow({ status: 'All items', items: { formula: `COUNTA(${range})`, result: items.length } }).font = { bold: true };

  const guide = workbook.addWorksheet('How to use');
  guide.getColumn(1).width = 110;
  const lines = [
    `DSPT evidence checklist, version ${version}`,
    '',
    'A working list of the evidence the Data Security and Protection Toolkit asks for, grouped by the ten data security standards.',
    ...(version === 2 ? ['Version 2 says which Cyber Assessment Framework (CAF) objective each item supports, adds a "Checked on" date and two items (4.3 and 9.3).'] : []),
    '',
    '1. Give every item an owner and say where its evidence is kept (a folder path or a link), in the first month.',
    '2. Set a "Due by" date for each item, spread across the year rather than all in June.',
    '3. Change the status as you go: Not started, In progress, Ready (evidence gathered and checked), Uploaded (in the toolkit).',
    '4. The Summary sheet counts the items by status: take it to your IG group each month.',
    '5. Check the list against the current year’s toolkit: assertions and evidence items change each year, and this list is a working aid, not the toolkit itself.',
    '',
    'Shared by Demo Community Health NHS Trust on Peer Academy under the Open Government Licence v3.0.',
  ];
  lines.forEach((text, i) => {
    const cell = guide.getCell(i + 1, 1);
    cell.value = text;
    cell.alignment = { wrapText: true };
    if (i === 0) cell.font = { bold: true, size: 14 };
  });

  const written = Buffer.from(await workbook.xlsx.writeBuffer());
  return { fileName: `dspt-evidence-checklist-v${version}.xlsx`, contentType: XLSX_TYPE, bytes: redated(written, at) };
}

/** The same archive with every entry dated `at` (exceljs dates them when it writes them). */
function redated(zip: Buffer, at: Date): Buffer {
  return zipArchive(readZipArchive(zip).filter((entry) => !entry.name.endsWith('/')), at);
}

// ---------------------------------------------------------------------------------------------------------------
// The DPIA template (DOCX, WordprocessingML written here: headings, lists and tables with header rows)

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

type Block = { heading: 1 | 2; text: string } | { paragraph: string; guidance?: boolean } | { bullets: string[] } | { table: string[][]; widths: number[] };

function run(text: string, options: { bold?: boolean; italic?: boolean } = {}): string {
  const props = `${options.bold ? '<w:b/>' : ''}${options.italic ? '<w:i/><w:color w:val="4C6272"/>' : ''}`;
  return `<w:r>${props ? `<w:rPr>${props}</w:rPr>` : ''}<w:t xml:space="preserve">${xml(text)}</w:t></w:r>`;
}

function paragraph(text: string, options: { style?: string; bold?: boolean; italic?: boolean; bullet?: boolean } = {}): string {
  const props = `${options.style ? `<w:pStyle w:val="${options.style}"/>` : ''}${options.bullet ? '<w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr>' : ''}`;
  return `<w:p>${props ? `<w:pPr>${props}</w:pPr>` : ''}${text ? run(text, options) : ''}</w:p>`;
}

function table(rows: string[][], widths: number[]): string {
  const grid = widths.map((w) => `<w:gridCol w:w="${w}"/>`).join('');
  const body = rows
    .map((cells, r) => {
      const header = r === 0 ? '<w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>' : '<w:trPr><w:cantSplit/></w:trPr>';
      const tcs = cells.map((cell, c) => `<w:tc><w:tcPr><w:tcW w:w="${widths[c]}" w:type="dxa"/>${r === 0 ? '<w:shd w:val="clear" w:color="auto" w:fill="E8EDEE"/>' : ''}</w:tcPr>${paragraph(cell, { bold: r === 0, italic: r > 0 && cell.startsWith('For example') })}</w:tc>`).join('');
      return `<w:tr>${header}${tcs}</w:tr>`;
    })
    .join('');
  return `<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="${widths.reduce((a, b) => a + b, 0)}" w:type="dxa"/><w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>${grid}</w:tblGrid>${body}</w:tbl>${paragraph('')}`;
}

const DPIA_TITLE = 'Data protection impact assessment (DPIA) for a new digital system in general practice';

const DPIA: readonly Block[] = [
  { paragraph: 'Use this template when a practice, or the federation for its practices, plans a new system or a change to one that processes patients’ or staff’s personal data. UK GDPR Article 35 requires a DPIA where processing is likely to result in a high risk to people; health data about many patients usually is. Start it early, keep it specific and send it to your data protection officer (DPO) before anything is signed.' },
  { paragraph: 'The text in grey italics is guidance: replace it with your answers, then delete it.', guidance: true },
  { table: [['Document control', ''], ['System or change', ''], ['Practice(s) or organisation', ''], ['Project lead', ''], ['Data protection officer', ''], ['Caldicott Guardian', ''], ['Version and date', '']], widths: [3200, 6300] },
  { heading: 1, text: '1. Why a DPIA is needed' },
  { paragraph: 'Say what the system does, for whom, and why a DPIA is needed: special category (health) data, new technology, data shared with another organisation, automated decisions, or large numbers of people.', guidance: true },
  { table: [['Your answer'], ['']], widths: [9500] },
  { heading: 1, text: '2. The processing' },
  { table: [['Question', 'Answer'], ['What personal data, and which of it is special category data?', ''], ['Whose data (patients, carers, staff) and roughly how many people?', ''], ['Where does the data come from (for example EMIS Web, patients themselves)?', ''], ['Who can see it, in which roles?', ''], ['Where is it stored (country, supplier’s data centre) and for how long?', ''], ['Does any data leave the practice? To whom, how and how is it protected?', ''], ['Which supplier, and is there a contract with data processing terms (Article 28)?', ''], ['The supplier’s Data Security and Protection Toolkit status', '']], widths: [4700, 4800] },
  { heading: 1, text: '3. The lawful basis' },
  { table: [['Basis', 'Answer'], ['UK GDPR Article 6', 'For example 6(1)(e): a task in the public interest, for NHS-funded care'], ['UK GDPR Article 9 (special category data)', 'For example 9(2)(h): health or social care'], ['Common law duty of confidentiality', 'For example implied consent, for individual care'], ['Does the national data opt-out apply?', 'It applies only to uses beyond individual care, such as research or planning']], widths: [4700, 4800] },
  { heading: 1, text: '4. Who was consulted' },
  { paragraph: 'List who you asked and what changed because of it. Consider:', guidance: true },
  { bullets: ['the Caldicott Guardian and the DPO', 'the clinical safety officer (see section 8)', 'staff who will use it, including reception and administration', 'the patient participation group, for anything patients see or use', 'the supplier'] },
  { table: [['Who', 'When', 'What they said', 'What we changed'], ['', '', '', '']], widths: [2200, 1300, 3000, 3000] },
  { heading: 1, text: '5. Necessity and proportionality' },
  { table: [['Question', 'Answer'], ['Is each data item needed for the purpose? What did you leave out?', ''], ['How is the data kept accurate (for example, checking mobile numbers before messages are sent)?', ''], ['How will patients be told (privacy notice, practice website, leaflets)?', ''], ['How can people use their rights (access, rectification, objection)?', ''], ['When and how is data deleted at the end of its retention period?', '']], widths: [4700, 4800] },
  { heading: 1, text: '6. Risks to people' },
  { paragraph: 'Describe each risk to the people whose data it is (not to the practice), and score it. Likelihood: remote, possible or probable. Severity: minimal, significant or severe.', guidance: true },
  { table: [['Risk', 'Likelihood', 'Severity', 'Overall'], ['For example: a message reaches the wrong person because a mobile number is out of date', '', '', ''], ['For example: supplier staff see records without a need to', '', '', ''], ['For example: data is kept longer than it is needed', '', '', ''], ['', '', '', '']], widths: [4900, 1500, 1500, 1600] },
  { heading: 1, text: '7. Measures to reduce the risks' },
  { table: [['Risk', 'Measure', 'Effect (eliminated, reduced, accepted)', 'Residual risk', 'Approved by'], ['', '', '', '', ''], ['', '', '', '', '']], widths: [2000, 2900, 1800, 1300, 1500] },
  { heading: 1, text: '8. Clinical safety (DCB0160)' },
  { paragraph: 'A system that supports care also needs a clinical risk assessment under DCB0160. Record where it is, so the two assessments refer to each other.', guidance: true },
  { table: [['Question', 'Answer'], ['Does the supplier have a DCB0129 safety case? Its reference', ''], ['Our hazard log reference', ''], ['Clinical safety officer', '']], widths: [4700, 4800] },
  { heading: 1, text: '9. Sign-off' },
  { table: [['Item', 'Name and date', 'Notes'], ['Measures approved by', '', 'Include them in the project plan, with owners and dates'], ['Residual risks approved by', '', 'A high residual risk must be discussed with the ICO before processing starts'], ['DPO’s advice', '', 'Summarise the advice'], ['DPO’s advice accepted or overruled', '', 'If overruled, say why'], ['Caldicott Guardian', '', ''], ['Date of the next review', '', 'At least every two years, and whenever the processing changes']], widths: [3000, 2500, 4000] },
  { paragraph: 'Shared by Demo Riverside GP Federation on Peer Academy under Creative Commons Attribution 4.0 (CC BY 4.0). Its sections follow the structure of the ICO’s sample DPIA template.' },
];

const WORD_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';

/** The DPIA template as a Word document: real heading styles, bulleted lists and tables whose first row repeats. */
export function dpiaTemplate(at: Date): DemoFile {
  const body = [
    paragraph(DPIA_TITLE, { style: 'Title' }),
    ...DPIA.map((block) => {
      if ('heading' in block) return paragraph(block.text, { style: `Heading${block.heading}` });
      if ('bullets' in block) return block.bullets.map((b) => paragraph(b, { style: 'ListParagraph', bullet: true })).join('');
      if ('table' in block) return table(block.table, block.widths);
      return paragraph(block.paragraph, { italic: block.guidance });
    }),
  ].join('');
  const document = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document ${WORD_NS}><w:body>${body}<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1134" w:header="709" w:footer="709" w:gutter="0"/></w:sectPr></w:body></w:document>`;
  const styles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles ${WORD_NS}><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Arial" w:hAnsi="Arial" w:eastAsia="Arial" w:cs="Arial"/><w:sz w:val="22"/><w:szCs w:val="22"/><w:lang w:val="en-GB"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="276" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>
<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:spacing w:after="240"/></w:pPr><w:rPr><w:b/><w:color w:val="005EB8"/><w:sz w:val="40"/><w:szCs w:val="40"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="360" w:after="120"/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:b/><w:sz w:val="30"/><w:szCs w:val="30"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="240" w:after="120"/><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:b/><w:sz w:val="26"/><w:szCs w:val="26"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="ListParagraph"><w:name w:val="List Paragraph"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:ind w:left="720"/><w:spacing w:after="60"/></w:pPr></w:style>
<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>
<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:basedOn w:val="TableNormal"/><w:pPr><w:spacing w:before="60" w:after="60"/></w:pPr><w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="768692"/><w:left w:val="single" w:sz="4" w:space="0" w:color="768692"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="768692"/><w:right w:val="single" w:sz="4" w:space="0" w:color="768692"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="768692"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="768692"/></w:tblBorders></w:tblPr></w:style>
</w:styles>`;
  const numbering = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:numbering ${WORD_NS}><w:abstractNum w:abstractNumId="0"><w:multiLevelType w:val="singleLevel"/><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/><w:lvlJc w:val="left"/><w:pPr><w:ind w:left="720" w:hanging="360"/></w:pPr></w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num></w:numbering>`;
  const stamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const entries: ZipEntry[] = [
    {
      name: '[Content_Types].xml',
      data: Buffer.from(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/word/numbering.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>`),
    },
    {
      name: '_rels/.rels',
      data: Buffer.from(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>`),
    },
    {
      name: 'word/_rels/document.xml.rels',
      data: Buffer.from(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering" Target="numbering.xml"/></Relationships>`),
    },
    { name: 'word/document.xml', data: Buffer.from(document) },
    { name: 'word/styles.xml', data: Buffer.from(styles) },
    { name: 'word/numbering.xml', data: Buffer.from(numbering) },
    {
      name: 'docProps/core.xml',
      data: Buffer.from(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>${xml(DPIA_TITLE)}</dc:title><dc:creator>Demo Riverside GP Federation</dc:creator><dc:language>en-GB</dc:language><dcterms:created xsi:type="dcterms:W3CDTF">${stamp}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">${stamp}</dcterms:modified></cp:coreProperties>`),
    },
    {
      name: 'docProps/app.xml',
      data: Buffer.from(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Peer Academy</Application></Properties>`),
    },
  ];
  return { fileName: 'dpia-template-general-practice.docx', contentType: DOCX_TYPE, bytes: zipArchive(entries, at) };
}

// ---------------------------------------------------------------------------------------------------------------
// The change-freeze calendar (CSV) for the financial year the date falls in

const DAY = 86_400_000;
const utc = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d));
const iso = (d: Date) => d.toISOString().slice(0, 10);
const plusDays = (d: Date, n: number) => new Date(d.getTime() + n * DAY);

/** Easter Sunday of `year` (the anonymous Gregorian algorithm). */
export function easterSunday(year: number): Date {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return utc(year, month, day);
}

/** The first `weekday` (0 Sunday … 6 Saturday) of a month, or the last one. */
function weekdayOf(year: number, month: number, weekday: number, which: 'first' | 'last'): Date {
  if (which === 'first') {
    const first = utc(year, month, 1);
    return plusDays(first, (weekday - first.getUTCDay() + 7) % 7);
  }
  const last = utc(year, month + 1, 0);
  return plusDays(last, -((last.getUTCDay() - weekday + 7) % 7));
}

/** The day before a bank holiday weekend begins: the Friday before a Monday. */
const workingDayBefore = (d: Date) => plusDays(d, d.getUTCDay() === 1 ? -3 : -1);

type FreezeRow = [from: Date, to: Date, kind: 'Freeze' | 'Caution' | 'Change window', why: string, systems: string, exceptions: string];

/** The calendar of a UK financial year (1 April to 31 March): the one `at` falls in, or the next when it begins within four months. */
export function changeFreezeCalendar(at: Date): DemoFile {
  const ahead = new Date(at.getTime() + 120 * DAY);
  const start = ahead.getUTCMonth() >= 3 ? ahead.getUTCFullYear() : ahead.getUTCFullYear() - 1;
  const first = utc(start, 4, 1);
  const last = utc(start + 1, 3, 31);
  const inYear = (d: Date) => d >= first && d <= last;
  const rows: FreezeRow[] = [];
  const bankHoliday = (day: Date, name: string) => rows.push([workingDayBefore(day), day, 'Freeze', `${name} bank holiday: a short-staffed weekend, with no supplier cover for most systems`, 'All clinical systems', 'Director on call']);
  for (const year of [start, start + 1]) {
    const easter = easterSunday(year);
    const goodFriday = plusDays(easter, -2);
    if (inYear(goodFriday)) rows.push([plusDays(goodFriday, -1), plusDays(easter, 1), 'Freeze', 'Easter: Good Friday to Easter Monday, four days of reduced cover', 'All clinical systems', 'Director on call']);
  }
  bankHoliday(weekdayOf(start, 5, 1, 'first'), 'Early May');
  bankHoliday(weekdayOf(start, 5, 1, 'last'), 'Spring');
  bankHoliday(weekdayOf(start, 8, 1, 'last'), 'Summer');
  const changeover = weekdayOf(start, 8, 3, 'first');
  rows.push([plusDays(changeover, -2), plusDays(changeover, 2), 'Freeze', 'Resident doctors’ August changeover: new doctors learning the systems (check your own rota for the smaller changeovers)', 'EPR, ePrescribing, order communications', 'Chief clinical information officer']);
  rows.push([utc(start, 6, 16), utc(start, 6, 30), 'Caution', 'Data Security and Protection Toolkit deadline (30 June): no changes to access control or audit logging', 'Identity, e-mail, audit logging', 'Information governance lead']);
  rows.push([utc(start, 10, 1), utc(start, 11, 30), 'Caution', 'Flu and COVID-19 vaccination campaign: booking and recording must not be interrupted', 'Appointment booking, patient messaging, GP clinical systems', 'Head of operations']);
  rows.push([utc(start, 12, 18), utc(start + 1, 1, 2), 'Freeze', 'Christmas and New Year: bank holidays, leave and winter pressures together', 'All systems', 'Director on call']);
  rows.push([utc(start + 1, 1, 3), utc(start + 1, 2, 28 + (isLeap(start + 1) ? 1 : 0)), 'Caution', 'Winter pressures: changes that affect patient flow need the operational lead’s agreement', 'EPR, bed management, patient flow', 'Operational lead']);
  rows.push([utc(start + 1, 3, 24), utc(start + 1, 3, 31), 'Freeze', 'Financial year end: finance, payroll and activity reporting must close cleanly', 'Finance, payroll, activity reporting', 'Director of finance']);
  rows.sort((a, b) => a[0].getTime() - b[0].getTime());
  const all: FreezeRow[] = [[first, last, 'Change window', 'Planned changes go in on Tuesday to Thursday, 18:00 to 22:00, outside the freezes below, after the change advisory board', 'All systems', 'Change advisory board'], ...rows];
  const document = csvDocument([['From', 'To', 'Kind', 'Why', 'Systems', 'Exceptions approved by'], ...all.map(([from, to, ...rest]) => [iso(from), iso(to), ...rest])]);
  return { fileName: `change-freeze-calendar-${start}-${String((start + 1) % 100).padStart(2, '0')}.csv`, contentType: 'text/csv', bytes: Buffer.from(document, 'utf8') };
}

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

// ---------------------------------------------------------------------------------------------------------------
// The password-reset runbook's script (PowerShell) and the phishing case study's figures (CSV)

const PASSWORD_RESET_SCRIPT = String.raw`<#
.SYNOPSIS
    Resets a member of staff's Active Directory password, after the service desk's call-back check.

.DESCRIPTION
    The runbook, step by step. The script does steps 5 to 7; the analyst does the rest.

      1. Log the call in the service desk tool before anything else, and note the ticket number.
      2. Do not reset anything on this call. Hang up and ring back on the number in the staff
         directory, never a number the caller gives. No number in the directory: ask the person's
         line manager to confirm who they are on a video call.
      3. Ask what they were doing when it stopped working. Several lockouts in a day usually mean
         an old password saved on a phone or a mapped drive: say so, or the account locks again.
      4. Privileged (administrator) accounts are never reset by the service desk: the script
         refuses them. Pass those to the infrastructure team, who reset them in person.
      5. Run this script with the account name and the ticket number.
      6. Read the temporary password to the person on the call-back, once. Never e-mail or text it.
      7. They must choose a new password when they next sign in: the script sets this, and unlocks
         the account if it was locked.
      8. If they sign in by tapping a smartcard or badge (single sign-on), the first tap after the
         reset asks for the new password once.
      9. NHSmail passwords are not reset here: NHSmail has its own self-service reset, and the
         organisation's NHSmail local administrators can reset them in the NHSmail portal.

.PARAMETER SamAccountName
    The account name (pre-Windows 2000 logon name), as in the ticket.

.PARAMETER Ticket
    The service desk ticket number, such as INC0123456.

.PARAMETER LogPath
    Where the reset is recorded: one line per reset (when, who did it, whose account, the ticket),
    never the password.

.EXAMPLE
    .\Reset-StaffPassword.ps1 -SamAccountName jsmith -Ticket INC0123456

.EXAMPLE
    .\Reset-StaffPassword.ps1 -SamAccountName jsmith -Ticket INC0123456 -WhatIf
    Says what it would do, and changes nothing.

.NOTES
    Needs the ActiveDirectory module (RSAT) and the service desk's delegated right to reset
    passwords in the staff organisational units. Runs on Windows PowerShell 5.1 and PowerShell 7.
    Shared by Demo Community Health NHS Trust on Peer Academy under the Open Government Licence v3.0.
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)]
    [ValidatePattern('^[A-Za-z0-9._-]{1,20}$')]
    [string]$SamAccountName,

    [Parameter(Mandatory)]
    [ValidatePattern('^(INC|REQ|RITM)\d{6,10}$')]
    [string]$Ticket,

    [string]$LogPath = '\\fileserver\servicedesk$\password-resets.csv'
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
Import-Module ActiveDirectory

$privilegedGroups = @('Domain Admins', 'Enterprise Admins', 'Schema Admins', 'Administrators', 'Account Operators', 'Server Operators', 'Backup Operators', 'Print Operators')

$user = Get-ADUser -Identity $SamAccountName -Properties MemberOf, Enabled, LockedOut, AdminCount
if (-not $user.Enabled) {
    throw "$SamAccountName is disabled. Leavers are disabled on purpose: check with their line manager and HR before anything else."
}
if ($user.AdminCount -eq 1) {
    throw "$SamAccountName is, or was, a privileged account: the infrastructure team resets these in person."
}
$groups = @($user.MemberOf | ForEach-Object { (Get-ADGroup -Identity $_).Name })
if ($groups | Where-Object { $privilegedGroups -contains $_ }) {
    throw "$SamAccountName is in a privileged group: the infrastructure team resets these in person."
}

# Fourteen random characters without look-alikes (no 0, O, 1, l or I), so it can be read over the phone,
# drawn until it has an upper-case letter, a lower-case letter and a digit.
$alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789'
$random = [System.Security.Cryptography.RandomNumberGenerator]::Create()
do {
    $bytes = New-Object byte[] 14
    $random.GetBytes($bytes)
    $temporary = -join ($bytes | ForEach-Object { $alphabet[$_ % $alphabet.Length] })
} until ($temporary -cmatch '[A-Z]' -and $temporary -cmatch '[a-z]' -and $temporary -match '[0-9]')

if ($PSCmdlet.ShouldProcess($SamAccountName, 'Reset the password and require a new one at next sign-in')) {
    Set-ADAccountPassword -Identity $user -Reset -NewPassword (ConvertTo-SecureString -String $temporary -AsPlainText -Force)
    Set-ADUser -Identity $user -ChangePasswordAtLogon $true
    if ($user.LockedOut) { Unlock-ADAccount -Identity $user }
    [pscustomobject]@{
        When     = (Get-Date).ToString('s')
        Analyst  = $env:USERNAME
        Account  = $SamAccountName
        Ticket   = $Ticket
        Unlocked = [bool]$user.LockedOut
    } | Export-Csv -Path $LogPath -Append -NoTypeInformation -Encoding UTF8
    Write-Host "Temporary password for $($SamAccountName): $temporary"
    Write-Host "Read it once, on the call-back. Record the call-back in $Ticket."
}
`;

export function passwordResetScript(): DemoFile {
  return { fileName: 'Reset-StaffPassword.ps1', contentType: 'text/plain', bytes: Buffer.from(PASSWORD_RESET_SCRIPT.replace(/\n/g, '\r\n'), 'utf8') };
}

export function phishingSimulationResults(): DemoFile {
  const rows: Array<[string, string, number, number, number, number]> = [
    ['Baseline (January)', 'A parcel delivery that needs a fee', 3104, 19.2, 6.0, 3.0],
    ['Quarter 1', 'A payroll correction', 3090, 12.5, 3.1, 14.0],
    ['Quarter 2', 'A shared document from a colleague', 3121, 8.3, 2.0, 24.0],
    ['Quarter 3', 'Your smartcard is about to expire', 3135, 6.0, 1.4, 31.0],
    ['Quarter 4', 'A staff survey with a prize draw', 3150, 4.1, 0.9, 38.0],
  ];
  const document = csvDocument([
    ['Simulation', 'Lure', 'E-mails sent', 'Clicked the link (%)', 'Entered a password (%)', 'Reported it (%)'],
    ...rows.map(([simulation, lure, sent, ...percentages]) => [simulation, lure, sent, ...percentages.map((p) => p.toFixed(1))]),
  ]);
  return { fileName: 'phishing-simulation-results.csv', contentType: 'text/csv', bytes: Buffer.from(document, 'utf8') };
}

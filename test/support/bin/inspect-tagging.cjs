'use strict';
// Reads a PDF from stdin and prints JSON about its tagging (ISO 32000-1 §14.7-14.9, PDF/UA's basics), read with
// pdf-lib: the catalog's MarkInfo, Lang, ViewerPreferences and XMP metadata, the Info title, the structure tree
// (types, Lang, Alt, marked-content ids), the parent tree, and the page's marked-content sequences in order.
// With `--ink`, it also renders each marked-content sequence alone (pdftoppm) and gives its ink's bounding box
// in PDF points, so tests can check that no two things on the page overlap. With `--only N`, it prints the
// PDF with a page showing only the marked-content sequence whose MCID is N.
const { execFileSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const zlib = require('node:zlib');
const { PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, PDFNumber, PDFRawStream, PDFRef, PDFString } = require('pdf-lib');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const data = Buffer.concat(chunks);
  const pdf = await PDFDocument.load(data, { updateMetadata: false });
  const { context } = pdf;
  const resolve = (value) => (value instanceof PDFRef ? context.lookup(value) : value);
  const get = (dict, key) => (dict instanceof PDFDict ? resolve(dict.get(PDFName.of(key))) : undefined);
  const text = (value) => (value instanceof PDFString || value instanceof PDFHexString ? value.decodeText() : value instanceof PDFName ? value.decodeText() : undefined);
  const catalog = pdf.catalog;
  const markInfo = get(catalog, 'MarkInfo');
  const viewer = get(catalog, 'ViewerPreferences');
  const metadata = get(catalog, 'Metadata');
  const info = resolve(context.trailerInfo.Info);

  // The structure tree, from the root down, with each element's marked-content ids (numbers among its kids).
  const elements = [];
  const refOf = new Map();
  function walk(node) {
    const element = { type: text(get(node, 'S')), lang: text(get(node, 'Lang')), alt: text(get(node, 'Alt')), actualText: text(get(node, 'ActualText')), mcids: [], kids: [] };
    const attributes = get(node, 'A');
    const bbox = attributes && get(attributes, 'BBox');
    if (bbox instanceof PDFArray) element.bbox = bbox.asArray().map((v) => resolve(v).asNumber());
    elements.push(element);
    const k = get(node, 'K');
    const kids = k instanceof PDFArray ? k.asArray() : k === undefined ? [] : [k];
    for (const kid of kids) {
      if (kid instanceof PDFNumber) element.mcids.push(kid.asNumber());
      else if (kid instanceof PDFRef) {
        const child = context.lookup(kid);
        refOf.set(child, kid.toString());
        if (get(child, 'Type') && text(get(child, 'Type')) === 'MCR') element.mcids.push(get(child, 'MCID').asNumber());
        else element.kids.push(walk(child));
      }
    }
    return element;
  }
  const root = get(catalog, 'StructTreeRoot');
  const rootKids = root ? get(root, 'K') : undefined;
  const tree = rootKids instanceof PDFArray ? rootKids.asArray().map((r) => walk(resolve(r))) : rootKids ? [walk(rootKids)] : [];
  const parentTree = {};
  const nums = root && get(get(root, 'ParentTree'), 'Nums');
  if (nums instanceof PDFArray) {
    const list = nums.asArray();
    for (let i = 0; i < list.length; i += 2) {
      const parents = resolve(list[i + 1]);
      parentTree[list[i].asNumber()] = parents instanceof PDFArray ? parents.asArray().map((p) => text(get(resolve(p), 'S'))) : [];
    }
  }

  const page = pdf.getPage(0).node;
  const contents = resolve(page.get(PDFName.of('Contents')));
  if (!(contents instanceof PDFRawStream)) throw new Error('expected one content stream');
  const source = zlib.inflateSync(Buffer.from(contents.contents)).toString('latin1');
  const sequences = markedContent(source);

  /** The same PDF with a page showing only `sequence` (recoloured black when `black`). */
  const alone = async (sequence, black) => {
    const copy = await PDFDocument.load(data, { updateMetadata: false });
    let content = source.slice(sequence.start, sequence.end);
    if (black) content = content.replace(/[\d.]+ [\d.]+ [\d.]+ rg/g, '0 0 0 rg');
    copy.getPage(0).node.set(PDFName.of('Contents'), copy.context.register(copy.context.flateStream(Buffer.from(content, 'latin1'))));
    return Buffer.from(await copy.save({ useObjectStreams: false, updateFieldAppearances: false }));
  };
  const only = process.argv.indexOf('--only');
  if (only > 0) {
    const mcid = Number(process.argv[only + 1]);
    const sequence = sequences.find((s) => s.mcid === mcid);
    if (!sequence) throw new Error(`no marked content with MCID ${mcid}`);
    process.stdout.write(await alone(sequence, false));
    return;
  }

  const result = {
    catalog: {
      marked: get(markInfo, 'Marked')?.asBoolean?.() ?? false,
      lang: text(get(catalog, 'Lang')),
      displayDocTitle: get(viewer, 'DisplayDocTitle')?.asBoolean?.() ?? false,
      metadata: metadata instanceof PDFRawStream ? { subtype: text(metadata.dict.get(PDFName.of('Subtype'))), filtered: metadata.dict.has(PDFName.of('Filter')), xml: Buffer.from(metadata.contents).toString('utf8') } : null,
    },
    info: { title: text(get(info, 'Title')) },
    page: { structParents: get(page, 'StructParents')?.asNumber(), tabs: text(get(page, 'Tabs')) },
    tree,
    // The same elements in document order, without their kids, for look-ups.
    elements: elements.map(({ kids, ...element }) => ({ ...element, kids: kids.length })),
    parentTree,
    sequences: sequences.map(({ tag, mcid, actualText, depth, hasText }) => ({ tag, mcid, actualText, depth, hasText })),
    textOutsideMarkedContent: sequences.unmarkedText,
  };

  if (process.argv.includes('--ink')) {
    const dir = mkdtempSync(join(tmpdir(), 'inspect-tagging-'));
    try {
      const dpi = 144;
      const { width, height } = pdf.getPage(0).getSize();
      result.ink = {};
      for (const sequence of sequences.filter((s) => s.mcid !== undefined)) {
        const file = join(dir, `mcid-${sequence.mcid}.pdf`);
        // Painted black, so that white text (the academy's name on its band) shows on the white page too.
        writeFileSync(file, await alone(sequence, true));
        execFileSync('pdftoppm', ['-gray', '-r', String(dpi), '-singlefile', file, join(dir, `mcid-${sequence.mcid}`)]);
        const box = inkBox(readFileSync(join(dir, `mcid-${sequence.mcid}.pgm`)));
        const k = 72 / dpi;
        // In PDF points, y upwards: [x1, y1, x2, y2].
        result.ink[sequence.mcid] = box && [box.left * k, height - (box.bottom + 1) * k, (box.right + 1) * k, height - box.top * k].map((v) => Math.round(v * 100) / 100);
      }
      result.pageSize = [width, height];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  process.stdout.write(JSON.stringify(result));
}

/**
 * The marked-content sequences of a content stream (BMC/BDC … EMC), with the source range of each, its tag,
 * MCID and ActualText, how deeply it is nested, and whether it shows text; and whether any text is shown
 * outside every sequence. A small tokenizer: hex strings, literal strings, dictionaries, names, numbers, operators.
 */
function markedContent(source) {
  const tokens = [];
  const pattern = /<<|>>|<[0-9A-Fa-f\s]*>|\((?:\\.|[^\\)])*\)|\/[^\s/<>[\]()]+|\[|\]|[^\s/<>[\]()]+/g;
  for (let m; (m = pattern.exec(source)); ) tokens.push({ value: m[0], start: m.index, end: m.index + m[0].length });
  const sequences = [];
  const stack = [];
  let operandsStart = 0;
  let unmarkedText = false;
  for (let i = 0; i < tokens.length; i++) {
    const { value } = tokens[i];
    if (value === 'BMC' || value === 'BDC') {
      const operands = tokens.slice(operandsStart, i);
      const tag = operands[0].value.slice(1);
      const dict = operands.slice(1).map((t) => t.value).join(' ');
      const mcid = /\/MCID (\d+)/.exec(dict);
      const actual = /\/ActualText <([0-9A-Fa-f]*)>/.exec(dict);
      const sequence = { tag, mcid: mcid ? Number(mcid[1]) : undefined, actualText: actual ? utf16(actual[1]) : undefined, depth: stack.length, start: operands[0].start, hasText: false };
      sequences.push(sequence);
      stack.push(sequence);
    } else if (value === 'EMC') {
      const sequence = stack.pop();
      if (!sequence) throw new Error('EMC without BMC/BDC');
      sequence.end = tokens[i].end;
    } else if (value === 'Tj' || value === 'TJ' || value === "'" || value === '"') {
      if (stack.length === 0) unmarkedText = true;
      for (const open of stack) open.hasText = true;
    }
    if (/^[A-Za-z'"*]+$/.test(value) && !['true', 'false', 'null'].includes(value)) operandsStart = i + 1;
  }
  if (stack.length) throw new Error('BMC/BDC without EMC');
  sequences.unmarkedText = unmarkedText;
  return sequences;
}

function utf16(hex) {
  const bytes = Buffer.from(hex, 'hex');
  const start = bytes[0] === 0xfe && bytes[1] === 0xff ? 2 : 0;
  let out = '';
  for (let i = start; i + 1 < bytes.length; i += 2) out += String.fromCharCode(bytes.readUInt16BE(i));
  return out;
}

/** The bounding box of the pixels darker than white in a binary PGM (P5), or null when there are none. */
function inkBox(pgm) {
  const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(pgm.toString('latin1', 0, 64));
  const [width, height] = [Number(header[1]), Number(header[2])];
  const pixels = pgm.subarray(header[0].length);
  let box = null;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (pixels[y * width + x] >= 250) continue;
      if (!box) box = { left: x, right: x, top: y, bottom: y };
      else {
        if (x < box.left) box.left = x;
        if (x > box.right) box.right = x;
        if (y < box.top) box.top = y;
        if (y > box.bottom) box.bottom = y;
      }
    }
  }
  return box;
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});

// Reads JSON from stdin — { font, text, size, x, y, colour: [r, g, b], page: [width, height], direction? } —
// (and `unshaped: true` for the control: each character's own glyph, side by side, no shaping at all)
// and prints a one-page PDF that draws `text` as HarfBuzz shapes it in `font`: the whole font file embedded
// (no subset), each glyph placed on its own by HarfBuzz's advances and offsets. A known-good rendering of the
// text, independent of the certificate writer (its shaper, font choice, subsetting and positioning), for the
// rendered-page checks to compare against. A separate process: harfbuzzjs is an ES module with top-level await.
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import * as hb from 'harfbuzzjs';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const data = readFileSync(input.font);
const face = new hb.Face(new hb.Blob(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)), 0);
const font = new hb.Font(face);
const buffer = new hb.Buffer();
buffer.addText(input.text);
buffer.guessSegmentProperties();
if (input.direction) buffer.setDirection(input.direction === 'rtl' ? hb.Direction.RTL : hb.Direction.LTR);
hb.shape(font, buffer);
let infos = buffer.getGlyphInfos();
let positions = buffer.getGlyphPositions();
if (input.unshaped) {
  infos = Array.from(input.text, (char) => ({ codepoint: font.nominalGlyph(char.codePointAt(0)) ?? 0 }));
  positions = infos.map((info) => ({ xAdvance: font.glyphHAdvance(info.codepoint), xOffset: 0, yOffset: 0 }));
}

const n = (v) => String(Math.round(v * 1000) / 1000);
const scale = input.size / face.upem;
let pen = 0;
const ops = [`BT ${input.colour.map(n).join(' ')} rg /F1 ${n(input.size)} Tf`];
const glyphs = [];
infos.forEach((info, i) => {
  const p = positions[i];
  const gx = input.x + (pen + p.xOffset) * scale;
  const gy = input.y + p.yOffset * scale;
  ops.push(`1 0 0 1 ${n(gx)} ${n(gy)} Tm <${info.codepoint.toString(16).padStart(4, '0')}> Tj`);
  glyphs.push(info.codepoint);
  pen += p.xAdvance;
});
ops.push('ET');

const objects = [];
const add = (body) => objects.push(typeof body === 'string' ? Buffer.from(body, 'latin1') : body) && objects.length;
const stream = (bytes, entries = '') => {
  const deflated = deflateSync(bytes);
  return add(Buffer.concat([Buffer.from(`<< /Length ${deflated.length} /Filter /FlateDecode ${entries} >>\nstream\n`, 'latin1'), deflated, Buffer.from('\nendstream', 'latin1')]));
};
const program = stream(data, `/Length1 ${data.length}`);
const descriptor = add(`<< /Type /FontDescriptor /FontName /Reference /Flags 4 /FontBBox [0 -1000 2000 2000] /ItalicAngle 0 /Ascent 1000 /Descent -300 /CapHeight 700 /StemV 80 /FontFile2 ${program} 0 R >>`);
const cidFont = add(`<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Reference /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor ${descriptor} 0 R /DW 0 /CIDToGIDMap /Identity >>`);
const type0 = add(`<< /Type /Font /Subtype /Type0 /BaseFont /Reference /Encoding /Identity-H /DescendantFonts [${cidFont} 0 R] >>`);
const content = stream(Buffer.from(ops.join('\n'), 'latin1'));
const pagesRef = objects.length + 2;
const page = add(`<< /Type /Page /Parent ${pagesRef} 0 R /MediaBox [0 0 ${n(input.page[0])} ${n(input.page[1])}] /Resources << /Font << /F1 ${type0} 0 R >> >> /Contents ${content} 0 R >>`);
const pages = add(`<< /Type /Pages /Kids [${page} 0 R] /Count 1 >>`);
if (pages !== pagesRef) throw new Error('object numbering changed');
const catalog = add(`<< /Type /Catalog /Pages ${pages} 0 R >>`);

const parts = [Buffer.from('%PDF-1.7\n', 'latin1')];
const offsets = [];
let offset = parts[0].length;
objects.forEach((body, i) => {
  const object = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`, 'latin1'), body, Buffer.from('\nendobj\n', 'latin1')]);
  offsets.push(offset);
  offset += object.length;
  parts.push(object);
});
const xref = ['xref', `0 ${objects.length + 1}`, '0000000000 65535 f ', ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n `)].join('\n');
parts.push(Buffer.from(`${xref}\ntrailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R >>\nstartxref\n${offset}\n%%EOF\n`, 'latin1'));
process.stderr.write(JSON.stringify({ glyphs }));
process.stdout.write(Buffer.concat(parts));

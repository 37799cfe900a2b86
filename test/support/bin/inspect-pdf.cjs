'use strict';
// Reads a PDF from stdin and prints JSON: its text (pdf-parse) and what the QR codes among its images
// decode to (jsQR). A separate process, so these ESM-heavy libraries need no test transform.
const zlib = require('node:zlib');
const { PDFParse } = require('pdf-parse');
const { PDFDocument, PDFName, PDFRawStream } = require('pdf-lib');
const jsQR = require('jsqr');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const data = Buffer.concat(chunks);
  const parser = new PDFParse({ data: new Uint8Array(data) });
  const { text } = await parser.getText();
  await parser.destroy();
  const pdf = await PDFDocument.load(data);
  const qrCodes = [];
  for (const [, object] of pdf.context.enumerateIndirectObjects()) {
    if (!(object instanceof PDFRawStream) || object.dict.get(PDFName.of('Subtype')) !== PDFName.of('Image')) continue;
    const width = object.dict.get(PDFName.of('Width')).asNumber();
    const height = object.dict.get(PDFName.of('Height')).asNumber();
    const raw = zlib.inflateSync(Buffer.from(object.contents));
    const channels = raw.length / (width * height);
    // Drawn large on the page, as a viewer shows it: each image pixel becomes SCALE x SCALE screen pixels.
    const SCALE = 8;
    const w = width * SCALE;
    const h = height * SCALE;
    const rgba = new Uint8ClampedArray(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const source = (Math.floor(y / SCALE) * width + Math.floor(x / SCALE)) * channels;
        const target = (y * w + x) * 4;
        const grey = channels === 1;
        rgba[target] = raw[source];
        rgba[target + 1] = raw[source + (grey ? 0 : 1)];
        rgba[target + 2] = raw[source + (grey ? 0 : 2)];
        rgba[target + 3] = 255;
      }
    }
    const code = jsQR(rgba, w, h);
    if (code) qrCodes.push(code.data);
  }
  process.stdout.write(JSON.stringify({ text, qrCodes, pages: pdf.getPageCount(), size: pdf.getPage(0).getSize() }));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});

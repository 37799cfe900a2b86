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
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      const grey = channels === 1;
      rgba[i * 4] = raw[i * channels];
      rgba[i * 4 + 1] = raw[i * channels + (grey ? 0 : 1)];
      rgba[i * 4 + 2] = raw[i * channels + (grey ? 0 : 2)];
      rgba[i * 4 + 3] = 255;
    }
    const code = jsQR(rgba, width, height);
    if (code) qrCodes.push(code.data);
  }
  process.stdout.write(JSON.stringify({ text, qrCodes, pages: pdf.getPageCount(), size: pdf.getPage(0).getSize() }));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});

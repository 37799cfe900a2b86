import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

/**
 * A PDF file written object by object (ISO 32000-1 §7.5): numbered objects, a cross-reference table and a
 * trailer. Certificates need a handful of objects, most of them the same in every file, so this writes
 * them directly: no object model to build, no JavaScript deflate, and the same input gives the same bytes.
 */
export class PdfFile {
  private readonly bodies: Array<Buffer | null> = [];

  /** A number for an object written later (for objects that refer to each other). */
  reserve(): number {
    this.bodies.push(null);
    return this.bodies.length;
  }

  /** Writes a dictionary, array or other direct value as object `ref` (or a new object); returns its number. */
  set(ref: number, body: string | Buffer): number {
    this.bodies[ref - 1] = typeof body === 'string' ? Buffer.from(body, 'latin1') : body;
    return ref;
  }

  add(body: string | Buffer): number {
    return this.set(this.reserve(), body);
  }

  /** A stream object; `entries` are the dictionary's other entries. `data` is deflated unless `deflated` says it already is. */
  stream(data: Buffer, entries = '', deflated?: { length1?: number }): number {
    const bytes = deflated ? data : deflateSync(data);
    const length1 = deflated?.length1 === undefined ? '' : ` /Length1 ${deflated.length1}`;
    return this.add(Buffer.concat([Buffer.from(`<< /Length ${bytes.length}${length1} /Filter /FlateDecode${entries ? ` ${entries}` : ''} >>\nstream\n`, 'latin1'), bytes, Buffer.from('\nendstream', 'latin1')]));
  }

  /** A stream object written as it is, unfiltered (metadata, which readers may look for by scanning the file). */
  plainStream(data: Buffer, entries: string): number {
    return this.add(Buffer.concat([Buffer.from(`<< /Length ${data.length} ${entries} >>\nstream\n`, 'latin1'), data, Buffer.from('\nendstream', 'latin1')]));
  }

  /** The whole file. The ID is a digest of the objects, so it too depends only on what the file says. */
  toBuffer(root: number, info: number): Buffer {
    const header = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1');
    const parts: Buffer[] = [header];
    const offsets: number[] = [];
    let offset = header.length;
    const digest = createHash('md5');
    this.bodies.forEach((body, index) => {
      if (!body) throw new Error(`PDF object ${index + 1} was reserved but never written`);
      const object = Buffer.concat([Buffer.from(`${index + 1} 0 obj\n`, 'latin1'), body, Buffer.from('\nendobj\n', 'latin1')]);
      offsets.push(offset);
      offset += object.length;
      parts.push(object);
      digest.update(body);
    });
    const id = digest.digest('hex');
    const xref = ['xref', `0 ${this.bodies.length + 1}`, '0000000000 65535 f ', ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n `)].join('\n');
    const trailer = `trailer\n<< /Size ${this.bodies.length + 1} /Root ${root} 0 R /Info ${info} 0 R /ID [<${id}> <${id}>] >>\nstartxref\n${offset}\n%%EOF\n`;
    parts.push(Buffer.from(`${xref}\n${trailer}`, 'latin1'));
    return Buffer.concat(parts);
  }
}

/** A number as PDF writes it: no exponent, at most three decimals. */
export const num = (value: number): string => String(Math.round(value * 1000) / 1000);

/** Any text as a PDF text string: UTF-16BE with its byte-order mark, in hex, so nothing needs escaping. */
export function textString(text: string): string {
  let hex = 'FEFF';
  for (let i = 0; i < text.length; i++) hex += text.charCodeAt(i).toString(16).padStart(4, '0');
  return `<${hex}>`;
}

/** A date as PDF writes it (§7.9.4), in UTC. */
export function pdfDate(date: Date): string {
  const iso = date.toISOString();
  return `(D:${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z)`;
}

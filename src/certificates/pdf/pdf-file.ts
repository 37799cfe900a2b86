import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

/**
 * A PDF file written object by object (ISO 32000-1 §7.5): numbered objects, a cross-reference table and a
 * trailer. Certificates need a handful of objects, most of them the same in every file, so this writes
 * them directly: no object model to build, no JavaScript deflate, and the same input gives the same bytes.
 */
export class PdfFile {
  private readonly bodies: Array<Buffer | null> = [];
  /** What the file's ID digests for an object, when not its body: a digest of a large body that never changes. */
  private readonly digestAs = new Map<number, string>();

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

  /**
   * A stream object; `entries` are the dictionary's other entries. `data` is deflated unless `deflated` says it
   * already is; `deflated.digest` stands for the data in the file's ID (for data that is the same in every file).
   */
  stream(data: Buffer, entries = '', deflated?: { length1?: number; digest?: string }): number {
    const bytes = deflated ? data : deflate(data);
    const length1 = deflated?.length1 === undefined ? '' : ` /Length1 ${deflated.length1}`;
    const dictionary = `<< /Length ${bytes.length}${length1} /Filter /FlateDecode${entries ? ` ${entries}` : ''} >>\nstream\n`;
    const ref = this.add(Buffer.concat([Buffer.from(dictionary, 'latin1'), bytes, Buffer.from('\nendstream', 'latin1')]));
    if (deflated?.digest) this.digestAs.set(ref, `${dictionary}${deflated.digest}`);
    return ref;
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
    const end = Buffer.from('\nendobj\n', 'latin1');
    this.bodies.forEach((body, index) => {
      if (!body) throw new Error(`PDF object ${index + 1} was reserved but never written`);
      const start = Buffer.from(`${index + 1} 0 obj\n`, 'latin1');
      offsets.push(offset);
      offset += start.length + body.length + end.length;
      parts.push(start, body, end);
      digest.update(this.digestAs.get(index + 1) ?? body);
    });
    const id = digest.digest('hex');
    const xref = ['xref', `0 ${this.bodies.length + 1}`, '0000000000 65535 f ', ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n `)].join('\n');
    const trailer = `trailer\n<< /Size ${this.bodies.length + 1} /Root ${root} 0 R /Info ${info} 0 R /ID [<${id}> <${id}>] >>\nstartxref\n${offset}\n%%EOF\n`;
    parts.push(Buffer.from(`${xref}\n${trailer}`, 'latin1'));
    return Buffer.concat(parts);
  }
}

/**
 * Deflated (zlib, level 6). A small stream gets a window just larger than itself: it compresses as well as
 * with the full 32 KB window, for half the work of setting one up.
 */
export function deflate(data: Buffer): Buffer {
  const windowBits = Math.min(15, Math.max(10, Math.ceil(Math.log2(data.length + 262))));
  return deflateSync(data, { windowBits });
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

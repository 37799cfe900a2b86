import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { FILE_KINDS, FileContentError, kindForName, requireContent, RESOURCE_KINDS } from './content-check';
import { FileTooLargeError } from './file-storage';
import { LocalFileStorage } from './local-file-storage';

const chunks = (...parts: Buffer[]) => Readable.from(parts);
const read = async (stream: Readable) => Buffer.concat(await stream.toArray());

describe('local file storage', () => {
  const root = mkdtempSync(join(tmpdir(), 'storage-'));
  const storage = new LocalFileStorage(root);

  it('streams a file in, reports its size and SHA-256, and reads it back whole or by range', async () => {
    const body = Buffer.from('0123456789'.repeat(1000));
    const stored = await storage.put('lessons/1/a.csv', chunks(body.subarray(0, 3000), body.subarray(3000)));
    expect(stored).toEqual({ key: 'lessons/1/a.csv', bytes: 10_000, sha256: createHash('sha256').update(body).digest('hex') });
    expect(await storage.size('lessons/1/a.csv')).toBe(10_000);
    expect((await read(storage.open('lessons/1/a.csv'))).equals(body)).toBe(true);
    expect((await read(storage.open('lessons/1/a.csv', { start: 10, end: 14 }))).toString()).toBe('01234');
  });

  it('refuses a file over the limit and keeps nothing, not even a partial file', async () => {
    await expect(storage.put('lessons/2/big.csv', chunks(Buffer.alloc(600, 65), Buffer.alloc(600, 65)), { maxBytes: 1000 })).rejects.toBeInstanceOf(FileTooLargeError);
    expect(await storage.size('lessons/2/big.csv')).toBeNull();
    expect(readdirSync(join(root, 'lessons', '2'))).toEqual([]);
  });

  it('runs the content check on the first bytes before keeping the file', async () => {
    const pdf = FILE_KINDS.pdf;
    await expect(storage.put('lessons/3/x.pdf', chunks(Buffer.from('MZ\x90\x00 not a pdf')), { inspect: requireContent(pdf) })).rejects.toBeInstanceOf(FileContentError);
    expect(await storage.size('lessons/3/x.pdf')).toBeNull();
    const ok = await storage.put('lessons/3/y.pdf', chunks(Buffer.from('%PDF-1.7\n'), Buffer.alloc(10_000, 32)), { inspect: requireContent(pdf) });
    expect(ok.bytes).toBe(10_009);
  });

  it('writes bytes already in memory whole, making the folder when it is missing, and leaves no partial file', async () => {
    const body = Buffer.from('%PDF-1.7\n certificate');
    expect(await storage.putBytes('certificates/new/ABCD.pdf', body)).toEqual({ key: 'certificates/new/ABCD.pdf', bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    expect((await read(storage.open('certificates/new/ABCD.pdf'))).equals(body)).toBe(true);
    await storage.putBytes('certificates/new/ABCD.pdf', Buffer.from('replaced'));
    expect((await read(storage.open('certificates/new/ABCD.pdf'))).toString()).toBe('replaced');
    expect(readdirSync(join(root, 'certificates', 'new'))).toEqual(['ABCD.pdf']);
    await expect(storage.putBytes('../escape.pdf', body)).rejects.toThrow('Invalid storage key');
  });

  it('never lets a key reach outside its folder', async () => {
    await expect(storage.put('../escape.txt', chunks(Buffer.from('x')))).rejects.toThrow('Invalid storage key');
    expect(() => storage.open('a/../../b')).toThrow('Invalid storage key');
  });
});

describe('content check', () => {
  it('judges by the bytes: a ZIP named .docx passes, an executable named .pdf or a binary named .csv does not', () => {
    expect(kindForName('Plan.DOCX', RESOURCE_KINDS)?.mimeType).toContain('wordprocessingml');
    expect(kindForName('virus.exe', RESOURCE_KINDS)).toBeNull();
    expect(FILE_KINDS.docx.matches(Buffer.from([0x50, 0x4b, 0x03, 0x04, 1, 2]))).toBe(true);
    expect(FILE_KINDS.pdf.matches(Buffer.from('MZ\x90\x00'))).toBe(false);
    expect(FILE_KINDS.csv.matches(Buffer.from('name,role\nAda,CSO\n'))).toBe(true);
    expect(FILE_KINDS.csv.matches(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01]))).toBe(false);
    expect(FILE_KINDS.mp4.matches(Buffer.from('\x00\x00\x00\x20ftypisom', 'latin1'))).toBe(true);
    expect(FILE_KINDS.vtt.matches(Buffer.from('WEBVTT\n\n00:00.000 --> 00:01.000\nHi'))).toBe(true);
  });
});

describe('byte ranges', () => {
  it('resolves the forms a video player sends, and refuses ranges past the end', async () => {
    const { parseRange, contentDisposition } = await import('./serve-file');
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange('bytes=0-', 100)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=10-19', 100)).toEqual({ start: 10, end: 19 });
    expect(parseRange('bytes=90-200', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull();
    expect(contentDisposition('Hazard log – template.csv')).toBe(`attachment; filename="Hazard log _ template.csv"; filename*=UTF-8''Hazard%20log%20%E2%80%93%20template.csv`);
  });
});

describe('abandoned writes', () => {
  it('removes .partial files older than the cut-off, and nothing else', async () => {
    const { mkdirSync, writeFileSync, utimesSync, existsSync } = await import('node:fs');
    const root = mkdtempSync(join(tmpdir(), 'storage-sweep-'));
    const storage = new LocalFileStorage(root);
    mkdirSync(join(root, 'certificates'), { recursive: true });
    const old = join(root, 'certificates', 'AAAA.pdf.1a2b.partial');
    const recent = join(root, 'certificates', 'BBBB.pdf.3c4d.partial');
    const kept = join(root, 'certificates', 'CCCC.pdf');
    for (const file of [old, recent, kept]) writeFileSync(file, 'x');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000);
    utimesSync(old, twoDaysAgo, twoDaysAgo);
    utimesSync(kept, twoDaysAgo, twoDaysAgo);
    expect(await storage.removeAbandonedWrites(new Date(Date.now() - 24 * 3600_000))).toBe(1);
    expect([existsSync(old), existsSync(recent), existsSync(kept)]).toEqual([false, true, true]);
  });
});

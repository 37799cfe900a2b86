import { createReadStream, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_CONTENT_DIR } from '../../demo/demo.seeder';
import { LocalFileStorage } from '../../storage/local-file-storage';
import { mp4DurationSeconds, ReadBytes, storedFileReader } from './video-duration';

const box = (type: string, body: Buffer) => {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
};

/** A box with a 64-bit "largesize" header. */
const largeBox = (type: string, body: Buffer) => {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(1, 0);
  header.write(type, 4, 'latin1');
  header.writeBigUInt64BE(BigInt(16 + body.length), 8);
  return Buffer.concat([header, body]);
};

function mvhd(version: 0 | 1, timescale: number, duration: number) {
  const body = Buffer.alloc(version === 0 ? 100 : 112);
  body[0] = version;
  if (version === 0) {
    body.writeUInt32BE(timescale, 12);
    body.writeUInt32BE(duration, 16);
  } else {
    body.writeUInt32BE(timescale, 20);
    body.writeBigUInt64BE(BigInt(duration), 24);
  }
  return box('mvhd', body);
}

const ftyp = box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2', 'latin1'));

/** Reads from a buffer, counting the bytes asked for. */
function bufferReader(file: Buffer) {
  const reader = { bytesRead: 0, read: (async (start, length) => {
    const slice = file.subarray(start, Math.min(file.length, start + length));
    reader.bytesRead += slice.length;
    return slice;
  }) as ReadBytes };
  return reader;
}

describe('MP4 duration', () => {
  it('reads the demo video (73 s) from its stored file through ranged reads', async () => {
    const path = join(DEMO_CONTENT_DIR, 'media', 'what-is-a-clinical-hazard.mp4');
    const storage = new LocalFileStorage(mkdtempSync(join(tmpdir(), 'mp4-')));
    const stored = await storage.put('v/demo.mp4', createReadStream(path));
    expect(await mp4DurationSeconds(storedFileReader(storage, 'v/demo.mp4', stored.bytes), stored.bytes)).toBe(73);
    const file = readFileSync(path);
    const counted = bufferReader(file);
    expect(await mp4DurationSeconds(counted.read, file.length)).toBe(73);
    expect(counted.bytesRead).toBeLessThan(200);
  });

  it('finds moov after the media data, behind a 64-bit box, and reads version 1 headers', async () => {
    const mdat = largeBox('mdat', Buffer.alloc(50_000, 7));
    const file = Buffer.concat([ftyp, mdat, box('moov', Buffer.concat([box('iods', Buffer.alloc(8)), mvhd(1, 90_000, 90_000 * 125 + 40_000)]))]);
    const counted = bufferReader(file);
    expect(await mp4DurationSeconds(counted.read, file.length)).toBe(125);
    expect(counted.bytesRead).toBeLessThan(200);
    const v0 = Buffer.concat([ftyp, box('moov', mvhd(0, 600, 600 * 42))]);
    expect(await mp4DurationSeconds(bufferReader(v0).read, v0.length)).toBe(42);
  });

  it('gives null for a file without a movie header, a zero or unknown duration, or a broken box size', async () => {
    const cases = [
      Buffer.concat([ftyp, box('mdat', Buffer.alloc(100))]),
      Buffer.concat([ftyp, box('moov', mvhd(0, 1000, 0))]),
      Buffer.concat([ftyp, box('moov', mvhd(0, 0, 1000))]),
      Buffer.concat([ftyp, box('moov', mvhd(0, 1000, 0xffffffff))]),
      Buffer.concat([ftyp, Buffer.from([0, 0, 0, 3]), Buffer.from('moov')]),
      Buffer.concat([ftyp, Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from('moov'), Buffer.alloc(20)]),
      Buffer.from('not a video at all'),
    ];
    for (const file of cases) expect(await mp4DurationSeconds(bufferReader(file).read, file.length)).toBeNull();
  });
});

import type { FileStorage } from '../../storage/file-storage';

/** Reads `length` bytes from `start` (fewer at the end of the file). */
export type ReadBytes = (start: number, length: number) => Promise<Buffer>;

/** Byte reads of one stored file, through ranged opens: only the bytes asked for leave the disk. */
export function storedFileReader(storage: FileStorage, key: string, size: number): ReadBytes {
  return async (start, length) => {
    const end = Math.min(size, start + length) - 1;
    if (start < 0 || end < start) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    for await (const chunk of storage.open(key, { start, end })) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
}

interface Box {
  type: string;
  /** Offset of the box's body (after its header). */
  bodyStart: number;
  /** Offset just past the box. */
  end: number;
}

const MAX_BOXES = 4096;

/** The first box of `type` between `start` and `end`, walking sibling boxes with one header read each. */
async function findBox(read: ReadBytes, start: number, end: number, type: string): Promise<Box | null> {
  let offset = start;
  for (let seen = 0; offset + 8 <= end && seen < MAX_BOXES; seen++) {
    const header = await read(offset, 16);
    if (header.length < 8) return null;
    let size = header.readUInt32BE(0);
    const boxType = header.toString('latin1', 4, 8);
    let headerSize = 8;
    if (size === 1) {
      // A 64-bit "largesize" follows the type.
      if (header.length < 16) return null;
      const large = header.readBigUInt64BE(8);
      if (large > BigInt(Number.MAX_SAFE_INTEGER)) return null;
      size = Number(large);
      headerSize = 16;
    } else if (size === 0) {
      // The box runs to the end of its container (in practice, of the file).
      size = end - offset;
    }
    if (size < headerSize || offset + size > end) return null;
    if (boxType === type) return { type: boxType, bodyStart: offset + headerSize, end: offset + size };
    offset += size;
  }
  return null;
}

/**
 * An MP4's length in whole seconds, from its movie header: the top-level `moov` box, then its `mvhd`
 * (timescale and duration; version 0 has 32-bit times, version 1 64-bit). `moov` may sit at the start
 * ("fast start") or after the media data; either way only a few box headers are read, never the media.
 * Null when there is no readable, non-zero duration (a broken or fragmented file).
 */
export async function mp4DurationSeconds(read: ReadBytes, size: number): Promise<number | null> {
  const moov = await findBox(read, 0, size, 'moov');
  if (!moov) return null;
  const mvhd = await findBox(read, moov.bodyStart, moov.end, 'mvhd');
  if (!mvhd) return null;
  const body = await read(mvhd.bodyStart, Math.min(32, mvhd.end - mvhd.bodyStart));
  if (body.length < 1) return null;
  const version = body[0];
  let timescale: number;
  let duration: number;
  if (version === 0) {
    if (body.length < 20) return null;
    timescale = body.readUInt32BE(12);
    const raw = body.readUInt32BE(16);
    if (raw === 0xffffffff) return null;
    duration = raw;
  } else if (version === 1) {
    if (body.length < 32) return null;
    timescale = body.readUInt32BE(20);
    const raw = body.readBigUInt64BE(24);
    if (raw === 0xffffffffffffffffn || raw > BigInt(Number.MAX_SAFE_INTEGER)) return null;
    duration = Number(raw);
  } else {
    return null;
  }
  if (!timescale || !duration) return null;
  return Math.max(1, Math.round(duration / timescale));
}

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ByteRange, FileStorage, StoredFile } from './file-storage';
import { MeterAndCheck } from './meter-and-check';

/** Files under one folder (DATA_DIR/files). Writes go to a temporary file renamed into place when complete. */
export class LocalFileStorage extends FileStorage {
  constructor(private readonly root: string) {
    super();
  }

  async put(key: string, source: Readable, options: { maxBytes?: number; inspect?: (head: Buffer) => void } = {}): Promise<StoredFile> {
    const meter = new MeterAndCheck(options.maxBytes ?? Number.MAX_SAFE_INTEGER, options.inspect);
    await this.writeAtomically(key, async (partial) => {
      await mkdir(dirname(partial), { recursive: true });
      await pipeline(source, meter, createWriteStream(partial, { flags: 'wx' }));
    });
    return { key, bytes: meter.bytes, sha256: meter.hash.digest('hex') };
  }

  async putBytes(key: string, bytes: Buffer): Promise<StoredFile> {
    await this.writeAtomically(key, async (partial) => {
      // Certificates go by the thousand into one folder that almost always exists: it is made only when missing.
      await writeFile(partial, bytes, { flag: 'wx' }).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        await mkdir(dirname(partial), { recursive: true });
        await writeFile(partial, bytes, { flag: 'wx' });
      });
    });
    return { key, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }

  /** Writes to a temporary name beside the target, then renames it into place, so readers never see half a file. */
  private async writeAtomically(key: string, write: (partial: string) => Promise<void>): Promise<void> {
    const target = this.pathOf(key);
    const partial = `${target}.${randomBytes(6).toString('hex')}.partial`;
    try {
      await write(partial);
      await rename(partial, target);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  async size(key: string): Promise<number | null> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? info.size : null;
    } catch {
      return null;
    }
  }

  open(key: string, range?: ByteRange): Readable {
    return createReadStream(this.pathOf(key), range ? { start: range.start, end: range.end } : {});
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async removeAbandonedWrites(before: Date): Promise<number> {
    let removed = 0;
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isFile() || !entry.name.endsWith('.partial')) continue;
      const path = join(entry.parentPath, entry.name);
      const info = await stat(path).catch(() => null);
      if (info && info.mtime < before) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Keys are ours, but a key must still never reach outside the root. */
  private pathOf(key: string): string {
    if (!/^[\w][\w./-]*$/.test(key) || key.split('/').includes('..')) throw new Error(`Invalid storage key: ${key}`);
    const path = resolve(this.root, key);
    if (!path.startsWith(resolve(this.root) + sep)) throw new Error(`Invalid storage key: ${key}`);
    return path;
  }
}

export const localStorageRoot = (dataDir: string) => join(dataDir, 'files');

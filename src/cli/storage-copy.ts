import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from '../config/config';
import { isValidStorageKey } from '../storage/file-storage';
import { localStorageRoot } from '../storage/local-file-storage';
import { S3FileStorage } from '../storage/s3-file-storage';

const USAGE = 'Usage: STORAGE_URL=s3://bucket?endpoint=… npm run storage:copy\nCopies every file under DATA_DIR/files to the bucket, under the same key; files already there with the same size are skipped.';
/** Files copied at once: enough to keep a network link busy, few enough not to crowd a small server. */
const AT_ONCE = 4;

const megabytes = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;

/**
 * `npm run storage:copy`: the one-off move from the local disk to a bucket. Every file under DATA_DIR/files goes
 * to the bucket STORAGE_URL names under the key it had on disk, so the database's keys stay right; a file the
 * bucket already has at the same size is skipped, so the command can be run again after a failure or while the
 * old disk is still being written to (run it once more after the last process on local disk has stopped).
 */
async function main() {
  if (process.argv.includes('--help')) return console.log(USAGE);
  const config = loadConfig();
  if (!config.objectStorage) throw new ConfigError(`storage:copy copies files to the bucket that STORAGE_URL names: set STORAGE_URL (and the AWS_ credentials).\n${USAGE}`);
  // Each failure is said once, below, by the file it concerns.
  Logger.overrideLogger(false);
  const root = localStorageRoot(config.dataDir);
  const bucket = new S3FileStorage(config.objectStorage);
  try {
    await bucket.checkBucket();
    const files = await localFiles(root);
    console.log(`Copying ${files.length} files from ${root} to ${bucket.describe()}`);
    const totals = { copied: 0, copiedBytes: 0, skipped: 0, failed: 0, ignored: 0 };
    let next = 0;
    const copyNext = async (): Promise<void> => {
      for (let file = files[next++]; file; file = files[next++]) {
        const key = relative(root, file.path).split(sep).join('/');
        if (!isValidStorageKey(key)) {
          totals.ignored++;
          console.log(`  ignored ${key}: not a key the academy makes`);
          continue;
        }
        try {
          if ((await bucket.size(key)) === file.bytes) {
            totals.skipped++;
            continue;
          }
          const stored = await bucket.put(key, createReadStream(file.path));
          totals.copied++;
          totals.copiedBytes += stored.bytes;
        } catch (err) {
          totals.failed++;
          console.error(`  failed ${key}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: AT_ONCE }, copyNext));
    console.log(
      `Copied ${totals.copied} files (${megabytes(totals.copiedBytes)}), skipped ${totals.skipped} already in the bucket` +
        (totals.ignored ? `, ignored ${totals.ignored}` : '') +
        (totals.failed ? `, ${totals.failed} failed: run it again` : ''),
    );
    if (totals.failed) process.exitCode = 1;
  } finally {
    bucket.close();
  }
}

/** Every whole file under the root (not the `.partial` files of writes in progress or cut short). */
async function localFiles(root: string): Promise<Array<{ path: string; bytes: number }>> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const files = [];
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.endsWith('.partial')) continue;
    const path = join(entry.parentPath, entry.name);
    files.push({ path, bytes: (await stat(path)).size });
  }
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : `storage:copy failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

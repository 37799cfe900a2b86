import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The project folder (holding package.json), whether we run from src/ with ts or from dist/src/. */
function findProjectRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${start}`);
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findProjectRoot(__dirname);
export const VIEWS_DIR = join(PROJECT_ROOT, 'views');
export const PUBLIC_DIR = join(PROJECT_ROOT, 'public');
export const NHSUK_DIR = join(PROJECT_ROOT, 'node_modules', 'nhsuk-frontend', 'dist', 'nhsuk');

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_ACTION_LABELS } from './audit-log.reader';

/** Every .ts file under a folder (not specs). */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('audit action labels', () => {
  it('names in words every action code the academy records', () => {
    const codes = new Set<string>();
    for (const file of sources(join(__dirname, '..'))) {
      for (const match of readFileSync(file, 'utf8').matchAll(/action:[^,\n]*/g)) {
        for (const code of match[0].matchAll(/'([a-z_]+\.[a-z_]+)'/g)) codes.add(code[1]);
      }
    }
    expect(codes.size).toBeGreaterThan(15);
    expect([...codes].filter((code) => !AUDIT_ACTION_LABELS[code])).toEqual([]);
  });
});

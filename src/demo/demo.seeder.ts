import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccountsService, DEMO_AUTHOR_EMAIL } from '../accounts/accounts.service';
import { CourseDefinition, CourseImporter } from '../catalogue/course-importer';
import { Clock } from '../common/clock';
import { PROJECT_ROOT } from '../common/paths';
import { FileStorage } from '../storage/file-storage';
import { seedDemoWebinars } from './webinar-seeder';

export const DEMO_CONTENT_DIR = join(PROJECT_ROOT, 'src', 'demo', 'content');

/**
 * Demo content for the embedded default, created at the first start: one account per role (random passwords,
 * shown once in the console, so no known password ships with the code) and the demo courses, written by
 * the project, in src/demo/content/, and the demo webinars (src/demo/content/webinars/, times relative to the
 * first start). Safe to run at every start: what exists is left alone.
 */
export async function seedDemo(app: INestApplicationContext, publicUrl: string, print: (line: string) => void): Promise<void> {
  const accountsService = app.get(AccountsService);
  const accounts = await accountsService.seedDemoAccounts();
  if (accounts.length) {
    print('');
    print(`Demo accounts (shown once; sign in at ${publicUrl}/sign-in):`);
    for (const { role, email, password } of accounts) print(`  ${role.padEnd(12)} ${email.padEnd(34)} ${password}`);
    print('');
  }
  const authorId = await accountsService.userIdByEmail(DEMO_AUTHOR_EMAIL);
  if (!authorId) return;
  await seedDemoCourses(app.get(CourseImporter), app.get(FileStorage), authorId);
  // After the courses: their topics, and the demo video the past webinar's recording is.
  await seedDemoWebinars(app.get(DataSource), app.get(FileStorage), authorId, join(DEMO_CONTENT_DIR, 'webinars'), app.get(Clock).now());
}

/** The demo courses and their files (copied into storage as `demo/<path>`, like any uploaded file). */
export async function seedDemoCourses(importer: CourseImporter, storage: FileStorage, authorId: number): Promise<number> {
  await copyDemoFiles(storage);
  const dir = join(DEMO_CONTENT_DIR, 'courses');
  let created = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const definition = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CourseDefinition;
    if ((await importer.import(definition, authorId, (path) => `demo/${path}`)) === 'created') created++;
  }
  return created;
}

/** Copies the demo media and resources into storage as `demo/<folder>/<name>` (again only when the size differs). */
export async function copyDemoFiles(storage: FileStorage): Promise<void> {
  for (const folder of ['media', 'resources']) {
    for (const name of readdirSync(join(DEMO_CONTENT_DIR, folder))) {
      const path = join(DEMO_CONTENT_DIR, folder, name);
      const key = `demo/${folder}/${name}`;
      if ((await storage.size(key)) !== statSync(path).size) await storage.put(key, createReadStream(path));
    }
  }
}

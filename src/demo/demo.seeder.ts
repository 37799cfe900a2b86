import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccountsService, DEMO_ADMIN_EMAIL, DEMO_AUTHOR_EMAIL } from '../accounts/accounts.service';
import { CourseDefinition, CourseImporter } from '../catalogue/course-importer';
import { Clock } from '../common/clock';
import { PROJECT_ROOT } from '../common/paths';
import { FileStorage } from '../storage/file-storage';
import { seedDemoDiscussions } from './discussion-seeder';
import { seedDemoExchange } from './exchange-seeder';
import { inDemoHistory, seedDemoOrganisations } from './organisation-seeder';
import { seedDemoWebinars } from './webinar-seeder';

export const DEMO_CONTENT_DIR = join(PROJECT_ROOT, 'src', 'demo', 'content');

/**
 * Demo content for the embedded default, created at the first start: one account per role (random passwords,
 * shown once in the console, so no known password ships with the code) and the demo courses, written by
 * the project, in src/demo/content/; three demo organisations with their managers, staff, progress and
 * requirements (organisation-seeder.ts: a story of the past fourteen months, told through the Clock, so the
 * accounts and courses are made at its beginning); the demo exchange with its moderator (exchange-seeder.ts: case
 * studies, tools and hacks shared over the same story, and peer profiles); the demo discussions (discussion-seeder.ts:
 * communities and the conversations in them and on the courses); and the demo webinars
 * (src/demo/content/webinars/, times relative to the first start). Safe to run at every start: what exists is left
 * alone.
 */
export async function seedDemo(app: INestApplicationContext, publicUrl: string, print: (line: string) => void): Promise<void> {
  const accountsService = app.get(AccountsService);
  const fresh = !(await accountsService.userIdByEmail(DEMO_ADMIN_EMAIL));
  const { accounts, authorId } = await inDemoHistory(app.get(Clock), async (history) => {
    // On a fresh start the accounts and courses are made where the organisations' story begins.
    if (fresh) history.goTo(history.start);
    const accounts: Array<{ role: string; email: string; password: string }> = await accountsService.seedDemoAccounts();
    const authorId = await accountsService.userIdByEmail(DEMO_AUTHOR_EMAIL);
    if (!authorId) return { accounts, authorId };
    await seedDemoCourses(app.get(CourseImporter), app.get(FileStorage), authorId);
    accounts.push(...(await seedDemoOrganisations(app, history)));
    return { accounts, authorId };
  });
  // The exchange's story is told over the same months, after the organisations' (its clock starts again in the past).
  if (authorId) accounts.push(...(await inDemoHistory(app.get(Clock), (history) => seedDemoExchange(app, history))));
  // Then the discussions, again over the same months: communities, questions and answers between the same people.
  if (authorId) await inDemoHistory(app.get(Clock), (history) => seedDemoDiscussions(app, history));
  if (accounts.length) {
    const width = Math.max(34, ...accounts.map((a) => a.email.length));
    print('');
    print(`Demo accounts (shown once; sign in at ${publicUrl}/sign-in):`);
    for (const { role, email, password } of accounts) print(`  ${role.padEnd(12)} ${email.padEnd(width)} ${password}`);
    print('');
  }
  if (!authorId) return;
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

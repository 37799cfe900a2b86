import { DataSource } from 'typeorm';
import { CatalogueService } from '../../src/catalogue/catalogue.service';
import { Course } from '../../src/catalogue/entities/course.entity';
import { startTestApp, TestApp } from '../support/app';
import { course } from '../support/courses';
import { usingRealEngines } from '../support/engines';

/**
 * The catalogue's in-memory caches (its pages and searches, the anonymous home page) are per process. A change made
 * through one instance clears them there at once and, through a live message on Redis, on every other instance.
 */
describe('catalogue caches across instances', () => {
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    first = await startTestApp();
    // Another instance of the same academy: the same database, Redis prefix and files. On embedded defaults there is
    // no second instance to have (SQLite is one process's file), so this is the one instance again.
    second = usingRealEngines() ? await startTestApp({ ...first.engines.env }) : first;
  });
  afterAll(async () => {
    if (second !== first) await second.app.close();
    await first.close();
  });

  const search = async (t: TestApp, q: string) => (await t.visitor().get(`/courses?q=${encodeURIComponent(q)}`)).body;

  it('shows a course published through one instance in the other instance\'s catalogue at once', async () => {
    const author = await first.signedIn('author');
    // Both instances have the search cached: the course is not there yet.
    expect(await search(first, 'Interoperability sandbox')).not.toContain('Interoperability sandbox drills');
    expect(await search(second, 'Interoperability sandbox')).not.toContain('Interoperability sandbox drills');

    const drafted = await course(first, { title: 'Interoperability sandbox drills', status: 'draft', authorId: author.userId });
    await first.app.get(DataSource).getRepository(Course).update({ id: drafted.id }, { status: 'published', publishedAt: new Date() });
    // What the authoring service does after it commits a publication.
    const subscribed = second.app.get(CatalogueService);
    first.app.get(CatalogueService).catalogueChanged();

    expect(await search(first, 'Interoperability sandbox')).toContain('Interoperability sandbox drills');
    // Well within the caches' own lifetime (10 s): only the live message can have cleared it.
    const deadline = Date.now() + 3000;
    let seen = false;
    while (!seen && Date.now() < deadline) {
      seen = (await search(second, 'Interoperability sandbox')).includes('Interoperability sandbox drills');
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(seen).toBe(true);
    expect(subscribed.generation).toBeGreaterThan(0);
  });

  it('moves every instance to a new catalogue generation (the key of the pages cached from it, My learning\'s among them)', async () => {
    const home = second.app.get(CatalogueService);
    const generation = home.generation;
    first.app.get(CatalogueService).catalogueChanged();
    const deadline = Date.now() + 3000;
    while (home.generation === generation && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(home.generation).toBeGreaterThan(generation);
  });
});

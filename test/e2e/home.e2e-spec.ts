import { Clock } from '../../src/common/clock';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { fullCourse } from '../support/courses';

type Signed = Visitor & { userId: number; email: string; password: string };

describe('home page', () => {
  let t: TestApp;
  let author: Signed;

  beforeAll(async () => {
    t = await startTestApp();
    author = await t.signedIn('author');
  });
  afterAll(() => t?.close());

  async function enrol(learner: Visitor, slug: string) {
    await learner.get(`/courses/${slug}`);
    expect((await learner.submit(`/courses/${slug}/enrol`, {})).status).toBe(303);
  }

  it('shows a signed-in learner where they left off: the course worked on last, its progress and a link to its next lesson', async () => {
    const first = await fullCourse(t, author.userId, 'Hazard logs at home');
    const second = await fullCourse(t, author.userId, 'FHIR at home');
    const learner = await t.signedIn('learner');

    // Nothing started: no such section, and "Browse the courses" is the page's main button.
    const empty = await learner.get('/');
    expect(empty.body).not.toContain('Continue where you left off');
    expect(empty.body).toContain('<a class="nhsuk-button" data-module="nhsuk-button" href="/courses"');

    await enrol(learner, first.course.slug);
    t.app.get(Clock).travel(60_000);
    await enrol(learner, second.course.slug);
    // Back to the first course a few minutes later: it is now the one worked on last.
    t.app.get(Clock).travel(5 * 60_000);
    expect((await learner.submit(`/courses/${first.course.slug}/lessons/${first.text.id}/complete`, {})).status).toBe(303);

    const home = await learner.get('/');
    expect(home.status).toBe(200);
    const section = /<section class="nhsuk-card" id="continue-learning"[\s\S]*?<\/section>/.exec(home.body)?.[0] ?? '';
    expect(section).toContain('Continue where you left off');
    expect(section).toContain(`<a href="/courses/${first.course.slug}">Hazard logs at home</a>`);
    expect(section).toMatch(/<progress class="academy-progress__bar" max="100" value="25"/);
    expect(section).toContain('25% complete');
    expect(section).toContain('Next lesson: What is a clinical hazard?');
    expect(section).toContain(`href="/courses/${first.course.slug}/lessons/${first.video.id}"`);
    expect(section).toContain('href="/my-learning"');
    expect(section).not.toContain('FHIR at home');
    // The same next lesson as My learning's "Continue".
    expect((await learner.get('/my-learning')).body).toContain(`href="/courses/${first.course.slug}/lessons/${first.video.id}"`);
    // One main button: Continue; browsing the courses is secondary.
    expect(home.body).toContain('<a class="nhsuk-button nhsuk-button--secondary" data-module="nhsuk-button" href="/courses"');

    // Withdrawing from it leaves the other course as the one to continue.
    await learner.get(`/courses/${first.course.slug}`);
    expect((await learner.submit(`/courses/${first.course.slug}/withdraw`, {})).status).toBe(303);
    const after = await learner.get('/');
    expect(after.body).toContain(`<a href="/courses/${second.course.slug}">FHIR at home</a>`);
    expect(after.body).toContain(`href="/courses/${second.course.slug}/lessons/${second.text.id}"`);
  });

  it('shows it to nobody else: not to anonymous visitors, nor to another learner', async () => {
    const c = await fullCourse(t, author.userId, 'Private progress');
    const learner = await t.signedIn('learner');
    await enrol(learner, c.course.slug);
    expect((await learner.get('/')).body).toContain('Continue where you left off');
    expect((await t.visitor().get('/')).body).not.toContain('Continue where you left off');
    const other = await t.signedIn('learner');
    expect((await other.get('/')).body).not.toContain('Continue where you left off');
    expect((await other.get('/')).body).not.toContain(c.course.slug);
  });
});

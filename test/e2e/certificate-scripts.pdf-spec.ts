import { DataSource } from 'typeorm';
import { Course } from '../../src/catalogue/entities/course.entity';
import { Certificate } from '../../src/certificates/certificate.entity';
import { CertificatesService } from '../../src/certificates/certificates.service';
import { Clock } from '../../src/common/clock';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { fullCourse } from '../support/courses';
import { describeWithPoppler, inspectTagging, pdfFonts, pdfToText } from '../support/pdf';

/**
 * Certificates issued end to end (completion → job → stored PDF → download) for learners whose names, and
 * courses whose titles, are in other scripts: what the PDF says must be what the verify page says.
 */
describeWithPoppler('certificates in other scripts, end to end', () => {
  let t: TestApp;
  let ds: DataSource;
  let authorId: number;

  beforeAll(async () => {
    t = await startTestApp({ VERIFY_RATE_LIMIT_PER_MINUTE: '60' });
    ds = t.app.get(DataSource);
    authorId = (await t.signedIn('author')).userId;
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A learner named `name` completes a course titled `title` through the API; returns their certificate once issued. */
  async function certificateFor(name: string, title: string): Promise<{ certificate: Certificate; learner: Visitor }> {
    const c = await fullCourse(t, authorId, `Scripts ${Math.random().toString(36).slice(2, 7)}`);
    await ds.getRepository(Course).update({ id: c.course.id }, { title });
    const learner = await t.signedIn('learner', { name });
    const api = await t.apiClient(learner.email, learner.password);
    expect((await api.request('POST', '/api/v1/enrolments', { json: { courseId: c.course.id } })).status).toBe(201);
    await api.request('POST', `/api/v1/lessons/${c.text.id}/complete`);
    const clock = t.app.get(Clock);
    for (let from = 0; from < 73; from += 10) {
      clock.travel(10_000);
      expect((await api.request('POST', '/api/v1/progress/heartbeat', { json: { lessonId: c.video.id, from, to: Math.min(from + 10, 73) } })).status).toBe(200);
    }
    const [single, multiple] = c.questions;
    const answers = { [single.id]: [single.options[0].id], [multiple.id]: [multiple.options[0].id, multiple.options[1].id] };
    expect((await api.request('POST', `/api/v1/quizzes/${c.quiz.id}/attempts`, { json: { answers } })).json().passed).toBe(true);
    expect((await api.request('POST', `/api/v1/lessons/${c.resource.id}/complete`)).json().courseComplete).toBe(true);
    await t.drainJobs();
    return { certificate: await ds.getRepository(Certificate).findOneByOrFail({ userId: learner.userId }), learner };
  }

  it.each([
    { name: '王秀英', title: 'السلامة السريرية في أنظمة المعلومات الصحية', nameLang: 'zh', titleLang: 'ar', fonts: ['NotoSansSC', 'NotoSansArabic'] },
    { name: 'प्रिया शर्मा', title: '临床安全实践入门', nameLang: 'hi', titleLang: 'zh', fonts: ['NotoSansDevanagari', 'NotoSansSC'] },
    { name: 'สมชาย ใจดี', title: 'Κλινική ασφάλεια στην πράξη', nameLang: 'th', titleLang: undefined, fonts: ['NotoSansThai', 'DejaVuSans'] },
  ])('prints $name and “$title” as the verify page shows them', async ({ name, title, nameLang, titleLang, fonts }) => {
    const { certificate, learner } = await certificateFor(name, title);
    expect(certificate).toMatchObject({ holderName: name, subjectTitle: title, status: 'valid' });

    const download = await learner.get(`/certificates/${certificate.code}.pdf`);
    expect(download.status).toBe(200);
    const text = pdfToText(download.bytes);
    expect(text).toContain(name);
    expect(text).toContain(title);
    expect(text).toContain(`Code: ${certificate.code}`);
    const names = pdfFonts(download.bytes).map((f) => f.name);
    for (const family of fonts) expect(names).toContainEqual(expect.stringMatching(new RegExp(`^[A-Z]{6}\\+${family}`)));

    const tagging = inspectTagging(download.bytes);
    expect(tagging.catalog).toMatchObject({ marked: true, lang: 'en-GB', displayDocTitle: true });
    expect(tagging.info.title).toBe(`Certificate of completion: ${title}`);
    const paragraphs = tagging.elements.filter((e) => e.type === 'P');
    expect([paragraphs[2].lang, paragraphs[4].lang]).toEqual([nameLang, titleLang]);

    const page = await t.visitor().get(`/verify/${certificate.code}`);
    expect(page.body).toContain(name);
    expect(page.body).toContain(title);
    // Rendering the row again gives the stored bytes (the per-document subsets are deterministic too).
    expect(Buffer.compare(await t.app.get(CertificatesService).renderFor(certificate), download.bytes)).toBe(0);
  });
});

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DataSource } from 'typeorm';
import { Lesson } from '../../src/catalogue/entities/lesson.entity';
import { Certificate } from '../../src/certificates/certificate.entity';
import { Clock } from '../../src/common/clock';
import { DEMO_CONTENT_DIR } from '../../src/demo/demo.seeder';
import { FileStorage } from '../../src/storage/file-storage';
import { MultipartPart, startTestApp, TestApp, Visitor } from '../support/app';
import { fullCourse } from '../support/courses';
import { provisionEngines } from '../support/engines';
import { run } from '../support/processes';
import { startS3, TestS3 } from '../support/s3';

type Signed = Visitor & { userId: number; email: string; password: string };

const MP4 = readFileSync(join(DEMO_CONTENT_DIR, 'media', 'what-is-a-clinical-hazard.mp4'));
const file = (filename: string, content: Buffer | string, contentType: string): MultipartPart => ({ name: 'file', filename, content, contentType });

describe('files in an S3 bucket (STORAGE_URL, against s3rver)', () => {
  let s3: TestS3;
  let t: TestApp;
  let raw: S3Client;
  let author: Signed;
  const lesson = (id: number) => t.app.get(DataSource).getRepository(Lesson).findOneByOrFail({ id });
  const keysUnder = async (prefix: string) => ((await raw.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }))).Contents ?? []).map((item) => item.Key);

  beforeAll(async () => {
    s3 = await startS3();
    raw = new S3Client({ region: 'eu-west-2', endpoint: s3.endpoint, forcePathStyle: true });
    // 2 MB: the demo MP4 (880 kB) fits, a 3 MB one does not.
    t = await startTestApp({ ...s3.env, UPLOAD_MAX_MB: '2' });
    author = await t.signedIn('author');
  });
  afterAll(async () => {
    await t?.close();
    raw?.destroy();
    await s3?.close();
  });

  async function enrolled(slug: string): Promise<Signed> {
    const learner = await t.signedIn('learner');
    await learner.get(`/courses/${slug}`);
    expect((await learner.submit(`/courses/${slug}/enrol`, {})).status).toBe(303);
    return learner;
  }

  it('stores an uploaded video in the bucket (not on the disk), and a learner plays it with Range requests', async () => {
    const c = await fullCourse(t, author.userId);
    await author.get(`/author/lessons/${c.video.id}`);
    const uploaded = await author.upload(`/author/lessons/${c.video.id}/file`, [file('Hazards explained.mp4', MP4, 'video/mp4')]);
    expect(uploaded.status).toBe(303);
    const saved = await lesson(c.video.id);
    expect(saved).toMatchObject({ fileType: 'video/mp4', videoSeconds: 73 });
    expect(await keysUnder(`lessons/${c.video.id}/`)).toEqual([saved.fileKey]);
    expect(existsSync(join(t.engines.dataDir, 'files'))).toBe(false);

    const learner = await enrolled(c.course.slug);
    const url = `/courses/${c.course.slug}/lessons/${c.video.id}/video`;
    const whole = await learner.get(url);
    expect(whole.status).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.bytes.equals(MP4)).toBe(true);
    const part = await learner.get(url, { range: 'bytes=1000-263143' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1000-263143/${MP4.length}`);
    expect(part.bytes.equals(MP4.subarray(1000, 263144))).toBe(true);
    const tail = await learner.get(url, { range: 'bytes=-500' });
    expect(tail.status).toBe(206);
    expect(tail.bytes.equals(MP4.subarray(MP4.length - 500))).toBe(true);
    expect((await learner.get(url, { range: `bytes=${MP4.length}-` })).status).toBe(416);
  });

  it('refuses a video over the limit and one whose bytes are not a video, leaving nothing in the bucket', async () => {
    const c = await fullCourse(t, author.userId);
    await author.get(`/author/lessons/${c.video.id}`);
    const tooLarge = await author.upload(`/author/lessons/${c.video.id}/file`, [file('long.mp4', Buffer.concat([MP4.subarray(0, 64), randomBytes(3 * 1024 * 1024)]), 'video/mp4')]);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toContain('The selected file must be smaller than 2 MB');
    const notVideo = await author.upload(`/author/lessons/${c.video.id}/file`, [file('lecture.mp4', 'Plain text, not a video. '.repeat(400), 'video/mp4')]);
    expect(notVideo.status).toBe(400);
    expect(notVideo.body).toContain('not a MP4 video');
    expect(await keysUnder(`lessons/${c.video.id}/`)).toEqual([]);
    expect(await s3.pendingUploads()).toBe(0);
    expect((await lesson(c.video.id)).fileKey).toBe(c.video.fileKey);
  });

  it('stores a certificate PDF in the bucket and lets its holder download it', async () => {
    const c = await fullCourse(t, author.userId, 'Safety cases in the bucket');
    const learner = await t.signedIn('learner', { name: 'Mary Seacole' });
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

    const certificate = await t.app.get(DataSource).getRepository(Certificate).findOneByOrFail({ userId: learner.userId });
    expect(await keysUnder(certificate.fileKey)).toEqual([certificate.fileKey]);
    const download = await learner.get(`/certificates/${certificate.code}.pdf`);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('application/pdf');
    expect(createHash('sha256').update(download.bytes).digest('hex')).toBe(certificate.sha256);
  });

  describe('while the store is down', () => {
    it('answers a video request 503 with a clear page, refuses an upload 503 keeping nothing, and recovers when the store is back', async () => {
      const c = await fullCourse(t, author.userId);
      const learner = await enrolled(c.course.slug);
      await author.get(`/author/lessons/${c.video.id}`);
      const url = `/courses/${c.course.slug}/lessons/${c.video.id}/video`;
      await s3.stop();
      try {
        const down = await learner.get(url, { range: 'bytes=0-262143' });
        expect(down.status).toBe(503);
        expect(down.headers['retry-after']).toBe('60');
        expect(down.body).toContain('Sorry, the service is unavailable');
        expect(down.body).toContain('We cannot reach the file store just now');
        expect((await learner.get(`/courses/${c.course.slug}/lessons/${c.video.id}/captions.vtt`)).status).toBe(503);

        const upload = await author.upload(`/author/lessons/${c.video.id}/file`, [file('Hazards explained.mp4', MP4, 'video/mp4')]);
        expect(upload.status).toBe(503);
        expect(upload.body).toContain('We cannot reach the file store just now');
        expect((await lesson(c.video.id)).fileKey).toBe(c.video.fileKey);
      } finally {
        await s3.start();
      }
      expect(await keysUnder(`lessons/${c.video.id}/`)).toEqual([]);
      const back = await learner.get(url, { range: 'bytes=0-262143' });
      expect(back.status).toBe(206);
      expect(back.bytes.equals(MP4.subarray(0, 262144))).toBe(true);
    });
  });

  it('copies the files of a local install into the bucket with npm run storage:copy, skipping what is already there', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'storage-copy-'));
    try {
      const files = join(dataDir, 'files');
      mkdirSync(join(files, 'lessons', '7'), { recursive: true });
      mkdirSync(join(files, 'certificates'), { recursive: true });
      writeFileSync(join(files, 'lessons', '7', 'talk.mp4'), MP4);
      writeFileSync(join(files, 'certificates', 'ABCD-EFGH-JKLM.pdf'), '%PDF-1.7 certificate');
      writeFileSync(join(files, 'certificates', 'WXYZ.pdf.1a2b3c.partial'), 'half a write');
      const env = { ...s3.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' };

      const first = run('src/cli/storage-copy.ts', env);
      expect(await first.exited).toBe(0);
      expect(first.output().stdout).toContain(`Copying 2 files from ${files} to bucket "${s3.bucket}" at ${s3.endpoint}`);
      expect(first.output().stdout).toContain('Copied 2 files (0.8 MB), skipped 0 already in the bucket');
      expect(await keysUnder('lessons/7/')).toEqual(['lessons/7/talk.mp4']);
      expect(await keysUnder('certificates/ABCD-EFGH-JKLM')).toEqual(['certificates/ABCD-EFGH-JKLM.pdf']);
      expect(await keysUnder('certificates/WXYZ')).toEqual([]);
      const storage = t.app.get(FileStorage);
      expect(Buffer.concat(await storage.open('lessons/7/talk.mp4').toArray()).equals(MP4)).toBe(true);

      // Run again after a file changed on disk: only that one goes again.
      writeFileSync(join(files, 'certificates', 'ABCD-EFGH-JKLM.pdf'), '%PDF-1.7 certificate, reissued');
      const second = run('src/cli/storage-copy.ts', env);
      expect(await second.exited).toBe(0);
      expect(second.output().stdout).toContain('Copied 1 files (0.0 MB), skipped 1 already in the bucket');
      expect(await storage.size('certificates/ABCD-EFGH-JKLM.pdf')).toBe('%PDF-1.7 certificate, reissued'.length);

      const unset = run('src/cli/storage-copy.ts', { DATA_DIR: dataDir });
      expect(await unset.exited).toBe(1);
      expect(unset.output().stderr).toContain('storage:copy copies files to the bucket that STORAGE_URL names');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  describe('at start', () => {
    const start = async (env: Record<string, string>) => {
      const engines = await provisionEngines();
      try {
        const app = run('src/main.ts', { ...engines.env, PORT: '0', HOST: '127.0.0.1', ...env });
        const code = await app.exited;
        return { code, stderr: app.output().stderr.trim() };
      } finally {
        await engines.dispose();
      }
    };

    it('stops with one line naming a malformed STORAGE_URL, a missing bucket or an unreachable endpoint', async () => {
      expect(await start({ ...s3.env, STORAGE_URL: 's3://academy-test?endpont=http://127.0.0.1:9' })).toEqual({
        code: 1,
        stderr: 'Invalid configuration: STORAGE_URL has an unknown parameter "endpont" (known: endpoint, region, forcePathStyle) (got "s3://academy-test?endpont=http://127.0.0.1:9")',
      });
      expect(await start({ ...s3.env, STORAGE_URL: `s3://no-such-bucket?endpoint=${s3.endpoint}` })).toEqual({ code: 1, stderr: `Cannot use STORAGE_URL: there is no bucket "no-such-bucket" at ${s3.endpoint}` });
      const closed = s3.endpoint.replace(/:\d+$/, ':9');
      expect(await start({ ...s3.env, STORAGE_URL: `s3://academy-test?endpoint=${closed}` })).toEqual({ code: 1, stderr: `Cannot use STORAGE_URL: cannot reach the S3 endpoint ${closed} (ECONNREFUSED)` });
    });
  });
});

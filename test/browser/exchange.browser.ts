import { readFileSync } from 'node:fs';
import { Browser, BrowserContext, Download } from 'playwright-core';
import { CheckedPage, launchBrowser } from './support/browser';
import { withServerOutput } from './support/journey';
import { RunningServer, startServer } from './support/server';

/**
 * Issue 14's journey in a real browser, on a server started with the demo content (its administrator):
 * the administrator adds two organisations with verified domains and appoints a moderator; a learner of the first
 * lists an open peer profile, writes a case study through the form naming a system from the moderators' list,
 * attaches a PDF (a file that only claims to be one is refused) and submits it; the moderator reads it, downloads
 * the attachment and returns it with feedback; the learner reads the feedback (on the page, in the form and in the
 * e-mail), changes it and submits it again; the moderator publishes it with the checklist ticked; a member of the
 * second organisation finds it on /exchange by the system's name (the search box, then the system facet), opens
 * it, downloads the attachment, records that their organisation adopted it with a note, and contacts its author
 * through the peer relay: the e-mail reaches the author without the sender’s address, and its link opens the message
 * for them. A second journey, with JavaScript turned off, creates and submits a case study with an attachment and
 * a tool with its file through the plain forms. Every page on the way is checked with axe (WCAG 2.2 AA) and must log
 * no console error, script error or CSP violation.
 */

const PASSWORD = 'correct horse battery staple';
const SYSTEM = { name: 'Nervecentre', supplier: 'Nervecentre Software', slug: 'nervecentre-software-nervecentre' };
const TOPIC = 'Implementation';
const pathOf = (url: string) => new URL(url).pathname;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A small but real PDF (its first bytes are what the content check looks for). */
function pdfBytes(title: string): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    null,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  const stream = `BT /F1 18 Tf 72 770 Td (${title.replace(/[()\\]/g, '')}) Tj ET`;
  objects[3] = `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`;
  let body = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(body.length);
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}

interface Person {
  name: string;
  email: string;
  jobRole: string;
}

describe('the peer exchange (browser)', () => {
  let server: RunningServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const checkedPages: CheckedPage[] = [];
  const stamp = `${Date.now().toString(36)}${process.pid}`;
  const trust = { name: `Exchange Journey NHS Trust ${stamp}`, domain: `exchange-trust-${stamp}.nhs.uk`, type: 'NHS trust', region: 'North West' };
  const council = { name: `Exchange Journey Borough Council ${stamp}`, domain: `exchange-council-${stamp}.gov.uk`, type: 'Local authority', region: 'South West' };
  let admin: CheckedPage;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ DEMO_DATA: 'true' }), launchBrowser()]);
  }, 180_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await server?.stop();
  });

  /** A browser of its own for each person, every page in it checked. */
  async function person(options: { javaScript?: boolean } = {}): Promise<CheckedPage> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', acceptDownloads: true, javaScriptEnabled: options.javaScript ?? true });
    contexts.push(context);
    const checked = await CheckedPage.open(context, server.baseUrl, { javaScriptEnabled: options.javaScript ?? true });
    checked.page.setDefaultTimeout(15_000);
    checkedPages.push(checked);
    return checked;
  }

  afterEach(() => {
    for (const checked of checkedPages) {
      if (checked.ignored.length) console.warn(`Tolerated because of BROWSER_TEST_IGNORE:\n${[...new Set(checked.ignored)].join('\n')}`);
      for (const url of checked.externalRequests) expect(url).toMatch(/^https:\/\/assets\.nhs\.uk\//);
    }
  });

  it('runs on the engines the environment names', () => {
    expect(server.health.database?.engine).toBe(process.env.DATABASE_URL ? 'mysql' : 'sqlite');
    expect(server.health.redis?.status).toBe(process.env.REDIS_URL ? 'up' : 'not configured');
  });

  it('the administrator adds two organisations with verified domains', () =>
    withServerOutput(server, async () => {
      const credentials = /^\s*admin\s+(\S+@\S+)\s+(\S+)\s*$/m.exec(server.output());
      if (!credentials) throw new Error('The server did not print the demo administrator (DEMO_DATA=true prints the demo accounts at the first start)');
      admin = await person();
      await signIn(admin, credentials[1], credentials[2]);
      for (const organisation of [trust, council]) {
        await admin.goto('/admin/organisations', { expectStatus: 200 });
        await admin.navigate(() => admin.page.getByRole('button', { name: 'Add an organisation' }).click());
        await admin.page.getByLabel('Name', { exact: true }).fill(organisation.name);
        await admin.page.getByLabel('Type', { exact: true }).selectOption({ label: organisation.type });
        await admin.page.getByLabel('Region (optional)').selectOption({ label: organisation.region });
        await admin.navigate(() => admin.page.getByRole('button', { name: 'Add organisation' }).click());
        expect(pathOf(admin.page.url())).toMatch(/^\/admin\/organisations\/\d+$/);
        await admin.page.getByLabel('Add a domain').fill(organisation.domain);
        await admin.navigate(() => admin.page.getByRole('button', { name: 'Add domain' }).click());
        await expect(mainText(admin)).resolves.toContain(organisation.domain);
      }
      admin.assertNoProblems();
    }), 120_000);

  it('a learner shares a case study with an attachment; a moderator returns it, then publishes it; another organisation finds it by its system, adopts it and contacts its author', () =>
    withServerOutput(server, async () => {
      if (!admin) throw new Error('The organisations were not added');
      const learnerPerson: Person = { name: 'Lowri Evans', email: `lowri.evans@${trust.domain}`, jobRole: 'EPR implementation lead' };
      const moderatorPerson: Person = { name: 'Mo Haddad', email: `mo.haddad@${council.domain}`, jobRole: 'Digital inclusion officer' };
      const finderPerson: Person = { name: 'Femi Adeyemi', email: `femi.adeyemi@${council.domain}`, jobRole: 'Head of digital care' };
      const title = `Observations at the bedside in six weeks ${stamp}`;
      const attachment = { name: 'bedside-observations-rollout.pdf', bytes: pdfBytes('Bedside observations roll-out report') };

      // Three people sign up on the organisations' domains and verify their addresses, so they join at once.
      const learner = await member(learnerPerson, trust.name);
      const moderator = await member(moderatorPerson, council.name);
      const finder = await member(finderPerson, council.name);

      // The administrator appoints the moderator, on the person's page.
      await admin.goto(`/admin/users?q=${encodeURIComponent(moderatorPerson.email)}`, { expectStatus: 200 });
      await admin.navigate(() => admin.page.getByRole('main').getByRole('link', { name: moderatorPerson.name, exact: true }).click());
      expect(pathOf(admin.page.url())).toMatch(/^\/admin\/users\/\d+$/);
      await admin.page.getByLabel('Role', { exact: true }).selectOption({ label: 'Moderator' });
      await admin.navigate(() => admin.page.getByRole('button', { name: 'Change role' }).click());
      await expect(admin.page.locator('.nhsuk-summary-list').first().textContent()).resolves.toContain('Moderator');

      // The learner lists a peer profile open to contact, naming the system they run.
      const l = learner.page;
      await learner.goto('/peers', { expectStatus: 200 });
      await learner.navigate(() => l.getByRole('link', { name: 'Add your peer profile' }).click());
      expect(pathOf(l.url())).toBe('/peers/profile');
      await l.getByLabel('List my profile on Peers').check();
      await l.getByLabel('About you (optional)').fill('I led our move to **electronic observations** on every adult ward.');
      await l.getByLabel(`${SYSTEM.name} (${SYSTEM.supplier})`, { exact: true }).check();
      await l.getByRole('group', { name: 'Topics you can help with' }).getByLabel(TOPIC, { exact: true }).check();
      await l.getByLabel('Yes, they can send me messages').check();
      await learner.navigate(() => l.getByRole('button', { name: 'Save your profile' }).click());
      expect(pathOf(l.url())).toBe('/peers/profile');
      await learner.navigate(() => l.getByRole('link', { name: 'See your profile as others see it' }).click());
      const profilePath = pathOf(l.url());
      expect(profilePath).toMatch(/^\/peers\/\d+$/);
      await expect(heading(learner)).resolves.toBe(learnerPerson.name);
      await expect(mainText(learner)).resolves.toContain('Open to contact');

      // The learner writes the case study through the form, from the exchange's page.
      await learner.goto('/exchange', { expectStatus: 200 });
      await learner.navigate(() => l.getByRole('button', { name: 'Share what your organisation learned' }).click());
      expect(pathOf(l.url())).toBe('/exchange/new');
      await learner.navigate(() => l.getByRole('link', { name: 'Case study', exact: true }).click());
      expect(pathOf(l.url())).toBe('/exchange/new/case-study');
      await expect(mainText(learner)).resolves.toContain(`Shared by ${trust.name}`);
      await fillCaseStudy(learner, {
        title,
        summary: 'Nurses record observations on handheld devices at the bedside, and deteriorating patients are escalated automatically.',
        careSetting: 'Acute hospital',
        context: 'Observations were written on paper charts and typed in at the end of a shift.',
        actions: 'We trained **two champions** per ward, then moved one ward a week to handheld devices.',
        results: 'Observations are in the record within a minute.',
        figure: { label: 'Observations recorded on time', before: '62', after: '96', unit: '%' },
        lessons: 'Start with the ward that asks for it.',
        differently: 'Order the chargers before the devices.',
      });
      await learner.screenshot('exchange-case-study-form');
      await learner.navigate(() => l.getByRole('button', { name: 'Save as a draft' }).click());
      const itemPath = pathOf(l.url());
      expect(itemPath).toMatch(/^\/exchange\/observations-at-the-bedside-in-six-weeks-[a-z0-9-]+$/);
      await expect(heading(learner)).resolves.toBe(title);
      await expect(mainText(learner)).resolves.toContain(SYSTEM.name);

      // Attaches the report: a file that only claims to be a PDF is refused, the real one is kept.
      await learner.navigate(() => l.getByRole('link', { name: 'Add or remove attachments' }).click());
      expect(pathOf(l.url())).toBe(`${itemPath}/attachments`);
      await l.getByLabel('File to attach').setInputFiles({ name: 'not-really.pdf', mimeType: 'application/pdf', buffer: Buffer.from('just some text, not a PDF') });
      const refused = await learner.navigate(() => l.getByRole('button', { name: 'Attach the file' }).click());
      expect(refused?.status()).toBe(400);
      await expect(l.locator('.nhsuk-error-summary').textContent()).resolves.toMatch(/not a PDF/);
      await expect(mainText(learner)).resolves.toContain('No files are attached.');
      await l.getByLabel('File to attach').setInputFiles({ name: attachment.name, mimeType: 'application/pdf', buffer: attachment.bytes });
      await learner.navigate(() => l.getByRole('button', { name: 'Attach the file' }).click());
      expect(pathOf(l.url())).toBe(`${itemPath}/attachments`);
      await expect(l.locator('[data-attachment-list]').textContent()).resolves.toContain(attachment.name);
      await learner.navigate(() => l.getByRole('link', { name: `Done: back to “${title}”` }).click());
      expect(pathOf(l.url())).toBe(itemPath);

      // Submits it for review.
      await learner.navigate(() => l.getByRole('button', { name: 'Submit for review' }).click());
      expect(pathOf(l.url())).toBe(itemPath);
      await expect(l.getByRole('alert').textContent()).resolves.toContain('Submitted for review');
      await expect(l.locator('[data-author-actions]').textContent()).resolves.toContain('It is with a moderator');

      // Before it is published it is 404 to the other organisation's member.
      await finder.goto(itemPath, { expectStatus: 404 });

      // The moderator finds it in the queue through the header, downloads the attachment and returns it with feedback.
      const m = moderator.page;
      await moderator.goto('/my-learning', { expectStatus: 200 });
      await moderator.navigate(() => m.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Moderation' }).click());
      expect(pathOf(m.url())).toBe('/moderation');
      await moderator.navigate(() => m.locator('#queue').getByRole('link', { name: title, exact: true }).click());
      expect(pathOf(m.url())).toMatch(/^\/moderation\/exchange\/\d+$/);
      const reviewPath = pathOf(m.url());
      await expect(heading(moderator)).resolves.toContain(title);
      const downloaded = await download(moderator, () => m.locator('#attachments').getByRole('link', { name: attachment.name }).click());
      expect(downloaded.bytes.equals(attachment.bytes)).toBe(true);
      const feedback = 'Please say how many wards and beds this covered, so others can compare.';
      await m.getByLabel('Feedback for the author').fill(feedback);
      await moderator.screenshot('exchange-moderator-review');
      await moderator.navigate(() => m.getByRole('button', { name: 'Return to the author' }).click());
      expect(pathOf(m.url())).toBe('/moderation');
      await expect(m.locator('#queue').getByRole('link', { name: title, exact: true }).count()).resolves.toBe(0);

      // The learner reads the feedback: in the e-mail, on the item's page and beside the form, changes it and submits again.
      const returned = await mailTo(learnerPerson.email, `“${title}” needs changes before it can be published`);
      expect(returned).toContain(feedback);
      await learner.goto(itemPath, { expectStatus: 200 });
      await expect(l.locator('[data-feedback]').textContent()).resolves.toContain(feedback);
      await learner.navigate(() => l.getByRole('link', { name: 'Change this case study' }).click());
      expect(pathOf(l.url())).toBe(`${itemPath}/edit`);
      await expect(l.locator('[data-feedback]').textContent()).resolves.toContain(feedback);
      const results = 'Observations are in the record within a minute, on all 14 adult wards (412 beds).';
      await l.getByLabel('The results').fill(results);
      await learner.navigate(() => l.getByRole('button', { name: 'Save changes' }).click());
      expect(pathOf(l.url())).toBe(itemPath);
      await expect(l.locator('[data-section="results"]').textContent()).resolves.toContain('412 beds');
      await learner.navigate(() => l.getByRole('button', { name: 'Submit for review' }).click());
      await expect(l.getByRole('alert').textContent()).resolves.toContain('Submitted for review');

      // The moderator publishes it: without the checklist ticked it is refused, with all four it is public.
      await moderator.goto('/moderation', { expectStatus: 200 });
      await moderator.navigate(() => m.locator('#queue').getByRole('link', { name: title, exact: true }).click());
      expect(pathOf(m.url())).toBe(reviewPath);
      await expect(mainText(moderator)).resolves.toContain('412 beds');
      const unticked = await moderator.navigate(() => m.getByRole('button', { name: 'Publish', exact: true }).click());
      expect(unticked?.status()).toBe(400);
      await expect(m.locator('.nhsuk-error-summary').count()).resolves.toBe(1);
      const checklist = m.getByRole('group', { name: 'Checklist' }).getByRole('checkbox');
      await expect(checklist.count()).resolves.toBe(4);
      for (const box of await checklist.all()) await box.check();
      await moderator.navigate(() => m.getByRole('button', { name: 'Publish', exact: true }).click());
      expect(pathOf(m.url())).toBe('/moderation');
      await expect(mainText(moderator)).resolves.not.toContain(title);
      await expect(mailTo(learnerPerson.email, `“${title}” is published on the exchange`)).resolves.toContain(itemPath);

      // The other organisation's member finds it by the system's name: the search box, then the system facet.
      const f = finder.page;
      await finder.goto('/exchange', { expectStatus: 200 });
      const searchForm = f.getByRole('search', { name: 'Search the exchange' });
      await searchForm.getByRole('searchbox', { name: 'Search the exchange' }).fill(SYSTEM.name);
      await finder.navigate(() => searchForm.getByRole('button', { name: 'Search', exact: true }).click());
      expect(new URL(f.url()).searchParams.get('q')).toBe(SYSTEM.name);
      await expect(f.getByRole('heading', { name: `Results for “${SYSTEM.name}”` }).count()).resolves.toBe(1);
      await expect(f.locator('main').getByRole('link', { name: title, exact: true }).count()).resolves.toBe(1);
      await f.getByRole('group', { name: 'System or supplier' }).getByLabel(new RegExp(`^${escapeRegExp(SYSTEM.name)}`)).first().check();
      await finder.navigate(() => searchForm.getByRole('button', { name: 'Apply filters' }).click());
      expect(new URL(f.url()).searchParams.get('system')).toBe(SYSTEM.slug);
      await expect(f.locator('.academy-filter-tags').textContent()).resolves.toContain(`System or supplier: ${SYSTEM.name}`);
      const count = Number(/of (\d+) items?|^(\d+) items?/.exec(((await f.locator('#result-count').textContent()) ?? '').trim())?.slice(1).find(Boolean));
      expect(count).toBeGreaterThanOrEqual(1);
      await expect(f.locator('[data-exchange-item]').count()).resolves.toBe(Math.min(count, 20));
      await finder.screenshot('exchange-search-by-system');
      await finder.navigate(() => f.locator('main').getByRole('link', { name: title, exact: true }).click());
      expect(pathOf(f.url())).toBe(itemPath);
      await expect(heading(finder)).resolves.toBe(title);
      await expect(f.locator('[data-section="results"]').textContent()).resolves.toContain('412 beds');
      await expect(f.locator('[data-systems]').textContent()).resolves.toContain(SYSTEM.name);
      const publicCopy = await download(finder, () => f.locator('[data-attachments]').getByRole('link', { name: attachment.name }).click());
      expect(publicCopy.bytes.equals(attachment.bytes)).toBe(true);

      // Records that the council adopted it, with a note; the page shows it under "Adopted by".
      const note = 'We adapted it for our **reablement** teams.';
      await finder.navigate(() => f.getByRole('button', { name: 'We’ve adopted this' }).click());
      expect(pathOf(f.url())).toBe(`${itemPath}/adoption`);
      await expect(f.locator('[data-organisation]').textContent()).resolves.toBe(council.name);
      await f.getByLabel('How did you use it? (optional)').fill(note);
      await finder.navigate(() => f.getByRole('button', { name: 'Record the adoption' }).click());
      expect(pathOf(f.url())).toBe(itemPath);
      await expect(f.locator('[data-signal-notice]').count()).resolves.toBe(1);
      const adopter = f.locator('[data-adopters] li').filter({ hasText: council.name });
      await expect(adopter.textContent()).resolves.toContain('We adapted it for our reablement teams.');
      await expect(adopter.locator('strong', { hasText: 'reablement' }).count()).resolves.toBe(1);
      await expect(f.locator('[data-count="adoptions"]').textContent()).resolves.toMatch(/\b1\b/);
      await finder.screenshot('exchange-item-adopted');

      // Contacts its author through the peer relay: the page names who shared it and links their peer profile.
      const sharedBy = f.locator('[data-shared-by]');
      await expect(sharedBy.textContent()).resolves.toContain(`Shared by ${learnerPerson.name}, ${learnerPerson.jobRole}.`);
      await finder.navigate(() => sharedBy.getByRole('link', { name: new RegExp(`^Contact them through their peer profile\\W+${escapeRegExp(learnerPerson.name)}$`) }).click());
      expect(pathOf(f.url())).toBe(profilePath);
      await expect(heading(finder)).resolves.toBe(learnerPerson.name);
      await expect(mainText(finder)).resolves.not.toContain(learnerPerson.email);
      await finder.navigate(() => f.getByRole('button', { name: `Contact ${learnerPerson.name}` }).click());
      expect(pathOf(f.url())).toBe(`${profilePath}/contact`);
      const subject = `Your bedside observations case study ${stamp}`;
      const body = 'We are about to move our reablement teams to Nervecentre. Could we talk about how you trained the champions?';
      await f.getByLabel('Subject').fill(subject);
      await f.getByLabel('Your message').fill(body);
      await finder.navigate(() => f.getByRole('button', { name: 'Send message' }).click());
      expect(pathOf(f.url())).toMatch(/^\/peers\/messages\/\d+$/);
      await expect(mainText(finder)).resolves.toContain(body);

      // The author's e-mail: the message, who sent it, and no address of theirs.
      const relayed = await mailTo(learnerPerson.email, `${finderPerson.name} sent you a message on`);
      expect(relayed).toContain(subject);
      expect(relayed).toContain(body);
      expect(relayed).toContain(finderPerson.jobRole);
      expect(relayed).not.toContain(finderPerson.email);
      expect(relayed).not.toContain(council.domain);
      await admin.screenshot('exchange-relayed-message');

      // The author follows the e-mail's link and reads the message on the academy, still without the sender's address.
      const conversation = /https?:\/\/\S+(\/peers\/messages\/\d+)/.exec(relayed)?.[1];
      if (!conversation) throw new Error(`No link to the message in the e-mail:\n${relayed}`);
      await learner.goto(conversation, { expectStatus: 200 });
      await expect(mainText(learner)).resolves.toContain(body);
      await expect(mainText(learner)).resolves.not.toContain(finderPerson.email);

      for (const checked of checkedPages) checked.assertNoProblems();
    }), 420_000);

  it('without JavaScript, a member creates and submits a case study with an attachment, and a tool with its file, through the plain forms', () =>
    withServerOutput(server, async () => {
      if (!admin) throw new Error('The organisations were not added');
      const who: Person = { name: 'Nia Roberts', email: `nia.roberts@${trust.domain}`, jobRole: 'Clinical systems trainer' };
      const checked = await member(who, trust.name, { javaScript: false });
      const { page } = checked;
      await checked.goto('/exchange/new', { expectStatus: 200 });
      // No script ran: the design system's "js-enabled" marker is missing from the page.
      await expect(page.locator('body.js-enabled').count()).resolves.toBe(0);
      // axe cannot run where scripts are off, so this context's checks run it on a copy of each page: it still catches a fault.
      await page.evaluate(() => document.querySelector('main')!.insertAdjacentHTML('beforeend', '<img src="/public/favicon.svg">'));
      await expect(checked.check()).rejects.toThrow(/image-alt/);

      // A case study, then its attachment, then submitting it.
      const title = `Paper-free handover without scripts ${stamp}`;
      await checked.navigate(() => page.getByRole('link', { name: 'Case study', exact: true }).click());
      await fillCaseStudy(checked, {
        title,
        summary: 'Handover sheets are printed from the record, not rewritten by hand.',
        careSetting: 'Community health',
        context: 'Every shift rewrote the handover sheet by hand.',
        actions: 'We built a handover report in the record and printed it.',
        results: 'Handover takes 10 minutes less.',
        lessons: 'Ask the night staff first.',
        differently: 'Nothing.',
      });
      await checked.navigate(() => page.getByRole('button', { name: 'Save as a draft' }).click());
      const itemPath = pathOf(page.url());
      expect(itemPath).toMatch(/^\/exchange\/paper-free-handover-without-scripts-[a-z0-9-]+$/);
      await expect(page.getByRole('alert').textContent()).resolves.toBeTruthy();
      await checked.navigate(() => page.getByRole('link', { name: 'Add or remove attachments' }).click());
      const sheet = { name: 'handover-sheet.csv', bytes: Buffer.from('Bed,Name,Plan\r\n1,(example),Discharge tomorrow\r\n', 'utf8') };
      await page.getByLabel('File to attach').setInputFiles({ name: sheet.name, mimeType: 'text/csv', buffer: sheet.bytes });
      await checked.navigate(() => page.getByRole('button', { name: 'Attach the file' }).click());
      expect(pathOf(page.url())).toBe(`${itemPath}/attachments`);
      await expect(page.locator('[data-attachment-list]').textContent()).resolves.toContain(sheet.name);
      await checked.navigate(() => page.getByRole('link', { name: `Done: back to “${title}”` }).click());
      await checked.navigate(() => page.getByRole('button', { name: 'Submit for review' }).click());
      expect(pathOf(page.url())).toBe(itemPath);
      await expect(page.getByRole('alert').textContent()).resolves.toContain('Submitted for review');
      await expect(page.locator('[data-attachments]').textContent()).resolves.toContain(sheet.name);

      // A tool: the multipart form carries its fields, its CSRF token and its file in one request.
      const toolTitle = `Handover report query ${stamp}`;
      const script = { name: 'handover-report.sql', bytes: Buffer.from('SELECT bed, plan FROM handover WHERE ward = :ward ORDER BY bed;\n', 'utf8') };
      await checked.goto('/exchange/new', { expectStatus: 200 });
      await checked.navigate(() => page.getByRole('link', { name: 'Tool', exact: true }).click());
      expect(pathOf(page.url())).toBe('/exchange/new/tool');
      await page.getByLabel('Title').fill(toolTitle);
      await page.getByLabel('Summary').fill('The query behind our printed handover sheet.');
      await page.getByRole('group', { name: 'What kind of tool is it?' }).getByRole('radio').first().check();
      await page.getByLabel('What it is for').fill('Printing a ward’s handover sheet from the record.');
      await page.getByLabel('How to use it').fill('Run it in the reporting database with the ward’s code.');
      await page.getByRole('group', { name: 'Licence' }).getByLabel(/Open Government Licence/).check();
      await page.getByRole('group', { name: 'Topics' }).getByLabel(TOPIC, { exact: true }).check();
      await page.getByLabel('The tool’s file').setInputFiles({ name: script.name, mimeType: 'application/sql', buffer: script.bytes });
      await checked.navigate(() => page.getByRole('button', { name: 'Save as a draft' }).click());
      const toolPath = pathOf(page.url());
      expect(toolPath).toMatch(/^\/exchange\/handover-report-query-[a-z0-9-]+$/);
      await expect(page.locator('[data-tool-download]').textContent()).resolves.toContain(script.name);
      await checked.navigate(() => page.getByRole('button', { name: 'Submit for review' }).click());
      expect(pathOf(page.url())).toBe(toolPath);
      await expect(page.getByRole('alert').textContent()).resolves.toContain('Submitted for review');

      // Both are in My contributions, waiting for review.
      await checked.goto('/exchange/mine', { expectStatus: 200 });
      for (const t of [title, toolTitle]) await expect(page.getByRole('main').getByRole('link', { name: t, exact: true }).count()).resolves.toBe(1);
      checked.assertNoProblems();
    }), 240_000);

  // ---------------------------------------------------------------- helpers

  async function signIn(checked: CheckedPage, email: string, password: string) {
    await checked.goto('/sign-in', { expectStatus: 200 });
    await checked.page.getByLabel('E-mail address').fill(email);
    await checked.page.getByLabel('Password').fill(password);
    await checked.navigate(() => checked.page.getByRole('button', { name: 'Sign in', exact: true }).click());
  }

  /** Signs up naming the organisation and opens the verification link: on its verified domain, they join at once. */
  async function member(who: Person, organisation: string, options: { javaScript?: boolean } = {}): Promise<CheckedPage> {
    const checked = await person(options);
    const { page } = checked;
    await checked.goto('/sign-up', { expectStatus: 200 });
    await page.getByLabel('Full name').fill(who.name);
    await page.getByLabel('E-mail address').fill(who.email);
    await page.getByLabel('Password').fill(PASSWORD);
    // With JavaScript the field suggests organisations as you type: the suggestions arrive before the form goes.
    const suggested = options.javaScript === false ? null : page.waitForResponse((r) => r.url().includes('/api/v1/organisations?q='));
    await page.getByLabel('Organisation').fill(organisation);
    if (suggested) expect((await suggested).status()).toBe(200);
    await page.getByLabel('Job role').fill(who.jobRole);
    await checked.navigate(() => page.getByRole('button', { name: 'Create account' }).click());
    expect(pathOf(page.url())).toBe('/my-learning');
    const text = await mailTo(who.email, 'Verify your e-mail address');
    const link = /https?:\/\/\S+\/verify-email\?\S+/.exec(text)?.[0];
    if (!link) throw new Error(`No verification link in the message to ${who.email}:\n${text}`);
    await checked.navigate(() => checked.page.goto(link.replace(/&amp;/g, '&')));
    await expect(heading(checked)).resolves.toBe('Your e-mail address is verified');
    await checked.goto('/account/organisations', { expectStatus: 200 });
    await expect(mainText(checked)).resolves.toContain(organisation);
    return checked;
  }

  /**
   * The text of the newest message to `email` whose subject contains `subject`, read in the administrator's outbox
   * (waiting for the mail job to write it).
   */
  async function mailTo(email: string, subject: string): Promise<string> {
    const row = admin.page.getByRole('row').filter({ hasText: email }).filter({ hasText: subject }).first();
    const deadline = Date.now() + 30_000;
    for (;;) {
      await admin.goto('/admin/outbox', { expectStatus: 200 });
      if (await row.count()) break;
      if (Date.now() > deadline) throw new Error(`No e-mail to ${email} about “${subject}” in the outbox`);
      await admin.page.waitForTimeout(250);
    }
    await admin.navigate(() => row.getByRole('link').click());
    await expect(admin.page.locator('.nhsuk-summary-list').textContent()).resolves.toContain(email);
    return (await admin.page.locator('main').textContent()) ?? '';
  }

  async function fillCaseStudy(
    checked: CheckedPage,
    values: { title: string; summary: string; careSetting: string; context: string; actions: string; results: string; figure?: { label: string; before: string; after: string; unit: string }; lessons: string; differently: string },
  ) {
    const { page } = checked;
    await page.getByLabel('Title').fill(values.title);
    await page.getByLabel('Summary').fill(values.summary);
    await page.getByRole('group', { name: 'Care setting' }).getByLabel(values.careSetting, { exact: true }).check();
    await page.getByLabel('The context and the problem').fill(values.context);
    await page.getByLabel('What you did').fill(values.actions);
    await page.getByLabel('The results').fill(values.results);
    if (values.figure) {
      const figure = page.getByRole('group', { name: 'Key figure 1', exact: true });
      await figure.getByLabel('What it measures').fill(values.figure.label);
      await figure.getByLabel('Before').fill(values.figure.before);
      await figure.getByLabel('After').fill(values.figure.after);
      await figure.getByLabel('Unit (optional)').fill(values.figure.unit);
    }
    await page.getByLabel('Lessons learnt').fill(values.lessons);
    await page.getByLabel('What you would do differently').fill(values.differently);
    await page.getByRole('group', { name: 'Systems and suppliers (optional)' }).getByLabel(`${SYSTEM.name} (${SYSTEM.supplier})`, { exact: true }).check();
    await page.getByRole('group', { name: 'Topics' }).getByLabel(TOPIC, { exact: true }).check();
  }

  const heading = (checked: CheckedPage) => checked.page.getByRole('heading', { level: 1 }).textContent();
  const mainText = (checked: CheckedPage) => checked.page.locator('main').textContent().then((t) => t ?? '');

  async function download(checked: CheckedPage, click: () => Promise<unknown>): Promise<{ download: Download; bytes: Buffer }> {
    const [file] = await Promise.all([checked.page.waitForEvent('download'), click()]);
    expect(await file.failure()).toBeNull();
    return { download: file, bytes: readFileSync((await file.path())!) };
  }
});

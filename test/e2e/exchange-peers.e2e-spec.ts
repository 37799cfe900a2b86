import { DataSource, In } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { User } from '../../src/accounts/entities/user.entity';
import { Clock } from '../../src/common/clock';
import { PeerBlock, PeerMessage, PeerProfile, PeerProfileSystem, PeerProfileTopic } from '../../src/exchange/entities/peer.entities';
import type { ExchangeSystem } from '../../src/exchange/entities/exchange-system.entity';
import { MailMessage } from '../../src/mail/mail-message.entity';
import type { Organisation } from '../../src/organisations/entities/organisation.entity';
import { Membership } from '../../src/organisations/entities/membership.entity';
import type { Topic } from '../../src/catalogue/entities/topic.entity';
import { Answer, startTestApp, TestApp, Visitor } from '../support/app';
import { topic } from '../support/courses';
import { usingRealEngines } from '../support/engines';
import { createSystem } from '../support/exchange';
import { decodeHtml, formEntries, urlencoded } from '../support/html-forms';
import { addMember, createOrganisation } from '../support/organisations';
import { ReceivedMail, startSmtpServer } from '../support/smtp';
import { waitFor } from '../support/wait';

type Person = Visitor & { userId: number; email: string; password: string; name: string };
interface ProfileFields {
  listed?: boolean;
  bio?: string;
  systems?: number[];
  topics?: number[];
  openToContact?: boolean;
}

const HOUR = 3_600_000;
let sequence = 0;

describe('peers: profiles, "who else runs X?", and the contact relay', () => {
  let t: TestApp;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let ds: DataSource;
  let trust: Organisation;
  let federation: Organisation;
  let council: Organisation;
  let millennium: ExchangeSystem;
  let emis: ExchangeSystem;
  let safety: Topic;
  let cyber: Topic;
  /** A word in every name made here, so a name search finds only this file's people. */
  const tag = `Zq${process.pid % 1000}`;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp({ SMTP_URL: smtp.url });
    ds = t.app.get(DataSource);
    trust = await createOrganisation(t, { name: `Northfield Teaching Hospitals NHS Trust ${tag}`, type: 'nhs_trust', region: 'north_east_yorkshire' });
    federation = await createOrganisation(t, { name: `Riverside GP Federation ${tag}`, type: 'gp_federation', region: 'london' });
    council = await createOrganisation(t, { name: `Westshire County Council ${tag}`, type: 'local_authority', region: 'south_west' });
    millennium = await createSystem(t, { name: 'Millennium', supplier: 'Oracle Health', category: 'epr' });
    emis = await createSystem(t, { name: 'EMIS Web', supplier: 'Optum', category: 'gp_clinical' });
    safety = await topic(t, 'Clinical safety');
    cyber = await topic(t, 'Cyber security');
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  /** A signed-in person, an active member of the organisation (unless told otherwise), with a job role. */
  async function person(first: string, organisation: Organisation | null, options: { jobRole?: string; status?: Membership['status'] } = {}): Promise<Person> {
    const name = `${first} ${tag}${++sequence}`;
    const signed = await t.signedIn('learner', { name });
    await ds.getRepository(User).update({ id: signed.userId }, { jobRole: options.jobRole ?? 'Clinical safety officer' });
    await t.app.get(AccountsService).identitiesChanged([signed.userId]);
    if (organisation) await addMember(t, organisation.id, signed.userId, { status: options.status });
    else {
      await ds.getRepository(User).update({ id: signed.userId }, { emailVerifiedAt: new Date() });
      await t.app.get(AccountsService).identitiesChanged([signed.userId]);
    }
    return Object.assign(signed, { name });
  }

  /** Saves the profile form as a browser would post it. */
  async function saveProfile(who: Visitor, fields: ProfileFields): Promise<Answer> {
    await who.get('/peers/profile');
    const form: Record<string, string> = { _csrf: who.csrf, bio: fields.bio ?? '', openToContact: fields.openToContact === false ? 'no' : 'yes' };
    if (fields.listed !== false) form.listed = 'yes';
    const entries: Array<[string, string]> = [...Object.entries(form), ...(fields.systems ?? []).map((id): [string, string] => ['systems', String(id)]), ...(fields.topics ?? []).map((id): [string, string] => ['topics', String(id)])];
    return who.request('POST', '/peers/profile', { raw: urlencoded(entries), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  async function listedPeer(first: string, organisation: Organisation, fields: ProfileFields = {}): Promise<Person> {
    const who = await person(first, organisation);
    const saved = await saveProfile(who, fields);
    expect(saved.status).toBe(303);
    return who;
  }

  /** The user ids of the people a /peers page lists, in order. */
  const peersOn = (answer: Answer) => [...answer.body.matchAll(/data-peer="(\d+)"/g)].map((m) => Number(m[1]));
  const mailsTo = (address: string) => smtp.received.filter((m) => m.to && [m.to].flat().some((to) => to.value.some((v) => v.address === address)));
  const storedMailsTo = (address: string) => ds.getRepository(MailMessage).countBy({ toAddress: address });

  async function contact(sender: Visitor, recipient: { userId: number }, subject = 'Your Millennium go-live', body = 'How did you handle the downtime procedures?\nWe go live in March.') {
    await sender.get(`/peers/${recipient.userId}/contact`);
    return sender.submit(`/peers/${recipient.userId}/contact`, { subject, body });
  }

  /** Every mail the server received for this address, once the background delivery has run. */
  async function receivedBy(address: string, count: number): Promise<ReceivedMail[]> {
    await t.drainJobs();
    await waitFor(() => mailsTo(address).length >= count);
    return mailsTo(address);
  }

  describe('profiles', () => {
    it('is opt-in: an unlisted profile is on neither /peers nor the API, and its page is 404; listing shows it', async () => {
      const quiet = await person('Quinn', trust);
      const form = await quiet.get('/peers/profile');
      expect(form.status).toBe(200);
      expect(form.body).toContain(quiet.name);
      expect(form.body).toContain(trust.name);
      expect(form.body).not.toMatch(/id="listed"[^>]*checked/);

      expect((await saveProfile(quiet, { listed: false, systems: [millennium.id], topics: [safety.id] })).headers.location).toBe('/peers/profile?notice=created');
      const stored = await ds.getRepository(PeerProfile).findOneByOrFail({ userId: quiet.userId });
      expect(stored.listed).toBeFalsy();
      const viewer = await person('Vera', federation);
      expect(peersOn(await viewer.get(`/peers?system=${millennium.slug}`))).not.toContain(quiet.userId);
      expect((await viewer.get(`/peers/${quiet.userId}`)).status).toBe(404);
      const api = await t.apiClient(viewer.email, viewer.password);
      expect((await api.get(`/api/v1/peers?system=${millennium.slug}`)).json().items.map((p: { userId: number }) => p.userId)).not.toContain(quiet.userId);

      expect((await saveProfile(quiet, { systems: [millennium.id], topics: [safety.id] })).headers.location).toBe('/peers/profile?notice=saved');
      expect(peersOn(await viewer.get(`/peers?system=${millennium.slug}`))).toContain(quiet.userId);
      expect((await viewer.get(`/peers/${quiet.userId}`)).status).toBe(200);
      expect((await api.get(`/api/v1/peers?system=${millennium.slug}`)).json().items.map((p: { userId: number }) => p.userId)).toContain(quiet.userId);

      // Unlisting hides it again; deleting removes it and its systems and topics.
      expect((await saveProfile(quiet, { listed: false, systems: [millennium.id], topics: [safety.id] })).status).toBe(303);
      expect((await viewer.get(`/peers/${quiet.userId}`)).status).toBe(404);
      await quiet.get('/peers/profile/delete');
      expect((await quiet.submit('/peers/profile/delete', {})).headers.location).toBe('/peers/profile?notice=deleted');
      expect(await ds.getRepository(PeerProfile).countBy({ userId: quiet.userId })).toBe(0);
      expect(await ds.getRepository(PeerProfileSystem).countBy({ userId: quiet.userId })).toBe(0);
      expect(await ds.getRepository(PeerProfileTopic).countBy({ userId: quiet.userId })).toBe(0);
    });

    it('saving the form unchanged, twice, as a browser sends it, changes nothing', async () => {
      const who = await listedPeer('Sam', trust, { bio: '  I led our **EPR** go-live.\n\n- downtime\n- training  \n', systems: [millennium.id, emis.id], topics: [safety.id, cyber.id] });
      const snapshot = async () => ({
        profile: await ds.getRepository(PeerProfile).findOneByOrFail({ userId: who.userId }),
        systems: await ds.getRepository(PeerProfileSystem).find({ where: { userId: who.userId }, order: { id: 'ASC' } }),
        topics: await ds.getRepository(PeerProfileTopic).find({ where: { userId: who.userId }, order: { id: 'ASC' } }),
      });
      const before = await snapshot();
      expect(before.profile.bio).toBe('  I led our **EPR** go-live.\n\n- downtime\n- training  \n');
      for (let i = 0; i < 2; i++) {
        const page = await who.get('/peers/profile');
        const entries = formEntries(page.body, '/peers/profile');
        const answer = await who.request('POST', '/peers/profile', { raw: urlencoded(entries), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        expect(answer.headers.location).toBe('/peers/profile?notice=unchanged');
        expect(await snapshot()).toEqual(before);
      }
      expect((await who.get('/peers/profile?notice=unchanged')).body).toContain('Nothing had changed');
    });

    it('refuses what it cannot keep, with a message and nothing stored', async () => {
      const outsider = await person('Olu', null);
      const refused = await saveProfile(outsider, { systems: [millennium.id] });
      expect(refused.status).toBe(400);
      expect(refused.body).toContain('Only members of an organisation can list a peer profile');
      expect(await ds.getRepository(PeerProfile).countBy({ userId: outsider.userId })).toBe(0);
      expect((await outsider.get('/peers/profile')).body).toContain('You are not an active member of an organisation yet');
      // Unlisted, they may keep one.
      expect((await saveProfile(outsider, { listed: false })).status).toBe(303);

      const who = await person('Bea', trust);
      const long = await saveProfile(who, { bio: 'x'.repeat(601) });
      expect(long.status).toBe(400);
      expect(long.body).toContain('Your bio must be 600 characters or fewer');
      expect(long.body).toContain('x'.repeat(601));
      expect((await saveProfile(who, { systems: [999_999] })).body).toContain('Choose systems from the list');
      expect((await saveProfile(who, { topics: [999_999] })).body).toContain('Choose topics from the list');
      await who.get('/peers/profile');
      const noChoice = await who.submit('/peers/profile', { listed: 'yes', bio: '' });
      expect(noChoice.status).toBe(400);
      expect(noChoice.body).toContain('Choose whether other members can contact you');
      expect(await ds.getRepository(PeerProfile).countBy({ userId: who.userId })).toBe(0);
      const forged = await who.submit('/peers/profile', { listed: 'yes', openToContact: 'yes' }, { withCsrf: false });
      expect(forged.status).toBe(403);
    });

    it('shows the bio as sanitised Markdown, and never an address', async () => {
      const who = await listedPeer('Mia', federation, { bio: 'I run [our EPR](https://example.org) <script>alert(1)</script> **daily**', systems: [emis.id] });
      const page = await (await person('Reader', trust)).get(`/peers/${who.userId}`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<strong>daily</strong>');
      expect(page.body).toContain('<a href="https://example.org">our EPR</a>');
      expect(page.body).not.toContain('<script>alert(1)');
      expect(page.body).not.toContain(who.email);
      expect(page.body).toContain(federation.name);
      expect(page.body).toContain('EMIS Web (Optum)');
      expect(page.body).toContain(`href="/peers/${who.userId}/contact"`);
    });

    it('needs sign-in: pages send visitors to sign in, the API answers 401', async () => {
      const anonymous = t.visitor();
      const page = await anonymous.get('/peers');
      expect(page.status).toBe(303);
      expect(page.headers.location).toMatch(/^\/sign-in/);
      expect((await anonymous.get('/api/v1/peers')).status).toBe(401);
    });
  });

  describe('finding peers', () => {
    /** This block's own organisations and systems, so people made elsewhere in the file do not match its filters. */
    let fTrust: Organisation;
    let fFederation: Organisation;
    let fCouncil: Organisation;
    let fMillennium: ExchangeSystem;
    let fEmis: ExchangeSystem;
    let fLas: ExchangeSystem;
    const word = `Finder${tag}`;
    let ana: Person;
    let ben: Person;
    let cat: Person;
    let left: Person;
    let gone: Person;

    beforeAll(async () => {
      fTrust = await createOrganisation(t, { name: `Northfield Teaching Hospitals NHS Trust ${word}`, type: 'nhs_trust', region: 'north_east_yorkshire' });
      fFederation = await createOrganisation(t, { name: `Riverside GP Federation ${word}`, type: 'gp_federation', region: 'london' });
      fCouncil = await createOrganisation(t, { name: `Westshire County Council ${word}`, type: 'local_authority', region: 'south_west' });
      fMillennium = await createSystem(t, { name: 'Millennium', supplier: 'Oracle Health', category: 'epr' });
      fEmis = await createSystem(t, { name: 'EMIS Web', supplier: 'Optum', category: 'gp_clinical' });
      fLas = await createSystem(t, { name: 'LAS', supplier: 'System C', category: 'social_care' });
      ana = await listedPeer('Ana', fTrust, { systems: [fMillennium.id], topics: [safety.id] });
      ben = await listedPeer('Ben', fFederation, { systems: [fMillennium.id, fEmis.id], topics: [cyber.id], openToContact: false });
      cat = await listedPeer('Cat', fCouncil, { systems: [fLas.id, fEmis.id], topics: [safety.id, cyber.id] });
      // Listed, but no longer a member anywhere; and listed, but the account is deactivated: neither is shown.
      left = await listedPeer('Lee', fTrust, { systems: [fMillennium.id] });
      await ds.getRepository(Membership).update({ userId: left.userId }, { status: 'left' });
      gone = await listedPeer('Gil', fTrust, { systems: [fMillennium.id] });
      await ds.getRepository(User).update({ id: gone.userId }, { deactivatedAt: new Date() });
      await t.app.get(AccountsService).identitiesChanged([gone.userId]);
    });

    it('"who else runs X?": the page leads with it, and the system filter finds exactly those who run it', async () => {
      const page = await ana.get(`/peers?system=${fMillennium.slug}`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('Find peers who run…');
      expect(page.body.indexOf('Find peers who run…')).toBeLessThan(page.body.indexOf('Who can help with'));
      expect(page.body).toContain('Peers who run Millennium (Oracle Health)');
      const found = peersOn(page);
      expect(found).toEqual(expect.arrayContaining([ana.userId, ben.userId]));
      expect(found).not.toContain(cat.userId);
      expect(found).not.toContain(left.userId);
      expect(found).not.toContain(gone.userId);
      expect((await ana.get(`/peers/${left.userId}`)).status).toBe(404);
      expect((await ana.get(`/peers/${gone.userId}`)).status).toBe(404);
      const emisPeople = peersOn(await ana.get(`/peers?system=${fEmis.slug}&q=${word}`));
      expect(emisPeople.sort()).toEqual([ben.userId, cat.userId].sort());
      // Each result: name, job role, organisation(s), systems, topics, the contact tag; no address.
      expect(page.body).toContain(ben.name);
      expect(page.body).toContain('Clinical safety officer');
      expect(page.body).toContain(`${fFederation.name} (GP federation, London)`);
      expect(page.body).toContain('Not taking messages');
      expect(page.body).toContain('Open to contact');
      expect(page.body).not.toContain('@example.nhs.uk');
    });

    it('filters by topic, region, organisation type and words of a name or organisation', async () => {
      const ids = async (query: string) => peersOn(await ana.get(`/peers?q=${word}&${query}`)).sort();
      expect(await ids(`topic=${safety.slug}`)).toEqual(expect.arrayContaining([ana.userId, cat.userId].sort()));
      expect(await ids(`topic=${safety.slug}`)).not.toContain(ben.userId);
      expect(await ids('region=london')).toEqual([ben.userId]);
      expect(await ids('region=south_west')).toEqual([cat.userId]);
      expect(await ids('organisationType=local_authority')).toEqual([cat.userId]);
      expect(await ids('organisationType=gp_federation')).toEqual([ben.userId]);
      expect(await ids(`system=${fMillennium.slug}&region=london`)).toEqual([ben.userId]);
      expect(await ids(`system=${fMillennium.slug}&organisationType=local_authority`)).toEqual([]);
      // A word of the organisation's name, and the start of a person's name.
      expect(peersOn(await ana.get(`/peers?q=${encodeURIComponent(`westshire ${word}`)}`))).toEqual([cat.userId]);
      expect(peersOn(await ana.get(`/peers?q=${encodeURIComponent(ben.name.split(' ')[0] + ' ' + ben.name.split(' ')[1])}`))).toEqual([ben.userId]);
      // An unknown system finds nobody; a malformed filter is a 400 that says what is wrong.
      const unknown = await ana.get('/peers?system=no-such-system');
      expect(unknown.status).toBe(200);
      expect(peersOn(unknown)).toEqual([]);
      expect(unknown.body).toContain('not on the academy');
      const bad = await ana.get('/peers?region=atlantis');
      expect(bad.status).toBe(400);
      expect(bad.body).toContain('region must be one of the regions');
      expect((await ana.get('/peers?system=a&system=b')).status).toBe(400);
    });

    it('pages 20 at a time, without JavaScript, in the same number of queries for 2 people as for 20', async () => {
      const rare = await createSystem(t, { name: `Rare system ${tag}`, supplier: 'Niche Ltd', category: 'pathology' });
      const few = await createSystem(t, { name: `Few system ${tag}`, supplier: 'Niche Ltd', category: 'pathology' });
      const people = await Promise.all(Array.from({ length: 23 }, (_, i) => person(`Page${i}`, i % 2 ? trust : federation)));
      const now = Date.now();
      await ds.getRepository(PeerProfile).insert(people.map((p, i) => ({ userId: p.userId, listed: true, bio: `Bio ${i}`, openToContact: true, createdAt: new Date(now - i * 1000), updatedAt: new Date(now - i * 1000) })));
      await ds.getRepository(PeerProfileSystem).insert(people.map((p) => ({ userId: p.userId, systemId: rare.id })));
      await ds.getRepository(PeerProfileSystem).insert(people.slice(0, 2).map((p) => ({ userId: p.userId, systemId: few.id })));
      await ds.getRepository(PeerProfileTopic).insert(people.flatMap((p) => [{ userId: p.userId, topicId: safety.id }, { userId: p.userId, topicId: cyber.id }]));

      const first = await ana.get(`/peers?system=${rare.slug}`);
      expect(peersOn(first)).toEqual(people.slice(0, 20).map((p) => p.userId));
      expect(first.body).toContain('23 people (page 1 of 2)');
      const next = [...first.body.matchAll(/class="nhsuk-pagination__link nhsuk-pagination__link--next" href="([^"]+)"/g)].map((m) => decodeHtml(m[1]));
      expect(next).toEqual([`/peers?system=${rare.slug}&page=2`]);
      const second = await ana.get(`/peers?system=${rare.slug}&page=2`);
      expect(peersOn(second)).toEqual(people.slice(20).map((p) => p.userId));

      const counted = async (url: string) => {
        await t.drainJobs();
        const runner = ds.createQueryRunner();
        const proto = Object.getPrototypeOf(runner) as { query: (...args: unknown[]) => Promise<unknown> };
        await runner.release();
        const original = proto.query;
        let queries = 0;
        proto.query = function (this: unknown, ...args: unknown[]) {
          queries++;
          return original.apply(this, args);
        };
        try {
          expect((await ana.get(url)).status).toBe(200);
        } finally {
          proto.query = original;
        }
        return queries;
      };
      const api = await t.apiClient(ana.email, ana.password);
      expect((await api.get(`/api/v1/peers?system=${rare.slug}`)).json().items).toHaveLength(20);
      const forTwenty = await counted(`/peers?system=${rare.slug}`);
      const forTwo = await counted(`/peers?system=${few.slug}`);
      expect(forTwenty).toBe(forTwo);
    });

    it('answers the API with the same filters, paged, in the documented shape and without addresses', async () => {
      const api = await t.apiClient(ana.email, ana.password);
      const answer = await api.get(`/api/v1/peers?system=${fMillennium.slug}&region=london`);
      expect(answer.status).toBe(200);
      const body = answer.json();
      expect(body).toEqual({ items: [expect.any(Object)], total: 1, page: 1, pages: 1 });
      expect(body.items[0]).toEqual({
        userId: ben.userId,
        name: ben.name,
        jobRole: 'Clinical safety officer',
        organisations: [{ id: fFederation.id, name: fFederation.name, type: 'gp_federation', region: 'london' }],
        bio: '',
        systems: [
          { slug: fEmis.slug, name: 'EMIS Web', supplier: 'Optum' },
          { slug: fMillennium.slug, name: 'Millennium', supplier: 'Oracle Health' },
        ],
        topics: [{ slug: cyber.slug, name: 'Cyber security' }],
        openToContact: false,
      });
      expect(answer.body).not.toContain('@');
      const byTopic = (await api.get(`/api/v1/peers?topic=${safety.slug}&organisationType=local_authority&q=${word}`)).json();
      expect(byTopic.items.map((p: { userId: number }) => p.userId)).toEqual([cat.userId]);
      // A session works as well as a token; bad filters are a problem naming them.
      expect((await ana.get(`/api/v1/peers?region=london&q=${word}`)).json().items.map((p: { userId: number }) => p.userId)).toEqual([ben.userId]);
      const bad = await api.get('/api/v1/peers?organisationType=castle');
      expect(bad.status).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'validation_failed', errors: { organisationType: expect.stringContaining('organisationType') } });
      // The OpenAPI document describes exactly these fields.
      const doc = (await t.visitor().get('/api/docs/openapi.json')).json();
      const operation = doc.paths['/api/v1/peers'].get;
      expect(operation.operationId).toBe('listPeers');
      expect(operation.tags).toEqual(['peers']);
      expect(Object.keys(doc.components.schemas.PeerResponse.properties).sort()).toEqual(Object.keys(body.items[0]).sort());
      expect(Object.keys(doc.components.schemas.PeerOrganisationResponse.properties).sort()).toEqual(['id', 'name', 'region', 'type']);
    });

    it('hides a listed profile while its person is in no organisation, keeps it listed when they save it unchanged, and shows it when they rejoin', async () => {
      const page = await left.get('/peers/profile');
      expect(page.body).toContain('your profile is hidden until you are');
      const saved = await left.request('POST', '/peers/profile', { raw: urlencoded(formEntries(page.body, '/peers/profile')), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(saved.headers.location).toBe('/peers/profile?notice=unchanged');
      expect(peersOn(await ana.get(`/peers?system=${fMillennium.slug}`))).not.toContain(left.userId);
      await ds.getRepository(Membership).update({ userId: left.userId }, { status: 'active' });
      expect(peersOn(await ana.get(`/peers?system=${fMillennium.slug}`))).toContain(left.userId);
      expect((await ana.get(`/peers/${left.userId}`)).status).toBe(200);
    });
  });

  describe('the contact relay', () => {
    it('relays a first message without the sender’s address, and the reply with the replier’s, through a real SMTP server', async () => {
      const sender = await person('Sasha', trust, { jobRole: 'Chief clinical information officer' });
      const recipient = await listedPeer('Robin', federation, { systems: [millennium.id] });
      const profile = await sender.get(`/peers/${recipient.userId}`);
      expect(profile.body).toContain(`href="/peers/${recipient.userId}/contact"`);
      const form = await sender.get(`/peers/${recipient.userId}/contact`);
      expect(form.status).toBe(200);
      expect(form.body).toContain('not your e-mail address');

      const sent = await contact(sender, recipient, 'Millennium downtime <procedures>', 'Hello Robin,\n<b>How</b> did you run the downtime drills?');
      expect(sent.status).toBe(303);
      const stored = await ds.getRepository(PeerMessage).findOneByOrFail({ senderId: sender.userId, recipientId: recipient.userId });
      expect(sent.headers.location).toBe(`/peers/messages/${stored.id}?notice=sent`);
      expect(stored).toMatchObject({ inReplyToId: null, subject: 'Millennium downtime <procedures>', body: 'Hello Robin,\n<b>How</b> did you run the downtime drills?' });

      const [first] = await receivedBy(recipient.email, 1);
      expect(first.subject).toBe(`${sender.name} sent you a message on ${t.config.academyName}: Millennium downtime <procedures>`);
      expect(first.replyTo).toBeUndefined();
      expect(first.raw.toString('utf8')).not.toMatch(/^reply-to:/im);
      expect(first.raw.toString('utf8')).not.toContain(sender.email);
      expect(first.from?.text).toContain('no-reply');
      expect(first.text).toContain(`${sender.name}, Chief clinical information officer, ${trust.name}`);
      expect(first.text).toContain('Hello Robin,\n<b>How</b> did you run the downtime drills?');
      expect(first.text).toContain(`http://academy.test/peers/messages/${stored.id}`);
      expect(first.html).toContain('&lt;b&gt;How&lt;/b&gt; did you run');
      expect(first.html).not.toContain('<b>How</b>');

      // The recipient reads it (no address of either shown yet), and only the two of them can.
      const read = await recipient.get(`/peers/messages/${stored.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toContain('&lt;b&gt;How&lt;/b&gt; did you run the downtime drills?');
      expect(read.body).not.toContain(sender.email);
      expect(read.body).toContain('Block');
      const mine = await sender.get(`/peers/messages/${stored.id}`);
      expect(mine.status).toBe(200);
      expect(mine.body).not.toContain(recipient.email);
      expect(mine.body).toContain(`You can write again once ${recipient.name} replies.`);
      for (const stranger of [await person('Nosy', trust), await t.signedIn('admin')]) expect((await stranger.get(`/peers/messages/${stored.id}`)).status).toBe(404);
      expect((await recipient.get('/peers/messages/99999999')).status).toBe(404);

      // The sender cannot write again before the reply: nothing stored.
      await sender.get(`/peers/messages/${stored.id}`);
      const early = await sender.submit(`/peers/messages/${stored.id}/reply`, { body: 'Any news?' });
      expect(early.status).toBe(400);
      expect(await ds.getRepository(PeerMessage).countBy({ inReplyToId: stored.id })).toBe(0);

      // The reply reveals the replier's address: Reply-To and in the text.
      await recipient.get(`/peers/messages/${stored.id}`);
      const replied = await recipient.submit(`/peers/messages/${stored.id}/reply`, { body: 'We ran them monthly.\nHappy to talk.' });
      expect(replied.status).toBe(303);
      const reply = await ds.getRepository(PeerMessage).findOneByOrFail({ inReplyToId: stored.id });
      expect(reply).toMatchObject({ senderId: recipient.userId, recipientId: sender.userId, subject: 'Re: Millennium downtime <procedures>' });
      const [answer] = await receivedBy(sender.email, 1);
      expect(answer.replyTo?.value.map((v) => v.address)).toEqual([recipient.email]);
      expect(answer.text).toContain(recipient.email);
      expect(answer.text).toContain('We ran them monthly.\nHappy to talk.');
      expect(answer.text).toContain(`http://academy.test/peers/messages/${stored.id}#message-${reply.id}`);

      // From now on both see each other's address, and the sender may write again (Reply-To their own address).
      expect((await sender.get(`/peers/messages/${stored.id}`)).body).toContain(`mailto:${recipient.email}`);
      expect((await recipient.get(`/peers/messages/${stored.id}`)).body).toContain(`mailto:${sender.email}`);
      await sender.get(`/peers/messages/${stored.id}`);
      expect((await sender.submit(`/peers/messages/${stored.id}/reply`, { body: 'Thank you!' })).status).toBe(303);
      const thanks = (await receivedBy(recipient.email, 2)).find((m) => m.text?.includes('Thank you!'));
      expect(thanks?.replyTo?.value.map((v) => v.address)).toEqual([sender.email]);

      // Both list the conversation; a reply's id leads to its conversation.
      expect((await sender.get('/peers/messages')).body).toContain(`data-conversation="${stored.id}"`);
      expect((await recipient.get('/peers/messages')).body).toContain(`data-conversation="${stored.id}"`);
      const viaReply = await recipient.get(`/peers/messages/${reply.id}`);
      expect(viaReply.status).toBe(303);
      expect(viaReply.headers.location).toBe(`/peers/messages/${stored.id}#message-${reply.id}`);
      expect(await ds.getRepository(MailMessage).countBy({ dedupeKey: `peer-message:${stored.id}` })).toBe(1);
    });

    it('validates the message: subject and body needed, within their limits, the text kept', async () => {
      const sender = await person('Val', trust);
      const recipient = await listedPeer('Vic', council);
      await sender.get(`/peers/${recipient.userId}/contact`);
      const empty = await sender.submit(`/peers/${recipient.userId}/contact`, { subject: '', body: '' });
      expect(empty.status).toBe(400);
      expect(empty.body).toContain('Enter a subject');
      expect(empty.body).toContain('Enter your message');
      const long = await sender.submit(`/peers/${recipient.userId}/contact`, { subject: 's'.repeat(151), body: 'b'.repeat(5001) });
      expect(long.status).toBe(400);
      expect(long.body).toContain('The subject must be 150 characters or fewer');
      expect(long.body).toContain('Your message must be 5,000 characters or fewer');
      expect(long.body).toContain('b'.repeat(5001));
      expect(await ds.getRepository(PeerMessage).countBy({ senderId: sender.userId })).toBe(0);
      expect(await storedMailsTo(recipient.email)).toBe(0);
    });

    it('refuses, with a clear message and nothing stored or sent: not open, not listed, self, no membership', async () => {
      const sender = await person('Ray', trust);
      const closed = await listedPeer('Cleo', federation, { openToContact: false });
      const unlisted = await person('Una', federation);
      expect((await saveProfile(unlisted, { listed: false })).status).toBe(303);
      const outsider = await person('Ozzy', null);
      const self = await listedPeer('Selma', trust);

      const notOpenPage = await sender.get(`/peers/${closed.userId}`);
      expect(notOpenPage.body).not.toContain(`href="/peers/${closed.userId}/contact"`);
      expect(notOpenPage.body).toContain('is not open to being contacted');
      const notOpenForm = await sender.get(`/peers/${closed.userId}/contact`);
      expect(notOpenForm.status).toBe(403);
      expect(notOpenForm.body).toContain(`${closed.name} is not open to being contacted through the academy.`);
      const notOpen = await sender.submit(`/peers/${closed.userId}/contact`, { subject: 'Hello', body: 'Hi' });
      expect(notOpen.status).toBe(403);
      expect(notOpen.body).toContain('Nothing has been sent.');

      expect((await sender.get(`/peers/${unlisted.userId}/contact`)).status).toBe(404);
      expect((await sender.submit(`/peers/${unlisted.userId}/contact`, { subject: 'Hello', body: 'Hi' })).status).toBe(404);
      expect((await sender.submit('/peers/99999999/contact', { subject: 'Hello', body: 'Hi' })).status).toBe(404);

      expect((await self.get(`/peers/${self.userId}`)).body).toContain('This is your profile');
      const toSelf = await contact(self, self);
      expect(toSelf.status).toBe(403);
      expect(toSelf.body).toContain('you cannot send a message to yourself');

      const fromOutsider = await contact(outsider, self);
      expect(fromOutsider.status).toBe(403);
      expect(fromOutsider.body).toContain('Only members of an organisation can list a peer profile or contact other peers');
      expect((await outsider.get(`/peers/${self.userId}`)).body).toContain('Only members of an organisation');

      expect(await ds.getRepository(PeerMessage).countBy({ recipientId: In([closed.userId, unlisted.userId, self.userId]) })).toBe(0);
      await t.drainJobs();
      for (const who of [closed, unlisted, self]) {
        expect(await storedMailsTo(who.email)).toBe(0);
        expect(mailsTo(who.email)).toHaveLength(0);
      }
    });

    it('a block stops the blocked sender, without saying so, until it is lifted', async () => {
      const pest = await person('Pat', trust);
      const target = await listedPeer('Tess', council);
      expect((await contact(pest, target, 'First', 'Hello')).status).toBe(303);
      const first = await ds.getRepository(PeerMessage).findOneByOrFail({ senderId: pest.userId, recipientId: target.userId });
      await receivedBy(target.email, 1);

      // Only someone in the conversation can block from it.
      const stranger = await person('Stan', trust);
      await stranger.get('/peers/blocks');
      expect((await stranger.submit('/peers/blocks', { messageId: String(first.id) })).status).toBe(404);
      expect(await ds.getRepository(PeerBlock).countBy({ blockedId: pest.userId })).toBe(0);

      await target.get(`/peers/messages/${first.id}`);
      const blocked = await target.submit('/peers/blocks', { messageId: String(first.id) });
      expect(blocked.status).toBe(303);
      expect(blocked.headers.location).toBe(`/peers/messages/${first.id}?notice=blocked`);
      // Twice is once.
      expect((await target.submit('/peers/blocks', { messageId: String(first.id) })).status).toBe(303);
      expect(await ds.getRepository(PeerBlock).countBy({ blockerId: target.userId, blockedId: pest.userId })).toBe(1);
      const list = await target.get('/peers/blocks');
      expect(list.body).toContain(`data-blocked="${pest.userId}"`);
      expect(list.body).toContain(pest.name);

      const page = await pest.get(`/peers/${target.userId}`);
      expect(page.body).not.toContain(`href="/peers/${target.userId}/contact"`);
      expect(page.body).toContain('This person is not accepting messages from you');
      const again = await contact(pest, target, 'Second', 'Are you there?');
      expect(again.status).toBe(403);
      expect(again.body).toContain('This person is not accepting messages from you');
      expect(again.body).not.toMatch(/blocked/i);
      // Nor can they write in the old conversation (which stays readable to both).
      const conversation = await pest.get(`/peers/messages/${first.id}`);
      expect(conversation.status).toBe(200);
      expect(conversation.body).toContain('This person is not accepting messages from you');
      expect(await ds.getRepository(PeerMessage).countBy({ senderId: pest.userId })).toBe(1);
      await t.drainJobs();
      expect(await storedMailsTo(target.email)).toBe(1);
      expect(mailsTo(target.email)).toHaveLength(1);

      await target.get('/peers/blocks');
      expect((await target.submit(`/peers/blocks/${pest.userId}/unblock`, {})).headers.location).toBe('/peers/blocks?notice=unblocked');
      expect(await ds.getRepository(PeerBlock).countBy({ blockerId: target.userId })).toBe(0);
      expect((await contact(pest, target, 'Third', 'Sorry to bother you')).status).toBe(303);
      expect(await receivedBy(target.email, 2)).toHaveLength(2);
    });

    it('limits new conversations per sender (5 an hour, 20 a day), also when they are sent at once, with nothing sent past the limit', async () => {
      const busy = await person('Bo', trust);
      const recipients = await Promise.all(Array.from({ length: 8 }, (_, i) => listedPeer(`Rec${i}`, i % 2 ? federation : council)));
      await busy.get(`/peers/${recipients[0].userId}/contact`);
      // Eight at once: the lock on the sender's account makes them take turns, so exactly five go.
      const answers = await Promise.all(recipients.map((r, i) => busy.submit(`/peers/${r.userId}/contact`, { subject: `Question ${i}`, body: 'Keep this text' })));
      expect(answers.filter((a) => a.status === 303)).toHaveLength(5);
      const limited = answers.filter((a) => a.status === 429);
      expect(limited).toHaveLength(3);
      expect(limited[0].body).toContain('You have contacted 5 people in the last hour, the most the academy allows');
      expect(limited[0].body).toContain('Keep this text');
      expect(Number(limited[0].headers['retry-after'])).toBeGreaterThan(3000);
      expect(await ds.getRepository(PeerMessage).countBy({ senderId: busy.userId })).toBe(5);
      await t.drainJobs();
      const reached = recipients.filter((r, i) => answers[i].status === 303);
      const refused = recipients.filter((r, i) => answers[i].status === 429);
      await waitFor(() => reached.every((r) => mailsTo(r.email).length === 1));
      for (const r of refused) {
        expect(await storedMailsTo(r.email)).toBe(0);
        expect(mailsTo(r.email)).toHaveLength(0);
      }
      // The form says so before anything is written; replies are not counted.
      const form = await busy.get(`/peers/${refused[0].userId}/contact`);
      expect(form.status).toBe(429);
      expect(form.body).toContain('the most the academy allows');

      // An hour later, five more; the day's twenty are counted from the stored messages.
      t.app.get(Clock).travel(HOUR + 60_000);
      try {
        expect((await contact(busy, refused[0])).status).toBe(303);
        const now = t.app.get(Clock).now().getTime();
        await ds.getRepository(PeerMessage).insert(
          Array.from({ length: 14 }, (_, i) => ({ senderId: busy.userId, recipientId: reached[i % reached.length].userId, inReplyToId: null, subject: `Earlier ${i}`, body: 'Earlier', createdAt: new Date(now - 2 * HOUR - i * 60_000) })),
        );
        const overDay = await contact(busy, refused[1]);
        expect(overDay.status).toBe(429);
        expect(overDay.body).toContain('You have contacted 20 people in the last 24 hours');
        expect(await ds.getRepository(PeerMessage).countBy({ senderId: busy.userId, recipientId: refused[1].userId })).toBe(0);
      } finally {
        t.app.get(Clock).travel(-(HOUR + 60_000));
      }
    });

    if (usingRealEngines()) {
      it('holds the limit on MariaDB when two processes’ worth of requests race (two sessions of one sender)', async () => {
        const racer = await person('Rae', trust);
        const other = t.visitor();
        await other.signIn(racer.email, racer.password);
        const recipients = await Promise.all(Array.from({ length: 10 }, (_, i) => listedPeer(`Race${i}`, federation)));
        await racer.get('/peers');
        await other.get('/peers');
        const answers = await Promise.all(recipients.map((r, i) => (i % 2 ? other : racer).submit(`/peers/${r.userId}/contact`, { subject: `Race ${i}`, body: 'At once' })));
        expect(answers.filter((a) => a.status === 303)).toHaveLength(5);
        expect(answers.filter((a) => a.status === 429)).toHaveLength(5);
        expect(await ds.getRepository(PeerMessage).countBy({ senderId: racer.userId })).toBe(5);
        expect(await ds.getRepository(MailMessage).countBy({ toAddress: In(recipients.map((r) => r.email)) })).toBe(5);
      });
    }
  });

  describe('personal data', () => {
    it('exports the profile, messages sent and received, and blocks; deleting the account erases them all', async () => {
      const ada = await listedPeer('Ada', trust, { bio: 'EPR lead', systems: [millennium.id], topics: [safety.id] });
      const grace = await listedPeer('Grace', federation, { systems: [emis.id] });
      const pest = await person('Pip', council);
      expect((await contact(ada, grace, 'From Ada', 'Hello Grace')).status).toBe(303);
      const fromAda = await ds.getRepository(PeerMessage).findOneByOrFail({ senderId: ada.userId });
      await grace.get(`/peers/messages/${fromAda.id}`);
      expect((await grace.submit(`/peers/messages/${fromAda.id}/reply`, { body: 'Hello Ada' })).status).toBe(303);
      expect((await contact(pest, ada, 'From Pip', 'Buy my product')).status).toBe(303);
      const fromPip = await ds.getRepository(PeerMessage).findOneByOrFail({ senderId: pest.userId });
      await ada.get(`/peers/messages/${fromPip.id}`);
      expect((await ada.submit('/peers/blocks', { messageId: String(fromPip.id) })).status).toBe(303);

      const api = await t.apiClient(ada.email, ada.password);
      const document = (await api.get('/api/v1/me/data')).json();
      const s = document.sections;
      expect(s.peerProfile).toMatchObject({ listed: true, bio: 'EPR lead', openToContact: true, systems: [{ slug: millennium.slug, name: 'Millennium', supplier: 'Oracle Health' }], topics: [{ slug: safety.slug, name: 'Clinical safety' }] });
      expect(s.peerMessages).toEqual([
        expect.objectContaining({ direction: 'sent', with: { id: grace.userId, name: grace.name }, subject: 'From Ada', body: 'Hello Grace', inReplyTo: null }),
        expect.objectContaining({ direction: 'received', with: { id: grace.userId, name: grace.name }, body: 'Hello Ada', inReplyTo: fromAda.id }),
        expect.objectContaining({ direction: 'received', with: { id: pest.userId, name: pest.name }, subject: 'From Pip' }),
      ]);
      expect(s.peerBlocks).toEqual([{ person: { id: pest.userId, name: pest.name }, blockedAt: expect.any(String) }]);
      // Pip's download says nothing of who blocked them.
      const pipApi = await t.apiClient(pest.email, pest.password);
      const pipDocument = (await pipApi.get('/api/v1/me/data')).json();
      expect(pipDocument.sections.peerBlocks).toEqual([]);
      expect(pipDocument.sections.peerProfile).toBeNull();

      await ada.get('/account/delete');
      expect((await ada.submit('/account/delete', { certificates: 'keep', password: ada.password })).status).toBe(303);
      expect(await ds.getRepository(PeerProfile).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(PeerProfileSystem).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(PeerProfileTopic).countBy({ userId: ada.userId })).toBe(0);
      expect(await ds.getRepository(PeerMessage).count({ where: [{ senderId: ada.userId }, { recipientId: ada.userId }] })).toBe(0);
      expect(await ds.getRepository(PeerBlock).count({ where: [{ blockerId: ada.userId }, { blockedId: ada.userId }] })).toBe(0);
      // Grace's own profile is untouched; the conversation is gone from her list too.
      expect(await ds.getRepository(PeerProfile).countBy({ userId: grace.userId })).toBe(1);
      expect((await grace.get('/peers/messages')).body).not.toContain(`data-conversation="${fromAda.id}"`);
      expect((await grace.get(`/peers/messages/${fromAda.id}`)).status).toBe(404);
    });
  });
});

import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import ExcelJS from 'exceljs';
import { DataSource } from 'typeorm';
import { searchWords, whereFullTextMatches } from '../../src/common/full-text';
import { Clock } from '../../src/common/clock';
import { loadConfig } from '../../src/config/config';
import { dataSourceOptions } from '../../src/database/data-source';
import { seedDemo } from '../../src/demo/demo.seeder';
import { DEMO_FILE_GENERATORS } from '../../src/demo/exchange-files';
import { DEMO_MODERATOR_EMAIL, demoExchangeItems, demoItemSlug, demoPeers, resolvedRevisions } from '../../src/demo/exchange-seeder';
import { DEMO_ORGANISATIONS } from '../../src/demo/organisation-seeder';
import { readZipArchive } from '../../src/demo/zip-archive';
import { ATTACHMENT_RULE, TOOL_FILE_RULE } from '../../src/exchange/contributions/contributions.service';
import { ExchangeFile } from '../../src/exchange/entities/exchange-file.entity';
import { ExchangeItem } from '../../src/exchange/entities/exchange-item.entity';
import { ExchangeRevision } from '../../src/exchange/entities/exchange-revision.entity';
import { ExchangeAdoption, ExchangeHelpfulVote, ExchangeSave } from '../../src/exchange/entities/exchange-signals.entity';
import { ExchangeSystem } from '../../src/exchange/entities/exchange-system.entity';
import { HACK_MAX_CHARACTERS, REVIEW_CHECKS, SYSTEM_CATEGORIES } from '../../src/exchange/exchange-kinds';
import { idList, reviewDueFrom } from '../../src/exchange/search-projection';
import { seedStartingSystems, STARTING_SYSTEMS, startingSystemSlug } from '../../src/exchange/starting-systems';
import { FILE_KINDS } from '../../src/storage/content-check';
import { FileStorage } from '../../src/storage/file-storage';
import { startTestApp, TestApp } from '../support/app';
import { provisionEngines, TestEngines } from '../support/engines';
import { freePort, run, waitForHealth } from '../support/processes';
import { createSystem } from '../support/exchange';

const definitions = demoExchangeItems();
const bySlug = new Map(definitions.map((d) => [demoItemSlug(d), d]));
const slugOf = (key: string) => demoItemSlug(definitions.find((d) => d.key === key)!);

describe('the demo exchange content (written by the project)', () => {
  it('has six case studies, four tools and six hacks to publish, one hack to return, each complete for its kind', () => {
    const published = definitions.filter((d) => d.revisions.some((r) => r.status === 'published'));
    const count = (kind: string) => published.filter((d) => d.kind === kind).length;
    expect([count('case_study'), count('tool'), count('hack')]).toEqual([6, 4, 6]);
    expect(definitions.filter((d) => d.revisions.every((r) => r.status === 'returned'))).toHaveLength(1);
    expect(new Set(definitions.map((d) => d.key)).size).toBe(definitions.length);
    expect(new Set(definitions.map(demoItemSlug)).size).toBe(definitions.length);
    const systemSlugs = new Set(STARTING_SYSTEMS.map(startingSystemSlug));
    for (const definition of definitions) {
      expect(DEMO_ORGANISATIONS.map((o) => o.key)).toContain(definition.organisation);
      for (const revision of resolvedRevisions(definition)) {
        const text = JSON.stringify(revision);
        expect(text).not.toMatch(/lorem ipsum|TODO/i);
        expect(revision.title!.length).toBeLessThanOrEqual(150);
        expect((revision.summary ?? '').length).toBeLessThanOrEqual(500);
        expect(revision.topics!.length).toBeGreaterThanOrEqual(1);
        for (const slug of revision.systems ?? []) expect(systemSlugs).toContain(slug);
        if (definition.kind === 'case_study') {
          for (const section of ['summary', 'careSetting', 'context', 'actions', 'results', 'lessons', 'differently'] as const) expect(revision[section]).toBeTruthy();
          expect(revision.keyFigures!.length).toBeGreaterThanOrEqual(2);
        }
        if (definition.kind === 'tool') for (const field of ['summary', 'purpose', 'howToUse', 'toolType', 'licence'] as const) expect(revision[field]).toBeTruthy();
        if (definition.kind === 'hack') {
          expect([...revision.tip!.trim()].length).toBeLessThanOrEqual(HACK_MAX_CHARACTERS);
          expect([...revision.tip!.trim()].length).toBeGreaterThan(200);
        }
      }
      if (definition.kind === 'tool') expect(definition.revisions[0].file).toBeDefined();
    }
  });
});

describe('the demo exchange (seeded with everything else, as at a first start)', () => {
  let t: TestApp;
  let db: DataSource;
  const printed: string[] = [];
  const TABLES = [
    'users',
    'audit_log',
    'exchange_systems',
    'exchange_items',
    'exchange_revisions',
    'exchange_files',
    'exchange_revision_files',
    'exchange_item_topics',
    'exchange_item_systems',
    'exchange_item_organisations',
    'exchange_helpful_votes',
    'exchange_saves',
    'exchange_adoptions',
    'peer_profiles',
    'peer_profile_systems',
    'peer_profile_topics',
  ];
  const counts = async () => {
    const result: Record<string, number> = {};
    for (const table of TABLES) result[table] = Number((await db.query(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
    return result;
  };
  const count = async (sql: string, parameters: unknown[] = []) => Number((await db.query(sql, parameters))[0].n);
  const search = async (text: string) => {
    const qb = db.getRepository(ExchangeItem).createQueryBuilder('i').select(['i.id', 'i.slug']).where('i.status = :status', { status: 'published' });
    const score = whereFullTextMatches(qb, { alias: 'i', table: 'exchange_items', columns: ['title', 'summary', 'search_text'] }, searchWords(text));
    return (await qb.addSelect(score, 'score').orderBy('score', 'DESC').addOrderBy('i.id', 'ASC').getMany()).map((i) => i.slug);
  };
  let items: ExchangeItem[];
  let organisations: Map<string, number>;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    const started = performance.now();
    await seedDemo(t.app, t.config.publicUrl, (line) => printed.push(line));
    process.stdout.write(`demo seeding with the exchange (${t.engines.kind}): ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    items = await db.getRepository(ExchangeItem).find({ order: { id: 'ASC' } });
    const rows: Array<{ id: number | string; name: string }> = await db.query("SELECT id, name FROM organisations WHERE name LIKE 'Demo %'");
    organisations = new Map(DEMO_ORGANISATIONS.map((o) => [o.key, Number(rows.find((r) => r.name === o.name)!.id)]));
  }, 180_000);
  afterAll(() => t.close());

  it('starts the moderators’ list with widely used UK systems, every category represented', async () => {
    const systems = await db.getRepository(ExchangeSystem).find();
    expect(systems.map((s) => s.slug).sort()).toEqual(STARTING_SYSTEMS.map(startingSystemSlug).sort());
    expect(systems.every((s) => s.retiredAt === null && s.createdById === null)).toBe(true);
    expect(new Set(systems.map((s) => s.category))).toEqual(new Set(Object.keys(SYSTEM_CATEGORIES)));
    expect(systems.find((s) => s.slug === 'oracle-health-millennium')).toMatchObject({ name: 'Millennium', supplier: 'Oracle Health', category: 'epr' });
    expect(systems.find((s) => s.slug === 'tpp-systmone')).toMatchObject({ name: 'SystmOne', supplier: 'TPP', category: 'gp_clinical' });
  });

  it('publishes six case studies, four tools and six hacks from the three demo organisations, through the projection', async () => {
    const published = items.filter((i) => i.status === 'published');
    const kinds = (kind: string) => published.filter((i) => i.kind === kind).length;
    expect([kinds('case_study'), kinds('tool'), kinds('hack')]).toEqual([6, 4, 6]);
    expect(items).toHaveLength(17);
    expect(new Set(published.map((i) => i.organisationId))).toEqual(new Set(organisations.values()));

    const revisions = await db.getRepository(ExchangeRevision).find();
    const topicRows: Array<{ itemId: number | string; topicId: number | string }> = await db.query('SELECT item_id AS itemId, topic_id AS topicId FROM exchange_item_topics');
    const systemRows: Array<{ itemId: number | string; systemId: number | string }> = await db.query('SELECT item_id AS itemId, system_id AS systemId FROM exchange_item_systems');
    const organisationRows: Array<{ itemId: number | string; organisationId: number | string; isLead: number | boolean }> = await db.query('SELECT item_id AS itemId, organisation_id AS organisationId, is_lead AS isLead FROM exchange_item_organisations');
    const ids = (rows: Array<Record<string, number | string | boolean>>, itemId: number, column: string) => rows.filter((r) => Number(r.itemId) === itemId).map((r) => Number(r[column])).sort((a, b) => a - b);
    const deciders = new Map<number, { role: string; organisationIds: number[] }>();
    const deciderRows: Array<{ id: number | string; role: string; organisationId: number | string | null }> = await db.query(
      "SELECT u.id AS id, u.role AS role, m.organisation_id AS organisationId FROM users u LEFT JOIN organisation_memberships m ON m.user_id = u.id AND m.status = 'active' WHERE u.role IN ('moderator', 'admin')",
    );
    for (const row of deciderRows) {
      const entry = deciders.get(Number(row.id)) ?? { role: row.role, organisationIds: [] as number[] };
      if (row.organisationId !== null) entry.organisationIds.push(Number(row.organisationId));
      deciders.set(Number(row.id), entry);
    }

    for (const item of published) {
      const revision = revisions.find((r) => r.id === item.publishedRevisionId)!;
      expect(revision).toMatchObject({ itemId: item.id, status: 'published', title: item.title, summary: item.summary, careSetting: item.careSetting });
      expect(revision.checklist!.split(',').sort()).toEqual([...REVIEW_CHECKS].sort());
      // Decided by a moderator or an administrator, never by someone of the item's own organisation.
      const decider = deciders.get(revision.decidedById!)!;
      expect(['moderator', 'admin']).toContain(decider.role);
      expect(decider.organisationIds).not.toContain(item.organisationId);
      expect(revision.submittedAt!.getTime()).toBeLessThan(revision.decidedAt!.getTime());
      expect(item.publishedAt!.getTime()).toBe(revision.decidedAt!.getTime());
      expect(item.reviewDueAt!.getTime()).toBe(reviewDueFrom(item.publishedAt!).getTime());
      expect(item.reviewDueAt!.getTime()).toBeGreaterThan(Date.now());
      expect(item.publishedAt!.getTime()).toBeLessThan(Date.now());
      expect(item.searchText!.length).toBeGreaterThan(100);
      // The facet rows are the published revision's lists.
      expect(ids(topicRows, item.id, 'topicId')).toEqual(idList(revision.topicIds).sort((a, b) => a - b));
      expect(ids(systemRows, item.id, 'systemId')).toEqual(idList(revision.systemIds).sort((a, b) => a - b));
      expect(idList(revision.topicIds).length).toBeGreaterThanOrEqual(1);
      const lead = organisationRows.filter((r) => Number(r.itemId) === item.id && !!Number(r.isLead));
      expect(lead.map((r) => Number(r.organisationId))).toEqual([item.organisationId]);
      expect(ids(organisationRows, item.id, 'organisationId')).toEqual([item.organisationId, ...idList(revision.partnerOrganisationIds)].sort((a, b) => a - b));
      const definition = bySlug.get(item.slug)!;
      expect(definition.kind).toBe(item.kind);
      if (item.kind === 'hack') expect([...revision.tip!.trim()].length).toBeLessThanOrEqual(HACK_MAX_CHARACTERS);
      if (item.kind === 'case_study') expect(JSON.parse(revision.keyFigures!).length).toBeGreaterThanOrEqual(2);
    }
    // Every published item's author was an active member of its organisation, and joined before writing it.
    const authors: Array<{ id: number | string }> = await db.query(
      "SELECT i.id AS id FROM exchange_items i JOIN organisation_memberships m ON m.user_id = i.author_id AND m.organisation_id = i.organisation_id AND m.status = 'active' JOIN users u ON u.id = i.author_id WHERE u.created_at < i.created_at",
    );
    expect(authors).toHaveLength(items.length);
  });

  it('is found by full text through the projection: by a system’s name, a supplier, an organisation or a topic', async () => {
    const withSystem = async (slug: string) => {
      const system = await db.getRepository(ExchangeSystem).findOneByOrFail({ slug });
      const rows: Array<{ slug: string }> = await db.query("SELECT i.slug AS slug FROM exchange_item_systems s JOIN exchange_items i ON i.id = s.item_id WHERE s.system_id = ? AND i.status = 'published'", [system.id]);
      return rows.map((r) => r.slug).sort();
    };
    // Supplier names appear in no item's own words: only the projection puts them there.
    expect((await search('Person Centred Software')).sort()).toEqual(await withSystem('person-centred-software-mobile-care-monitoring'));
    expect((await search('Person Centred Software')).sort()).toEqual([slugOf('care-home-digital-records'), slugOf('pin-the-care-app'), slugOf('wifi-walk')].sort());
    expect(await search('Imprivata')).toEqual([slugOf('password-reset-runbook')]);
    expect((await search('TPP')).sort()).toEqual(await withSystem('tpp-systmone'));
    expect((await search('SystmOne')).sort()).toEqual(expect.arrayContaining(await withSystem('tpp-systmone')));
    expect(await search('CareCentric')).toContain(slugOf('shared-care-record-safety-case'));
    // The partner organisation finds it too.
    expect(await search('Riverside')).toContain(slugOf('shared-care-record-safety-case'));
    expect(await search('Meadowbank')).toContain(slugOf('care-home-digital-records'));
    // Words of a tool's text, and the hack's tip.
    expect(await search('scramble')).toEqual([slugOf('dspt-evidence-checklist')]);
    expect(await search('dBm signal')).toEqual([slugOf('wifi-walk')]);
    // The returned hack and the revision still in review are not public: their words find nothing.
    expect(await search('chat')).toEqual([]);
    expect(await search('phishing bank agency')).toEqual([]);
  });

  it('keeps every counter equal to its rows, with signals only on published items and adoptions only by other organisations', async () => {
    let adopted = 0;
    for (const item of items) {
      expect(item.helpfulCount).toBe(await count('SELECT COUNT(*) AS n FROM exchange_helpful_votes WHERE item_id = ?', [item.id]));
      expect(item.saveCount).toBe(await count('SELECT COUNT(*) AS n FROM exchange_saves WHERE item_id = ?', [item.id]));
      expect(item.adoptionCount).toBe(await count('SELECT COUNT(*) AS n FROM exchange_adoptions WHERE item_id = ?', [item.id]));
      expect(item.downloadCount).toBe(await count('SELECT COALESCE(SUM(download_count), 0) AS n FROM exchange_files WHERE item_id = ?', [item.id]));
      if (item.status !== 'published') expect([item.helpfulCount, item.saveCount, item.adoptionCount, item.downloadCount]).toEqual([0, 0, 0, 0]);
      else expect(item.helpfulCount).toBeGreaterThanOrEqual(2);
      if (item.adoptionCount) adopted++;
    }
    expect(adopted).toBeGreaterThanOrEqual(6);
    expect(await count('SELECT COUNT(*) AS n FROM exchange_adoptions')).toBe(9);
    expect(await count('SELECT COUNT(*) AS n FROM exchange_adoptions a JOIN exchange_items i ON i.id = a.item_id WHERE a.organisation_id = i.organisation_id')).toBe(0);
    // Each adoption was recorded by an active member of the organisation adopting it, with a note.
    expect(await count("SELECT COUNT(*) AS n FROM exchange_adoptions a JOIN organisation_memberships m ON m.user_id = a.recorded_by_id AND m.organisation_id = a.organisation_id AND m.status = 'active' WHERE a.note IS NOT NULL")).toBe(9);
    // Every signal came after the item was published and after its person signed up; none from the item's author.
    for (const table of ['exchange_helpful_votes', 'exchange_saves']) {
      expect(await count(`SELECT COUNT(*) AS n FROM ${table} s JOIN exchange_items i ON i.id = s.item_id JOIN users u ON u.id = s.user_id WHERE s.created_at < i.first_published_at OR s.created_at < u.created_at OR s.user_id = i.author_id`)).toBe(0);
    }
    const signals = [...(await db.getRepository(ExchangeHelpfulVote).find()), ...(await db.getRepository(ExchangeSave).find()), ...(await db.getRepository(ExchangeAdoption).find())];
    expect(signals).toHaveLength(items.reduce((sum, i) => sum + i.helpfulCount + i.saveCount + i.adoptionCount, 0));
    expect(signals.filter((s) => s.createdAt.getTime() > Date.now())).toEqual([]);
    expect(await count('SELECT COUNT(*) AS n FROM exchange_adoptions a JOIN exchange_items i ON i.id = a.item_id WHERE a.created_at < i.first_published_at')).toBe(0);
    // The demo learner and manager have saved items for later.
    expect(await count("SELECT COUNT(*) AS n FROM exchange_saves s JOIN users u ON u.id = s.user_id WHERE u.email = 'learner@demo.peer-academy.local'")).toBe(3);
    expect(await count("SELECT COUNT(*) AS n FROM exchange_saves s JOIN users u ON u.id = s.user_id WHERE u.email = 'manager@demo.peer-academy.local'")).toBe(2);
  });

  it('has one tool in two versions, a newer revision waiting in the moderators’ queue, and a hack returned with feedback', async () => {
    const revisions = db.getRepository(ExchangeRevision);
    const tool = items.find((i) => i.slug === slugOf('dspt-evidence-checklist'))!;
    const toolRevisions = await revisions.find({ where: { itemId: tool.id }, order: { number: 'ASC' } });
    expect(toolRevisions.map((r) => r.status)).toEqual(['superseded', 'published']);
    expect(tool.publishedRevisionId).toBe(toolRevisions[1].id);
    expect(tool.latestRevisionId).toBe(toolRevisions[1].id);
    expect(tool.firstPublishedAt!.getTime()).toBe(toolRevisions[0].decidedAt!.getTime());
    expect(tool.publishedAt!.getTime()).toBe(toolRevisions[1].decidedAt!.getTime());
    expect(toolRevisions[1].changeNote).toMatch(/Cyber Assessment Framework/);
    const toolFiles = await db.getRepository(ExchangeFile).find({ where: { itemId: tool.id }, order: { version: 'ASC' } });
    expect(toolFiles.map((f) => [f.role, f.version, f.fileName])).toEqual([
      ['tool', 1, 'dspt-evidence-checklist-v1.xlsx'],
      ['tool', 2, 'dspt-evidence-checklist-v2.xlsx'],
    ]);
    expect(toolRevisions.map((r) => r.toolFileId)).toEqual(toolFiles.map((f) => f.id));
    expect(toolFiles.map((f) => f.downloadCount)).toEqual([41, 58]);

    // The queue: one revision, submitted, of a published item that stays up meanwhile.
    const queue = await revisions.find({ where: { status: 'submitted' } });
    expect(queue).toHaveLength(1);
    const phishing = items.find((i) => i.id === queue[0].itemId)!;
    expect(phishing.slug).toBe(slugOf('phishing-clicks'));
    expect(phishing.status).toBe('published');
    expect(queue[0]).toMatchObject({ number: 2, decidedAt: null, decidedById: null, feedback: null });
    expect(queue[0].changeNote).toBeTruthy();
    expect(phishing.latestRevisionId).toBe(queue[0].id);
    expect(phishing.publishedRevisionId).not.toBe(queue[0].id);
    expect(phishing.summary).not.toContain('bank and agency');
    const attached: Array<{ revisionId: number | string; fileId: number | string }> = await db.query('SELECT revision_id AS revisionId, file_id AS fileId FROM exchange_revision_files WHERE revision_id IN (?, ?) ORDER BY revision_id', [phishing.publishedRevisionId, queue[0].id]);
    expect(attached).toHaveLength(2);
    expect(Number(attached[0].fileId)).toBe(Number(attached[1].fileId));

    // Returned, never published: the author's and the moderators' to see, with the feedback saying what to change.
    const returned = items.filter((i) => i.status === 'returned');
    expect(returned.map((i) => i.slug)).toEqual([slugOf('whatsapp-handover')]);
    const [feedback] = await revisions.find({ where: { itemId: returned[0].id } });
    expect(feedback.status).toBe('returned');
    expect(feedback.feedback).toMatch(/identify/);
    expect(returned[0]).toMatchObject({ publishedRevisionId: null, publishedAt: null, title: '', searchText: null });
    const moderatorId = Number((await db.query('SELECT id FROM users WHERE email = ?', [DEMO_MODERATOR_EMAIL]))[0].id);
    expect(feedback.decidedById).toBe(moderatorId);
    expect(await count('SELECT COUNT(*) AS n FROM exchange_item_organisations WHERE item_id = ?', [returned[0].id])).toBe(0);
  });

  it('stores every tool file and attachment, each passing the content check, with the SHA-256 its generator always makes', async () => {
    const storage = t.app.get(FileStorage);
    const files = await db.getRepository(ExchangeFile).find({ order: { id: 'ASC' } });
    expect(files.filter((f) => f.role === 'tool')).toHaveLength(5);
    expect(files.filter((f) => f.role === 'attachment')).toHaveLength(1);
    for (const file of files) {
      expect(file.storageKey.startsWith(`exchange/${file.itemId}/`)).toBe(true);
      expect(await storage.size(file.storageKey)).toBe(file.bytes);
      const chunks: Buffer[] = [];
      for await (const chunk of storage.open(file.storageKey)) chunks.push(chunk as Buffer);
      const bytes = Buffer.concat(chunks);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
      const extension = file.fileName.split('.').pop()!;
      // What a member could upload for the same place: a tool's file or an attachment.
      expect((file.role === 'tool' ? TOOL_FILE_RULE : ATTACHMENT_RULE).allowed).toContain(extension);
      const kind = FILE_KINDS[extension];
      expect(kind.matches(bytes.subarray(0, 4100))).toBe(true);
      expect(file.contentType).toBe(kind.mimeType);
      // Made again from the same date, the same bytes.
      const again = await Promise.all(Object.values(DEMO_FILE_GENERATORS).map((make) => make(file.createdAt)));
      expect(again.find((f) => f.fileName === file.fileName)!.bytes.equals(bytes)).toBe(true);
      if (file.fileName.endsWith('.xlsx')) {
        const workbook = new ExcelJS.Workbook();
        await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
        const evidence = workbook.getWorksheet('Evidence')!;
        expect(evidence.rowCount).toBe(file.version === 1 ? 22 : 24);
        expect(evidence.getRow(1).values).toContain(file.version === 1 ? 'Status' : 'CAF objective');
        expect(workbook.worksheets.map((s) => s.name)).toEqual(['Evidence', 'Summary', 'How to use']);
      }
      if (file.fileName.endsWith('.docx')) {
        const document = readZipArchive(bytes).find((e) => e.name === 'word/document.xml')!.data.toString('utf8');
        expect(document).toContain('Data protection impact assessment (DPIA)');
        expect(document).toContain('<w:pStyle w:val="Heading1"/>');
        expect(document).toContain('<w:tblHeader/>');
      }
      if (file.fileName.endsWith('.ps1')) expect(bytes.toString('utf8')).toContain('Set-ADAccountPassword -Identity $user -Reset');
      if (file.fileName.startsWith('change-freeze-calendar')) {
        const lines = bytes.toString('utf8').replace(/^\uFEFF/, '').trim().split('\r\n');
        expect(lines[0]).toBe('From,To,Kind,Why,Systems,Exceptions approved by');
        expect(lines.length).toBeGreaterThanOrEqual(10);
        expect(lines.some((l) => /^\d{4}-\d{2}-\d{2},\d{4}-\d{2}-\d{2},Freeze,"?Easter/.test(l))).toBe(true);
      }
    }
  });

  it('lists five peer profiles of demo staff, four open to contact, with the systems they run and the topics they help with', async () => {
    const rows: Array<{ email: string; listed: number | boolean; openToContact: number | boolean; systems: number | string; topics: number | string }> = await db.query(
      `SELECT u.email AS email, p.listed AS listed, p.open_to_contact AS openToContact,
              (SELECT COUNT(*) FROM peer_profile_systems s WHERE s.user_id = p.user_id) AS systems,
              (SELECT COUNT(*) FROM peer_profile_topics pt WHERE pt.user_id = p.user_id) AS topics
         FROM peer_profiles p JOIN users u ON u.id = p.user_id ORDER BY u.email`,
    );
    expect(rows.map((r) => r.email)).toEqual(demoPeers().map((p) => p.email).sort());
    expect(rows.every((r) => !!Number(r.listed))).toBe(true);
    expect(rows.filter((r) => !!Number(r.openToContact))).toHaveLength(4);
    for (const row of rows) {
      const peer = demoPeers().find((p) => p.email === row.email)!;
      expect(Number(row.systems)).toBe(peer.systems.length);
      expect(Number(row.topics)).toBe(peer.topics.length);
    }
    // Each is an active member of a demo organisation.
    expect(await count("SELECT COUNT(DISTINCT p.user_id) AS n FROM peer_profiles p JOIN organisation_memberships m ON m.user_id = p.user_id AND m.status = 'active'")).toBe(5);
  });

  it('prints the demo moderator once, who signs in as a moderator appointed by the administrator', async () => {
    const line = printed.find((l) => l.includes(` ${DEMO_MODERATOR_EMAIL} `));
    expect(line).toBeDefined();
    const [role, email, password] = line!.trim().split(/\s+/);
    expect([role, email]).toEqual(['moderator', DEMO_MODERATOR_EMAIL]);
    const [user] = await db.query('SELECT id, role, email_verified_at AS verifiedAt FROM users WHERE email = ?', [DEMO_MODERATOR_EMAIL]);
    expect(user.role).toBe('moderator');
    expect(user.verifiedAt).not.toBeNull();
    expect(await count("SELECT COUNT(*) AS n FROM organisation_memberships WHERE user_id = ? AND organisation_id = ? AND status = 'active'", [user.id, organisations.get('federation')])).toBe(1);
    expect(await count("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'user.role_changed' AND target_id = ?", [user.id])).toBe(1);
    const moderator = t.visitor();
    await moderator.signIn(email, password);
    expect((await moderator.get('/account')).status).toBe(200);
    expect(Math.abs(t.app.get(Clock).now().getTime() - Date.now())).toBeLessThan(1000);
  });

  it('reads as a living exchange: every published item’s page is public, the moderator has her queue, the learner her saved items', async () => {
    const credentials = (email: string) => {
      const [, , password] = printed.find((l) => l.includes(` ${email} `))!.trim().split(/\s+/);
      return { email, password };
    };
    const anonymous = t.visitor();
    for (const item of items.filter((i) => i.status === 'published')) {
      const page = await anonymous.get(`/exchange/${item.slug}`);
      expect(page.status).toBe(200);
      expect(page.body).toContain(item.title.replace(/&/g, '&amp;').replace(/'/g, '&#x27;'));
    }
    // The search API finds them, with the facets a newcomer filters by.
    const all = (await anonymous.get('/api/v1/exchange')).json();
    expect(all.total).toBe(16);
    expect(Object.fromEntries(all.facets.kind.map((v: { value: string; count: number }) => [v.value, v.count]))).toEqual({ case_study: 6, tool: 4, hack: 6 });
    expect(all.facets.organisationType.map((v: { value: string }) => v.value).sort()).toEqual(['care_provider', 'gp_federation', 'nhs_trust']);
    const systmOne = (await anonymous.get('/api/v1/exchange?system=tpp-systmone')).json();
    expect(systmOne.items.map((i: { slug: string }) => i.slug).sort()).toEqual(items.filter((i) => i.status === 'published' && /SystmOne/.test(i.searchText ?? '')).map((i) => i.slug).sort());
    const supplier = (await anonymous.get(`/api/v1/exchange?q=${encodeURIComponent('Person Centred Software')}`)).json();
    expect(supplier.items.map((i: { slug: string }) => i.slug).sort()).toEqual([slugOf('care-home-digital-records'), slugOf('pin-the-care-app'), slugOf('wifi-walk')].sort());
    const adopted = (await anonymous.get('/api/v1/exchange?sort=most_adopted')).json();
    expect(adopted.items[0].slug).toBe(slugOf('dspt-evidence-checklist'));
    // Not published: the same 404 as a slug that does not exist, on the page and on the API.
    expect((await anonymous.get(`/exchange/${slugOf('whatsapp-handover')}`)).status).toBe(404);
    expect((await anonymous.get(`/api/v1/exchange/${slugOf('whatsapp-handover')}`)).status).toBe(404);
    // The tool's API answer: both versions, the second current.
    const tool = (await anonymous.get(`/api/v1/exchange/${slugOf('dspt-evidence-checklist')}`)).json();
    expect(tool.tool.versions.map((v: { version: number; current: boolean }) => [v.version, v.current])).toEqual([
      [2, true],
      [1, false],
    ]);
    expect(tool.counts).toEqual({ helpful: 8, adoptions: 2, saves: 3, downloads: 99 });

    const moderator = t.visitor();
    const ruth = credentials(DEMO_MODERATOR_EMAIL);
    await moderator.signIn(ruth.email, ruth.password);
    const queue = await moderator.get('/moderation');
    expect(queue.status).toBe(200);
    expect(queue.body.match(/data-revision="/g)).toHaveLength(1);
    expect(queue.body).toContain('Cutting phishing clicks from 19% to 4% in a year');
    expect(queue.body).toContain('Revision 2 of a published item');
    // She may read the hack she returned; the public may not.
    const returned = await moderator.get(`/exchange/${slugOf('whatsapp-handover')}`);
    expect(returned.status).toBe(200);
    expect(returned.body).toContain('A group chat for quick shift handovers');

    const learner = t.visitor();
    const priya = credentials('learner@demo.peer-academy.local');
    await learner.signIn(priya.email, priya.password);
    const saved = await learner.get('/exchange/saved');
    expect(saved.status).toBe(200);
    for (const key of ['dspt-evidence-checklist', 'shared-care-record-safety-case', 'high-risk-discharges-list']) expect(saved.body).toContain(`/exchange/${slugOf(key)}`);
    expect((await learner.get('/moderation')).status).toBe(403);
  });

  it('changes nothing when it runs again, nor does the starting list once it has rows', async () => {
    const before = await counts();
    const keys = (await db.getRepository(ExchangeFile).find()).map((f) => f.storageKey);
    const again: string[] = [];
    await seedDemo(t.app, t.config.publicUrl, (line) => again.push(line));
    expect(again).toEqual([]);
    expect(await counts()).toEqual(before);
    expect((await db.getRepository(ExchangeFile).find()).map((f) => f.storageKey)).toEqual(keys);
    expect(Math.abs(t.app.get(Clock).now().getTime() - Date.now())).toBeLessThan(1000);

    // A list the moderators keep is theirs: one retired, one renamed, and nothing comes back.
    const systems = db.getRepository(ExchangeSystem);
    await systems.update({ slug: 'clinisys-winpath' }, { retiredAt: new Date() });
    await systems.update({ slug: 'accurx-accurx' }, { name: 'Accurx Chain' });
    expect(await seedStartingSystems(db, new Date())).toBe(0);
    expect(await systems.count()).toBe(STARTING_SYSTEMS.length);
    expect((await systems.findOneByOrFail({ slug: 'accurx-accurx' })).name).toBe('Accurx Chain');
  });
});

describe('the starting list of systems, on an install without demo data', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('fills an empty list once, even when two processes start at the same moment, and never a list that has a row', async () => {
    const db = t.app.get(DataSource);
    const systems = db.getRepository(ExchangeSystem);
    expect(await systems.count()).toBe(0);
    const added = await Promise.all([seedStartingSystems(db, new Date()), seedStartingSystems(db, new Date()), seedStartingSystems(db, new Date())]);
    expect(added.sort((a, b) => b - a)).toEqual([STARTING_SYSTEMS.length, 0, 0]);
    expect(await systems.count()).toBe(STARTING_SYSTEMS.length);
    expect(await seedStartingSystems(db, new Date())).toBe(0);

    await systems.createQueryBuilder().delete().from(ExchangeSystem).execute();
    await createSystem(t, { name: 'Our own bed board', supplier: 'Built in house', category: 'other' });
    expect(await seedStartingSystems(db, new Date())).toBe(0);
    expect(await systems.count()).toBe(1);
  });
});

describe('the starting list, through the web process of a new install without demo data', () => {
  let engines: TestEngines;
  beforeAll(async () => {
    engines = await provisionEngines();
  });
  afterAll(() => engines.dispose());

  /** Starts the web process (src/main.ts, as `npm start` runs it), waits until it is healthy, stops it. */
  const startAndStop = async () => {
    const port = String(await freePort());
    const web = run('src/main.ts', { ...engines.env, DEMO_DATA: 'false', PORT: port, HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}` });
    try {
      await waitForHealth(`http://127.0.0.1:${port}`, web.child);
    } finally {
      web.child.kill('SIGTERM');
      expect(await web.exited).toBe(0);
    }
  };
  const withDatabase = async <T>(work: (db: DataSource) => Promise<T>): Promise<T> => {
    const db = await new DataSource(await dataSourceOptions(loadConfig(engines.env))).initialize();
    try {
      return await work(db);
    } finally {
      await db.destroy();
    }
  };

  it('has the 25 starting systems after the first start, and a second start leaves the moderators’ changes alone', async () => {
    await startAndStop();
    const first = await withDatabase(async (db) => {
      const rows: Array<{ slug: string }> = await db.query('SELECT slug FROM exchange_systems');
      expect(Number((await db.query('SELECT COUNT(*) AS n FROM users'))[0].n)).toBe(0);
      // A moderator takes one off the list (nothing names it yet).
      await db.query("DELETE FROM exchange_systems WHERE slug = 'clinisys-ice-order-communications'");
      return rows.map((r) => r.slug).sort();
    });
    expect(first).toEqual(STARTING_SYSTEMS.map(startingSystemSlug).sort());
    await startAndStop();
    const second = await withDatabase(async (db) => (await db.query('SELECT slug FROM exchange_systems')).map((r: { slug: string }) => r.slug));
    expect(second).toHaveLength(STARTING_SYSTEMS.length - 1);
    expect(second).not.toContain('clinisys-ice-order-communications');
  }, 120_000);
});

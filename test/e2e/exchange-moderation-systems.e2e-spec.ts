import { DataSource } from 'typeorm';
import { ExchangeSystem } from '../../src/exchange/entities/exchange-system.entity';
import { ExchangeVocabulary } from '../../src/exchange/exchange-vocabulary';
import { startTestApp, TestApp, Visitor } from '../support/app';
import { createItem, createSystem } from '../support/exchange';
import { createOrganisation } from '../support/organisations';

type Signed = Visitor & { email: string; password: string; userId: number };

const decoded = (html: string) => html.replace(/&#x27;/g, "'").replace(/&quot;/g, '"').replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');
/** The inline error of one field of a form page. */
const fieldError = (html: string, field: string) => decoded(html).match(new RegExp(`id="${field}-error"><span class="nhsuk-u-visually-hidden">Error:</span> ([^<]*)<`))?.[1];

describe('exchange moderation: the list of systems and suppliers', () => {
  let t: TestApp;
  let db: DataSource;
  let moderator: Signed;
  let other: Signed;
  const tag = `${process.pid}${Date.now()}`.slice(-8);

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    [moderator, other] = await Promise.all([t.signedIn('moderator', { name: 'Lou List' }), t.signedIn('moderator', { name: 'Kit Keeper' })]);
  });
  afterAll(() => t?.close());

  const systems = () => db.getRepository(ExchangeSystem);
  const audit = async (action: string, targetId: number) => (await db.query('SELECT actor_id, details FROM audit_log WHERE action = ? AND target_id = ? ORDER BY id', [action, targetId])).map((r: { actor_id: number; details: string }) => ({ actorId: Number(r.actor_id), details: JSON.parse(r.details) }));
  const offered = async () => (await t.app.get(ExchangeVocabulary).currentSystems()).map((s) => s.id);
  const add = async (who: Signed, form: Record<string, string>) => {
    await who.get('/moderation/systems/new');
    return who.submit('/moderation/systems/new', form);
  };

  it('adds a system, shown in its category, offered for new contributions, audited', async () => {
    const name = `Millennium ${tag}`;
    const answer = await add(moderator, { name: `  ${name}  `, supplier: 'Oracle  Health', category: 'epr' });
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe('/moderation/systems?notice=system-added');
    const system = await systems().findOneByOrFail({ name });
    expect(system).toMatchObject({ supplier: 'Oracle Health', category: 'epr', retiredAt: null, createdById: moderator.userId, slug: `oracle-health-millennium-${tag}` });
    expect(await offered()).toContain(system.id);
    const list = decoded((await moderator.get('/moderation/systems?notice=system-added')).body);
    expect(list).toContain('The system has been added to the list.');
    const epr = list.split('id="category-epr"')[1].split('</table>')[0];
    expect(epr).toContain('Electronic patient record (EPR)</caption>');
    expect(epr).toContain(name);
    expect(await audit('exchange.system_added', system.id)).toEqual([{ actorId: moderator.userId, details: expect.objectContaining({ name, supplier: 'Oracle Health', category: 'epr' }) }]);
  });

  it('lists systems by category in the categories’ order, with how many published items name each', async () => {
    const gp = await createSystem(t, { name: `Aardvark GP ${tag}`, supplier: 'Aardvark Ltd', category: 'gp_clinical' });
    const pacs = await createSystem(t, { name: `Bison PACS ${tag}`, supplier: 'Bison Ltd', category: 'pacs' });
    const author = await t.signedIn();
    const organisationId = (await createOrganisation(t)).id;
    await createItem(t, { authorId: author.userId, organisationId, systemIds: [gp.id] });
    await createItem(t, { authorId: author.userId, organisationId, systemIds: [gp.id, pacs.id] });
    await createItem(t, { authorId: author.userId, organisationId, systemIds: [gp.id], status: 'draft' }); // not counted: not published
    const list = decoded((await moderator.get('/moderation/systems')).body);
    expect(list.indexOf('id="category-epr"')).toBeLessThan(list.indexOf('id="category-gp_clinical"'));
    expect(list.indexOf('id="category-gp_clinical"')).toBeLessThan(list.indexOf('id="category-pacs"'));
    const row = (id: number) => list.slice(list.indexOf(`data-system="${id}"`)).split('</tr>')[0];
    expect(row(gp.id)).toMatch(/Published items <\/span>2</);
    expect(row(pacs.id)).toMatch(/Published items <\/span>1</);
  });

  it('refuses a duplicate, whatever its case and spacing, with a clear message, adding nothing', async () => {
    const before = await systems().count();
    const answer = await add(moderator, { name: `MILLENNIUM  ${tag}`, supplier: 'oracle health', category: 'pas' });
    expect(answer.status).toBe(409);
    expect(fieldError(answer.body, 'name')).toBe(`Millennium ${tag} (Oracle Health) is already on the list.`);
    // The form keeps what was typed.
    expect(decoded(answer.body)).toContain(`value="MILLENNIUM  ${tag}"`);
    expect(await systems().count()).toBe(before);
    // The same name from another supplier is another system.
    expect((await add(moderator, { name: `Millennium ${tag}`, supplier: 'Someone Else Ltd', category: 'epr' })).status).toBe(303);
  });

  it('adds one system when two moderators add the same one at once', async () => {
    const name = `Concurrent ${tag}`;
    await Promise.all([moderator.get('/moderation/systems/new'), other.get('/moderation/systems/new')]);
    const answers = await Promise.all([moderator.submit('/moderation/systems/new', { name, supplier: 'Race Ltd', category: 'integration' }), other.submit('/moderation/systems/new', { name: name.toUpperCase(), supplier: 'race ltd', category: 'integration' })]);
    expect(answers.map((a) => a.status).sort()).toEqual([303, 409]);
    const made = await systems().createQueryBuilder('s').where('LOWER(s.name) = :n', { n: name.toLowerCase() }).getMany();
    expect(made).toHaveLength(1);
    const added = await db.query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'exchange.system_added' AND (target_label = ? OR target_label = ?)", [`${name} (Race Ltd)`, `${name.toUpperCase()} (race ltd)`]);
    expect(Number(added[0].n)).toBe(1);
    expect(await audit('exchange.system_added', made[0].id)).toHaveLength(1);
  });

  it('refuses what is missing or not a category, naming each field', async () => {
    const before = await systems().count();
    const answer = await add(moderator, { name: ' ', supplier: '', category: 'spaceship' });
    expect(answer.status).toBe(400);
    expect(fieldError(answer.body, 'name')).toMatch(/Enter the system’s name/);
    expect(fieldError(answer.body, 'supplier')).toMatch(/Enter its supplier/);
    expect(fieldError(answer.body, 'category')).toBe('Choose what kind of system it is');
    const long = await add(moderator, { name: 'x'.repeat(121), supplier: 'Long Ltd', category: 'epr' });
    expect(long.status).toBe(400);
    expect(fieldError(long.body, 'name')).toBe('The name must be 120 characters or fewer');
    const repeated = await moderator.request('POST', '/moderation/systems/new', { raw: `_csrf=${encodeURIComponent(moderator.csrf)}&name=A&name=B&supplier=S&category=epr`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(repeated.status).toBe(400);
    expect(await systems().count()).toBe(before);
  });

  it('renames a system (its slug stays), refuses a rename onto another system, and saving it unchanged changes nothing', async () => {
    const system = await createSystem(t, { name: `Rio ${tag}`, supplier: 'Servelec', category: 'epr' });
    const twin = await createSystem(t, { name: `Carenotes ${tag}`, supplier: 'Advanced', category: 'epr' });
    const form = await moderator.get(`/moderation/systems/${system.id}/edit`);
    expect(form.status).toBe(200);
    expect(decoded(form.body)).toContain(`value="Rio ${tag}"`);
    const renamed = await moderator.submit(`/moderation/systems/${system.id}/edit`, { name: `Rio EPR ${tag}`, supplier: 'Servelec (Access)', category: 'epr' });
    expect(renamed.status).toBe(303);
    expect(renamed.headers.location).toBe('/moderation/systems?notice=system-changed');
    expect(await systems().findOneByOrFail({ id: system.id })).toMatchObject({ name: `Rio EPR ${tag}`, supplier: 'Servelec (Access)', slug: system.slug });
    expect(await audit('exchange.system_changed', system.id)).toEqual([{ actorId: moderator.userId, details: { from: { name: `Rio ${tag}`, supplier: 'Servelec', category: 'epr' }, to: { name: `Rio EPR ${tag}`, supplier: 'Servelec (Access)', category: 'epr' } } }]);
    const unchanged = await moderator.submit(`/moderation/systems/${system.id}/edit`, { name: `Rio EPR ${tag}`, supplier: 'Servelec (Access)', category: 'epr' });
    expect(unchanged.headers.location).toBe('/moderation/systems?notice=system-unchanged');
    expect(await audit('exchange.system_changed', system.id)).toHaveLength(1);
    // Only the case differs: a rename of itself is allowed.
    expect((await moderator.submit(`/moderation/systems/${system.id}/edit`, { name: `RIO EPR ${tag}`, supplier: 'Servelec (Access)', category: 'epr' })).status).toBe(303);
    const clash = await moderator.submit(`/moderation/systems/${system.id}/edit`, { name: `carenotes ${tag}`, supplier: 'ADVANCED', category: 'epr' });
    expect(clash.status).toBe(409);
    expect(fieldError(clash.body, 'name')).toBe(`Carenotes ${tag} (Advanced) is already on the list.`);
    expect((await systems().findOneByOrFail({ id: system.id })).name).toBe(`RIO EPR ${tag}`);
    expect((await systems().findOneByOrFail({ id: twin.id })).name).toBe(`Carenotes ${tag}`);
  });

  it('retires a system: it stays on the items that name it, is no longer offered, and can be restored; twice is harmless', async () => {
    const system = await createSystem(t, { name: `Retiring ${tag}`, supplier: 'Old Co', category: 'pas' });
    const author = await t.signedIn();
    const item = await createItem(t, { authorId: author.userId, organisationId: (await createOrganisation(t)).id, systemIds: [system.id] });
    await moderator.get('/moderation/systems');
    const retired = await moderator.submit(`/moderation/systems/${system.id}/retire`, {});
    expect(retired.status).toBe(303);
    expect(retired.headers.location).toBe('/moderation/systems?notice=system-retired');
    expect((await systems().findOneByOrFail({ id: system.id })).retiredAt).not.toBeNull();
    expect(await offered()).not.toContain(system.id);
    expect((await t.app.get(ExchangeVocabulary).systemsById([system.id])).get(system.id)?.name).toBe(`Retiring ${tag}`);
    expect((await db.query('SELECT system_id FROM exchange_item_systems WHERE item_id = ?', [item.id])).map((r: { system_id: number }) => Number(r.system_id))).toEqual([system.id]);
    const list = decoded((await moderator.get('/moderation/systems')).body);
    expect(list.slice(list.indexOf(`data-system="${system.id}"`)).split('</tr>')[0]).toContain('Retired');
    const again = await moderator.submit(`/moderation/systems/${system.id}/retire`, {});
    expect(again.headers.location).toBe('/moderation/systems?notice=already-retired');
    expect(await audit('exchange.system_retired', system.id)).toHaveLength(1);
    // Adding it again is refused: restore it instead.
    const readd = await add(moderator, { name: `retiring ${tag}`, supplier: 'old co', category: 'pas' });
    expect(readd.status).toBe(409);
    expect(fieldError(readd.body, 'name')).toContain('retired. Restore it instead');

    await moderator.get('/moderation/systems');
    const restored = await moderator.submit(`/moderation/systems/${system.id}/restore`, {});
    expect(restored.headers.location).toBe('/moderation/systems?notice=system-restored');
    expect(await offered()).toContain(system.id);
    expect(await audit('exchange.system_restored', system.id)).toHaveLength(1);
    expect((await moderator.submit(`/moderation/systems/${system.id}/restore`, {})).headers.location).toBe('/moderation/systems?notice=already-current');
    expect(await audit('exchange.system_restored', system.id)).toHaveLength(1);
  });
});

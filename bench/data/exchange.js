'use strict';

/**
 * Bench data for the exchange search bench (bench/exchange.js): a MariaDB database made by the app's own
 * migrations, then bulk-loaded with multi-row INSERTs generated here from a seeded random generator, so every run
 * builds the same data:
 *
 * - 12 topics (the catalogue's), 80 systems on the moderators' list (real EPR, PAS, GP, PACS, … names), 800
 *   organisations of every type in every region, 2,000 authors (placeholder password hash: they never sign in);
 * - 100,000 published items (45% case studies, 25% tools, 30% hacks) over three years, and 6,000 that search must
 *   never find (4,000 drafts or submitted, 2,000 withdrawn). Each has a title and summary made from templates over
 *   a health and care IT vocabulary, and search text of 60 to 140 words: the sections' prose drawn from that
 *   vocabulary (a few hundred domain terms, a few hundred everyday words, UK places) with Zipf-like frequencies
 *   and a long tail of rare words (names, codes), plus the names of its systems, suppliers, topics and
 *   organisations, as the search projection writes them;
 * - their facet rows as the projection writes them: 1 to 3 topics each, 0 to 3 systems (popular EPRs much more
 *   often), the lead organisation and 0 to 2 partners; peer-signal counters with long-tailed values.
 *
 * The FULLTEXT index is dropped for the load and built again afterwards, exactly as the migration defined it (the
 * bench checks SHOW CREATE TABLE is unchanged), because building it once is far quicker than 100,000 insertions
 * into InnoDB's full-text cache. A finished load writes its description to `bench_dataset`; the next run reuses
 * the database when that description and the row counts match.
 */

const VERSION = 3;
// The server connection and the app's migrations, as the learning bench's data uses them.
const { connect, databaseUrl, migrate } = require('./learning');
const PUBLISHED = 100_000;
const UNPUBLISHED = 4_000;
const WITHDRAWN = 2_000;
const ORGANISATIONS = 800;
const AUTHORS = 2_000;
const BATCH = 2_000;
const SEED = 14;

const TOPICS = [
  'Clinical safety',
  'Interoperability',
  'Cyber security',
  'Information governance',
  'Implementation',
  'Digital leadership',
  'Infrastructure and networks',
  'Data and analytics',
  'Service desk',
  'Clinical systems training',
  'Procurement and contracts',
  'Digital inclusion',
];

/** [name, supplier, category]: the moderators' list. The first ones are the most common in the generated items. */
const SYSTEMS = [
  ['Millennium', 'Oracle Health', 'epr'],
  ['Epic', 'Epic Systems', 'epr'],
  ['SystmOne', 'TPP', 'gp_clinical'],
  ['EMIS Web', 'Optum', 'gp_clinical'],
  ['Lorenzo', 'DXC Technology', 'epr'],
  ['CareFlow', 'System C', 'epr'],
  ['Rio', 'Servelec', 'epr'],
  ['Mosaic', 'Servelec', 'social_care'],
  ['LiquidLogic', 'System C', 'social_care'],
  ['Nervecentre', 'Nervecentre Software', 'epr'],
  ['Medway', 'System C', 'pas'],
  ['iPM', 'DXC Technology', 'pas'],
  ['Sectra PACS', 'Sectra', 'pacs'],
  ['Soliton RIS', 'Soliton IT', 'pacs'],
  ['WinPath', 'Clinisys', 'pathology'],
  ['Telepath', 'DXC Technology', 'pathology'],
  ['JAC ePMA', 'JAC Computer Services', 'eprescribing'],
  ['EPMA', 'Better', 'eprescribing'],
  ['Rhapsody', 'Rhapsody Health', 'integration'],
  ['InterSystems HealthShare', 'InterSystems', 'integration'],
  ['Orion Health', 'Orion Health', 'integration'],
  ['Microsoft 365', 'Microsoft', 'productivity'],
  ['Microsoft Teams', 'Microsoft', 'productivity'],
  ['Intune', 'Microsoft', 'infrastructure'],
  ['Cisco Meraki', 'Cisco', 'infrastructure'],
  ['Aruba ClearPass', 'HPE Aruba', 'infrastructure'],
  ['CrowdStrike Falcon', 'CrowdStrike', 'cyber'],
  ['Microsoft Defender', 'Microsoft', 'cyber'],
  ['Sophos Central', 'Sophos', 'cyber'],
  ['Darktrace', 'Darktrace', 'cyber'],
  ['ServiceNow', 'ServiceNow', 'other'],
  ['TOPdesk', 'TOPdesk', 'other'],
  ['Allocate HealthRoster', 'RLDatix', 'other'],
  ['Datix', 'RLDatix', 'other'],
  ['Vision', 'Cegedim', 'gp_clinical'],
  ['Adastra', 'Advanced', 'other'],
  ['Docman', 'Docman', 'other'],
  ['Accurx', 'Accurx', 'other'],
  ['Patients Know Best', 'Patients Know Best', 'other'],
  ['Cerner PowerChart', 'Oracle Health', 'epr'],
  ['Meditech Expanse', 'Meditech', 'epr'],
  ['Carestream PACS', 'Philips', 'pacs'],
  ['Agfa Enterprise Imaging', 'Agfa HealthCare', 'pacs'],
  ['Ascribe', 'EMIS Health', 'eprescribing'],
  ['Omnicell', 'Omnicell', 'eprescribing'],
  ['Ideagen', 'Ideagen', 'other'],
  ['Qlik Sense', 'Qlik', 'other'],
  ['Power BI', 'Microsoft', 'other'],
  ['Tableau', 'Salesforce', 'other'],
  ['Azure', 'Microsoft', 'infrastructure'],
  ['AWS', 'Amazon Web Services', 'infrastructure'],
  ['VMware vSphere', 'Broadcom', 'infrastructure'],
  ['Citrix Workspace', 'Citrix', 'infrastructure'],
  ['Imprivata OneSign', 'Imprivata', 'cyber'],
  ['Palo Alto Prisma', 'Palo Alto Networks', 'cyber'],
  ['Fortinet FortiGate', 'Fortinet', 'cyber'],
  ['Mitel', 'Mitel', 'infrastructure'],
  ['Ascom Myco', 'Ascom', 'infrastructure'],
  ['Vocera', 'Stryker', 'infrastructure'],
  ['Dragon Medical One', 'Nuance', 'productivity'],
  ['Lexacom', 'Lexacom', 'productivity'],
  ['Careflow Connect', 'System C', 'integration'],
  ['Graphnet CareCentric', 'System C', 'integration'],
  ['Cinapsis', 'Cinapsis', 'other'],
  ['eRS', 'NHS England', 'integration'],
  ['Spine', 'NHS England', 'integration'],
  ['NHS Mail', 'NHS England', 'productivity'],
  ['Summary Care Record', 'NHS England', 'integration'],
  ['GP Connect', 'NHS England', 'integration'],
  ['Badgernet', 'Clevermed', 'epr'],
  ['K2 Athena', 'K2 Medical Systems', 'epr'],
  ['Symphony', 'EMIS Health', 'epr'],
  ['Oceano', 'Dedalus', 'epr'],
  ['Evolve', 'Kainos', 'epr'],
  ['CDS Civica', 'Civica', 'other'],
  ['Eclipse', 'OLM Systems', 'social_care'],
  ['Care Cloud', 'CareCloud', 'social_care'],
  ['Nourish', 'Nourish Care', 'social_care'],
  ['Person Centred Software', 'Person Centred Software', 'social_care'],
  ['Birdie', 'Birdie', 'social_care'],
];

const TYPES = ['nhs_trust', 'icb', 'gp_practice', 'gp_federation', 'local_authority', 'care_provider', 'charity', 'supplier', 'other'];
const TYPE_WEIGHTS = [30, 6, 25, 6, 10, 15, 4, 2, 2];
const REGIONS = ['east_of_england', 'london', 'midlands', 'north_east_yorkshire', 'north_west', 'south_east', 'south_west', 'scotland', 'wales', 'northern_ireland'];
const REGION_WEIGHTS = [10, 16, 16, 14, 12, 14, 9, 4, 3, 2];
const CARE_SETTINGS = ['acute', 'mental_health', 'community', 'primary_care', 'ambulance', 'social_care', 'integrated_care', 'specialist', 'any'];
const CARE_LABELS = ['Acute hospital', 'Mental health', 'Community health', 'Primary care', 'Ambulance service', 'Adult social care', 'Integrated care system', 'Specialist or tertiary', 'Any care setting'];
const CARE_WEIGHTS = [30, 12, 14, 18, 4, 10, 6, 3, 3];

/** Health and care IT words, roughly most used first (searches in the bench come from here). */
const DOMAIN = `patient patients staff clinical system digital ward nurses record records discharge referral referrals
  appointments outpatient outpatients handover theatre theatres pharmacy prescribing medicines laboratory pathology
  radiology imaging scans results orders observations escalation sepsis deterioration falls pressure ulcers
  safeguarding consent privacy confidentiality governance audit compliance dashboard dashboards report reporting
  analytics data dataset quality metrics kpi waiting lists backlog capacity demand rostering rota shifts bank agency
  recruitment training induction elearning champions superusers adoption rollout golive cutover migration upgrade
  downtime outage backup backups recovery resilience continuity incident incidents phishing ransomware malware
  patching vulnerability firewall network wifi wireless switches servers storage cloud hosting datacentre laptops
  desktops devices tablets printers scanners barcode wristbands labels kiosks telephony switchboard voip headsets
  servicedesk tickets helpdesk passwords authentication smartcards smartcard identity access accounts leavers starters
  interoperability integration interface interfaces messaging hl7 fhir api apis spine summary nhsapp notifications
  letters correspondence dictation transcription templates forms questionnaires triage booking scheduling clinics
  virtual video remote monitoring telehealth wearables apps portal patientportal selfservice online accessibility
  inclusion literacy carers families community district nursing therapy physiotherapy occupational dietetics
  maternity midwives neonatal paediatrics children adolescents mental crisis inpatient beds flow bedmanagement
  emergency department ambulance paramedics handovers urgent primary practice practices surgery surgeries pcn icb
  commissioners procurement contracts tender framework supplier suppliers licensing licences costs savings budget
  business case benefits realisation programme project governance board sponsor stakeholders engagement
  communications change management transformation optimisation workflow workflows process redesign pathway pathways
  standard operating procedure checklist policy policies guidance toolkit dspt cyberessentials certification
  penetration testing encryption multifactor mfa sso singlesignon directory activedirectory entra intune mobile
  ordercomms ordering ePMA eprescribing allergies drug chart charts vital signs news2 earlywarning sepsisscreening
  cleansing deduplication duplicates matching demographics nhsnumber pds validation coding clinicalcoding snomed
  icd10 opcs terminology documentation notes clinicians doctors consultants juniors allied professionals pharmacists
  technicians administrators receptionists secretaries managers leaders volunteers students`
  .split(/\s+/)
  .filter(Boolean);

/** Everyday words (none of InnoDB's stopwords), roughly most used first. */
const COMMON = `we our team teams time weeks months year years work worked working started start change changed
  changes new old better faster simpler easier safer reduce reduced reducing improve improved improving increase
  increased saving saved save minutes hours days people person everyone users user first second third last next
  small large local national whole part plan planned planning test tested testing trial pilot piloted feedback
  lessons learnt learned found found problem problems issue issues solution approach method way ways steps step
  help helped support supported supporting share shared sharing use used using make made making take took need
  needed needs want wanted also just only still every each many most more less fewer than then there here them
  they their had have has been being were would could should might must can did does done doing got get getting
  give gave given keep kept run ran running set setting settings built build building moved move moving phone
  call calls email emails paper paperless manual manually automatic automated automation simple complex clear
  quick quickly slow slowly early late daily weekly monthly overnight weekend morning evening night day shift
  site sites building hospital hospitals trust trusts organisation organisations region regional partners partner
  local council councils service services home homes care carer caring health wellbeing safety safe risk risks
  risky issue priority priorities goal goals target targets measure measured measures evidence results outcome
  outcomes impact value cost costs money budget spend spent funding funded bid bids case cases example examples
  story stories journey journeys experience experiences culture leadership ownership trust confidence morale
  workload burden pressure pressures winter summer backlog delays delay waiting queue queues bottleneck list lists
  spreadsheet spreadsheets template templates document documents file files folder folders form forms guide
  guides video videos session sessions workshop workshops meeting meetings huddle huddles board boards group
  groups network networks forum forums community communities champion champions lead leads owner owners`
  .split(/\s+/)
  .filter(Boolean);

const PLACES = `Leeds Bradford Sheffield Manchester Liverpool Birmingham Coventry Leicester Nottingham Derby Norwich
  Ipswich Cambridge Oxford Reading Southampton Portsmouth Brighton Exeter Plymouth Bristol Bath Gloucester Cardiff
  Swansea Newport Wrexham Glasgow Edinburgh Aberdeen Dundee Inverness Belfast Derry Newcastle Sunderland Durham
  Middlesbrough York Hull Lincoln Preston Blackpool Lancaster Carlisle Stoke Wolverhampton Walsall Dudley Telford
  Shrewsbury Hereford Worcester Northampton Milton Luton Bedford Peterborough Colchester Chelmsford Southend Basildon
  Maidstone Canterbury Dover Guildford Woking Crawley Swindon Salisbury Poole Bournemouth Taunton Truro Barnstaple
  Harrogate Wakefield Huddersfield Halifax Doncaster Rotherham Barnsley Bolton Wigan Oldham Rochdale Stockport
  Warrington Chester Crewe Kendal Whitby Scarborough Grimsby Boston Kettering Corby Banbury Aylesbury Watford Slough`
  .split(/\s+/)
  .filter(Boolean);

const VERBS_ING = ['Cutting', 'Reducing', 'Speeding up', 'Fixing', 'Simplifying', 'Automating', 'Improving', 'Rolling out', 'Replacing', 'Securing', 'Standardising', 'Moving'];
const VERBS = ['cut', 'reduced', 'sped up', 'fixed', 'simplified', 'automated', 'improved', 'rolled out', 'replaced', 'secured', 'standardised', 'moved'];
const TOOL_TYPES = ['checklist', 'template', 'spreadsheet', 'policy', 'script', 'toolkit', 'guide', 'runbook'];

// ---------- a seeded generator ----------

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks index i of n with probability ∝ 1 / (i + offset): most often the first, rarely the last. */
function zipfPicker(n, offset = 1.5) {
  const cumulative = [];
  let sum = 0;
  for (let i = 0; i < n; i++) cumulative.push((sum += 1 / (i + offset)));
  return (random) => {
    const x = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function weightedPicker(weights) {
  const total = weights.reduce((a, b) => a + b, 0);
  return (random) => {
    let x = random() * total;
    for (let i = 0; i < weights.length; i++) if ((x -= weights[i]) < 0) return i;
    return weights.length - 1;
  };
}

const SYLLABLES = ['bra', 'cor', 'dun', 'el', 'fen', 'gar', 'hol', 'ix', 'jor', 'kel', 'lin', 'mor', 'nav', 'ost', 'pel', 'quin', 'ros', 'sta', 'tor', 'ul', 'ven', 'wes', 'yar', 'zel'];
/** The long tail: 6,000 rare words (people's and places' names, product codes) no two the same. */
function longTail(random) {
  const words = new Set();
  while (words.size < 6000) {
    const n = 2 + Math.floor(random() * 3);
    let w = '';
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    words.add(w);
  }
  return [...words];
}

const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The generated world: organisations, and a function giving item n (0-based) with its facet rows. Deterministic
 * for a seed, so the bench's queries can be chosen from the same vocabulary.
 */
function world(seed = SEED) {
  const random = mulberry32(seed);
  const tail = longTail(random);
  const domain = zipfPicker(DOMAIN.length, 25);
  const common = zipfPicker(COMMON.length, 2);
  const place = zipfPicker(PLACES.length, 4);
  const rare = zipfPicker(tail.length, 10);
  const systemPick = zipfPicker(SYSTEMS.length, 2);
  const topicPick = zipfPicker(TOPICS.length, 3);
  const typePick = weightedPicker(TYPE_WEIGHTS);
  const regionPick = weightedPicker(REGION_WEIGHTS);
  const carePick = weightedPicker(CARE_WEIGHTS);
  const orgPick = zipfPicker(ORGANISATIONS, 20);

  const organisations = Array.from({ length: ORGANISATIONS }, (_, i) => {
    const type = TYPES[typePick(random)];
    const region = REGIONS[regionPick(random)];
    const town = PLACES[i % PLACES.length];
    const name = {
      nhs_trust: `${town} ${['Teaching Hospitals', 'and District', 'Community Health', 'Mental Health', 'University Hospitals'][i % 5]} NHS Trust ${i + 1}`,
      icb: `NHS ${town} Integrated Care Board ${i + 1}`,
      gp_practice: `${town} ${['Road', 'Street', 'Park', 'Green', 'Lane'][i % 5]} Surgery ${i + 1}`,
      gp_federation: `${town} GP Federation ${i + 1}`,
      local_authority: `${town} City Council ${i + 1}`,
      care_provider: `${town} Care Homes ${i + 1}`,
      charity: `${town} Hospice Care ${i + 1}`,
      supplier: `${town} Health Software ${i + 1}`,
      other: `${town} Health Partnership ${i + 1}`,
    }[type];
    return { id: i + 1, name, type, region };
  });

  const sentence = (words) => `${cap(words.join(' '))}.`;
  const domainAny = () => DOMAIN[Math.floor(random() * DOMAIN.length)];
  /**
   * The sections' prose: everyday words most of the time (a Zipf-like few very often), the item's own focus terms
   * (what it is about) again and again, now and then any other domain term or a place, rarely a long-tail word.
   */
  const prose = (count, focus) => {
    const out = [];
    let current = [];
    for (let i = 0; i < count; i++) {
      const r = random();
      const word = r < 0.72 ? COMMON[common(random)] : r < 0.86 ? focus[Math.floor(random() * focus.length)] : r < 0.93 ? domainAny() : r < 0.97 ? PLACES[place(random)] : tail[rare(random)];
      current.push(word);
      if (current.length >= 8 + Math.floor(random() * 8)) {
        out.push(sentence(current));
        current = [];
      }
    }
    if (current.length) out.push(sentence(current));
    return out.join(' ');
  };

  const start = Date.UTC(2023, 0, 1);
  const span = Date.UTC(2025, 11, 1) - start;

  /** Item n: its row and facet rows. */
  function item(n) {
    const r = random();
    const kind = r < 0.45 ? 'case_study' : r < 0.7 ? 'tool' : 'hack';
    const status = n < PUBLISHED ? 'published' : n < PUBLISHED + WITHDRAWN ? 'withdrawn' : random() < 0.5 ? 'draft' : 'submitted';
    const topicCount = 1 + Math.floor(random() * random() * 3);
    const topicIds = [...new Set(Array.from({ length: topicCount }, () => topicPick(random) + 1))];
    const systemCount = Math.floor(random() * random() * 4);
    const systemIds = [...new Set(Array.from({ length: systemCount }, () => systemPick(random) + 1))];
    const lead = organisations[orgPick(random)];
    const partners = random() < 0.2 ? [...new Set(Array.from({ length: 1 + Math.floor(random() * 2) }, () => organisations[Math.floor(random() * ORGANISATIONS)]))].filter((o) => o.id !== lead.id) : [];
    const care = kind === 'case_study' || random() < 0.6 ? carePick(random) : null;
    const focus = [...new Set(Array.from({ length: 2 + Math.floor(random() * 3) }, () => DOMAIN[domain(random)]))];
    const [d1, d2 = focus[0]] = focus;
    const sys = systemIds.length ? SYSTEMS[systemIds[0] - 1][0] : null;
    const title = (
      kind === 'case_study'
        ? `${VERBS_ING[Math.floor(random() * VERBS_ING.length)]} ${d1} ${d2}${sys ? ` with ${sys}` : ''} at ${lead.name.replace(/ \d+$/, '')}`
        : kind === 'tool'
          ? `${cap(d1)} ${d2} ${TOOL_TYPES[Math.floor(random() * TOOL_TYPES.length)]}${sys ? ` for ${sys}` : ''}`
          : `Quick tip: ${d1} ${COMMON[common(random)]} ${d2}${sys ? ` in ${sys}` : ''}`
    ).slice(0, 200);
    const summary = `How we ${VERBS[Math.floor(random() * VERBS.length)]} ${d1} ${COMMON[common(random)]} for ${focus[focus.length - 1]} ${COMMON[common(random)]}. ${prose(12, focus)}`.slice(0, 600);
    const names = [
      care === null ? null : CARE_LABELS[care],
      ...topicIds.map((id) => TOPICS[id - 1]),
      ...systemIds.flatMap((id) => [SYSTEMS[id - 1][0], SYSTEMS[id - 1][1]]),
      lead.name,
      ...partners.map((o) => o.name),
    ].filter(Boolean);
    const searchText = `${prose(60 + Math.floor(random() * 80), focus)}\n${names.join('\n')}`;
    const publishedAt = status === 'published' || status === 'withdrawn' ? new Date(start + Math.floor(random() * span)) : null;
    const heavy = random();
    const helpful = Math.floor(heavy * heavy * heavy * 120);
    const adopted = Math.floor(random() * random() * random() * 30);
    return {
      id: n + 1,
      slug: `bench-${kind.replace('_', '-')}-${n + 1}`,
      kind,
      status,
      authorId: 1 + (n % AUTHORS),
      organisationId: lead.id,
      title,
      summary,
      careSetting: care === null ? null : CARE_SETTINGS[care],
      searchText,
      publishedAt,
      helpful,
      adopted,
      saves: Math.floor(helpful / 3),
      downloads: kind === 'tool' ? helpful * 4 + adopted * 7 : 0,
      topicIds,
      systemIds,
      organisations: [lead, ...partners],
    };
  }

  return { organisations, item, tail };
}

// ---------- the database ----------

const spec = () => ({ version: VERSION, seed: SEED, published: PUBLISHED, unpublished: UNPUBLISHED, withdrawn: WITHDRAWN, organisations: ORGANISATIONS, systems: SYSTEMS.length, topics: TOPICS.length });

async function existingSpec(conn) {
  const [tables] = await conn.query(`SHOW TABLES LIKE 'bench_dataset'`);
  if (!tables.length) return null;
  const [rows] = await conn.query('SELECT spec FROM bench_dataset WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1');
  return rows.length ? JSON.parse(rows[0].spec) : null;
}

const since = (t) => ((Date.now() - t) / 1000).toFixed(1);
const sqlDate = (d) => d.toISOString().slice(0, 19).replace('T', ' ');

async function insertRows(conn, table, columns, rows) {
  for (let i = 0; i < rows.length; i += BATCH) {
    const batch = rows.slice(i, i + BATCH);
    await conn.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${batch.map((r) => `(${r.map((v) => conn.escape(v)).join(', ')})`).join(', ')}`);
  }
}

/**
 * Makes sure database `name` holds the exchange dataset: creates it, runs the app's migrations, and generates the
 * data unless a finished load with the same description is there. Returns { name, url, spec, reused, seconds }.
 */
async function ensureExchangeDatabase(serverUrl, name, { log = console.log } = {}) {
  const wanted = spec();
  const url = databaseUrl(serverUrl, name);
  const started = Date.now();
  const admin = await connect(serverUrl);
  try {
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin.end();
  }
  let migrated = await migrate(url);
  if (migrated.length) log(`bench: ${name}: applied ${migrated.length} migration(s): ${migrated.join(', ')}`);
  let conn = await connect(serverUrl, name);
  try {
    const found = await existingSpec(conn);
    if (found && JSON.stringify(found) === JSON.stringify(wanted)) {
      const [[{ n }]] = await conn.query(`SELECT COUNT(*) AS n FROM exchange_items WHERE status = 'published'`);
      const [[{ all }]] = await conn.query('SELECT COUNT(*) AS \`all\` FROM exchange_items');
      if (Number(n) === PUBLISHED && Number(all) === PUBLISHED + UNPUBLISHED + WITHDRAWN) return { name, url, spec: wanted, reused: true, seconds: (Date.now() - started) / 1000 };
      log(`bench: ${name}: counts differ from its description (published ${n}, all ${all}): generating again`);
    } else if (found) log(`bench: ${name}: holds a different dataset (${JSON.stringify(found)}): generating again`);
  } finally {
    await conn.end();
  }
  const admin2 = await connect(serverUrl);
  try {
    await admin2.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin2.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  } finally {
    await admin2.end();
  }
  migrated = await migrate(url);
  log(`bench: ${name}: generating ${PUBLISHED.toLocaleString('en-GB')} published exchange items (and ${(UNPUBLISHED + WITHDRAWN).toLocaleString('en-GB')} drafts, submitted and withdrawn ones)`);
  conn = await connect(serverUrl, name);
  try {
    await generate(conn, wanted, log, serverUrl, name);
  } finally {
    await conn.end();
  }
  const seconds = (Date.now() - started) / 1000;
  log(`bench: ${name}: generated in ${seconds.toFixed(0)} s`);
  return { name, url, spec: wanted, reused: false, seconds };
}

async function generate(conn, wanted, log, serverUrl, name) {
  const t = Date.now();
  const T0 = '2023-01-01 00:00:00';
  await conn.query('SET SESSION foreign_key_checks = 0, unique_checks = 0');
  await conn.query(`CREATE TABLE bench_dataset (id INT AUTO_INCREMENT PRIMARY KEY, spec TEXT NOT NULL, started_at DATETIME NOT NULL, finished_at DATETIME NULL, seconds INT NULL)`);
  const [mark] = await conn.query('INSERT INTO bench_dataset (spec, started_at) VALUES (?, UTC_TIMESTAMP())', [JSON.stringify(wanted)]);
  const w = world();

  await insertRows(
    conn,
    'organisations',
    ['id', 'name', 'name_key', 'type', 'region', 'status', 'created_at'],
    w.organisations.map((o) => [o.id, o.name, o.name.toLowerCase(), o.type, o.region, 'active', T0]),
  );
  await insertRows(
    conn,
    'users',
    ['id', 'email', 'name', 'password_hash', 'role', 'job_role', 'created_at'],
    Array.from({ length: AUTHORS }, (_, i) => [i + 1, `author-${i + 1}@bench.example.nhs.uk`, `Bench author ${i + 1}`, 'bench-placeholder-not-a-hash', 'learner', 'Digital lead', T0]),
  );
  await insertRows(conn, 'topics', ['id', 'slug', 'name'], TOPICS.map((name, i) => [i + 1, name.toLowerCase().replace(/ /g, '-'), name]));
  await insertRows(
    conn,
    'exchange_systems',
    ['id', 'slug', 'name', 'supplier', 'category', 'created_at'],
    SYSTEMS.map(([name, supplier, category], i) => [i + 1, `${supplier} ${name}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, ''), name, supplier, category, T0]),
  );
  log(`bench:   ${ORGANISATIONS} organisations, ${AUTHORS} authors, ${TOPICS.length} topics, ${SYSTEMS.length} systems (${since(t)} s)`);

  const [[{ 'Create Table': before }]] = await conn.query('SHOW CREATE TABLE exchange_items');
  // Dropping the index leaves InnoDB's hidden FTS_DOC_ID column, whose values the load would not keep (an index added
  // over them afterwards finds nothing): the table is rebuilt without it while empty, and the index adds it again.
  await conn.query('ALTER TABLE exchange_items DROP INDEX ft_exchange_items_search');
  await conn.query('ALTER TABLE exchange_items ENGINE = InnoDB, ALGORITHM = COPY');
  const total = PUBLISHED + UNPUBLISHED + WITHDRAWN;
  const itemColumns = ['id', 'slug', 'kind', 'status', 'author_id', 'organisation_id', 'title', 'summary', 'care_setting', 'search_text', 'published_at', 'first_published_at', 'review_due_at', 'helpful_count', 'adoption_count', 'save_count', 'download_count', 'created_at', 'updated_at'];
  let lastLog = Date.now();
  for (let from = 0; from < total; from += BATCH) {
    const items = Array.from({ length: Math.min(BATCH, total - from) }, (_, i) => w.item(from + i));
    const date = (d) => (d ? sqlDate(d) : null);
    await insertRows(
      conn,
      'exchange_items',
      itemColumns,
      items.map((it) => {
        const due = it.publishedAt ? new Date(it.publishedAt.getTime() + 730 * 86_400_000) : null;
        const created = it.publishedAt ?? new Date(Date.UTC(2025, 10, 1));
        return [it.id, it.slug, it.kind, it.status, it.authorId, it.organisationId, it.title, it.summary, it.careSetting, it.searchText, date(it.publishedAt), date(it.publishedAt), date(due), it.helpful, it.adopted, it.saves, it.downloads, date(created), date(created)];
      }),
    );
    const published = items.filter((it) => it.status === 'published' || it.status === 'withdrawn');
    await insertRows(conn, 'exchange_item_topics', ['item_id', 'topic_id'], published.flatMap((it) => it.topicIds.map((id) => [it.id, id])));
    await insertRows(conn, 'exchange_item_systems', ['item_id', 'system_id'], published.flatMap((it) => it.systemIds.map((id) => [it.id, id])));
    await insertRows(conn, 'exchange_item_organisations', ['item_id', 'organisation_id', 'is_lead'], published.flatMap((it) => it.organisations.map((o, i) => [it.id, o.id, i === 0 ? 1 : 0])));
    if (Date.now() - lastLog > 10_000 || from + BATCH >= total) {
      lastLog = Date.now();
      log(`bench:   exchange items ${Math.min(total, from + BATCH).toLocaleString('en-GB')} of ${total.toLocaleString('en-GB')} (${since(t)} s)`);
    }
  }
  const fresh = await connect(serverUrl, name);
  try {
    await fresh.query('ALTER TABLE exchange_items ADD FULLTEXT INDEX ft_exchange_items_search (title, summary, search_text)');
    const [[{ n }]] = await fresh.query(`SELECT COUNT(*) AS n FROM exchange_items WHERE MATCH(title, summary, search_text) AGAINST ('+clinical*' IN BOOLEAN MODE)`);
    if (!Number(n)) throw new Error('The rebuilt FULLTEXT index finds nothing');
  } finally {
    await fresh.end();
  }
  const [[{ 'Create Table': after }]] = await conn.query('SHOW CREATE TABLE exchange_items');
  if (after.replace(/ AUTO_INCREMENT=\d+/, '') !== before.replace(/ AUTO_INCREMENT=\d+/, '')) throw new Error(`exchange_items differs from its migrated definition after the load:\n${before}\n---\n${after}`);
  log(`bench:   FULLTEXT index built (${since(t)} s)`);
  await conn.query('ANALYZE TABLE organisations, exchange_items, exchange_item_topics, exchange_item_systems, exchange_item_organisations');
  await conn.query('UPDATE bench_dataset SET finished_at = UTC_TIMESTAMP(), seconds = ? WHERE id = ?', [Math.round((Date.now() - t) / 1000), mark.insertId]);
}

module.exports = { ensureExchangeDatabase, connect, databaseUrl, world, TOPICS, SYSTEMS, DOMAIN, PLACES, TYPES, REGIONS, CARE_SETTINGS, PUBLISHED };

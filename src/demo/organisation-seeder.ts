import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccountsService, DEMO_ADMIN_EMAIL, DEMO_AUTHOR_EMAIL } from '../accounts/accounts.service';
import { EmailVerification } from '../accounts/email-verification';
import type { CurrentUser } from '../accounts/identity';
import { passwordProblem } from '../accounts/password-policy';
import type { AuditActor } from '../audit/audit-trail';
import { CatalogueService } from '../catalogue/catalogue.service';
import { CourseCompletedJob } from '../certificates/certificates.jobs';
import { Clock } from '../common/clock';
import { InProcessDriver } from '../jobs/in-process.driver';
import { JobsService } from '../jobs/jobs.service';
import { LearningService } from '../learning/learning.service';
import { ProgressService } from '../learning/progress.service';
import { organisationNameKey } from '../organisations/entities/organisation.entity';
import { ManagerScope } from '../organisations/manager-scope';
import { MembershipsService } from '../organisations/memberships.service';
import { OrganisationAdminService } from '../organisations/organisation-admin.service';
import type { OrganisationType, Region } from '../organisations/organisation-kinds';
import { RequirementFormDto, RequirementsService } from '../organisations/requirements.service';

/**
 * Demo organisations, made at the first start after the demo accounts and courses: three organisations, each with
 * a manager, twenty staff with varied progress and two requirements of the first organisation, so that a newcomer
 * signing in as the demo manager (Jo Whitfield) sees a living dashboard.
 *
 * Everything is done through the academy's own services, as people would do it: an administrator approves the
 * trust the demo accounts asked for at sign-up, creates the other two and verifies their domains; people sign up,
 * open their verification link (joining on their organisation's domain), enrol, read lessons, download resources,
 * watch the video, fail and pass quizzes; the certificates job issues their certificates; managers are appointed
 * and set requirements. It happens over the past fourteen months: the Clock is moved to each moment of the story
 * in turn (forward only) and put back at the end, so every date (memberships, progress, completions, certificates
 * and their PDFs, audit entries) is one the academy itself wrote at that moment.
 *
 * Safe at every start: an organisation that exists (active or otherwise) is left alone with its people; only an
 * organisation that does not exist yet, or the demo trust still waiting as requested, gets its story.
 */

/** How far back the story begins: a little over a year, so a renewal of 12 months can fall due. */
export const DEMO_HISTORY_DAYS = 430;
const MINUTE = 60_000;
const DAY = 86_400_000;

export const DEMO_TRUST = 'Demo Community Health NHS Trust';
export const DEMO_MANAGER_EMAIL = 'manager@demo.peer-academy.local';
export const DEMO_LEARNER_EMAIL = 'learner@demo.peer-academy.local';

type OrgKey = 'trust' | 'federation' | 'care';

interface DemoOrganisation {
  key: OrgKey;
  name: string;
  type: OrganisationType;
  odsCode: string;
  region: Region;
  /** The verified e-mail domain: staff with an address on it join at once when they verify it. */
  domain: string;
}

export const DEMO_ORGANISATIONS: readonly DemoOrganisation[] = [
  { key: 'trust', name: DEMO_TRUST, type: 'nhs_trust', odsCode: 'DEMO1', region: 'north_east_yorkshire', domain: 'demo.peer-academy.local' },
  { key: 'federation', name: 'Demo Riverside GP Federation', type: 'gp_federation', odsCode: 'DEMO2', region: 'midlands', domain: 'riverside.demo.peer-academy.local' },
  { key: 'care', name: 'Demo Meadowbank Care', type: 'care_provider', odsCode: '', region: 'london', domain: 'meadowbank.demo.peer-academy.local' },
];

/** A course a person takes: enrolled so many days ago, then all its lessons done by `completed` days ago, or only `done` of them. */
interface Learning {
  course: string;
  enrolled: number;
  completed?: number;
  done?: number;
  /** Fails the quiz once before passing it. */
  failFirst?: boolean;
}

interface DemoPerson {
  name: string;
  email: string;
  jobRole: string;
  organisation: OrgKey;
  /** Days ago they signed up and verified their address (joining, on their organisation's domain). */
  joined: number;
  learning: Learning[];
  /** A manager of their organisation, appointed by the administrator when they join; their password is printed. */
  manager?: boolean;
}

const IG = 'information-governance-essentials';
const SAFETY = 'clinical-safety-dcb0129-dcb0160';
const CYBER = 'cyber-security-dspt';
const LEADERSHIP = 'digital-leadership-health-care';
const EPR = 'leading-an-epr-go-live';
const FHIR = 'fhir-interoperability-basics';

/** The demo accounts' part in the trust's story (they exist already: AccountsService.seedDemoAccounts). */
const DEMO_ACCOUNT_LEARNING: Record<string, Learning[]> = {
  [DEMO_MANAGER_EMAIL]: [
    { course: LEADERSHIP, enrolled: 335, completed: 320 },
    { course: IG, enrolled: 40, completed: 39 },
  ],
  [DEMO_AUTHOR_EMAIL]: [
    { course: EPR, enrolled: 300, completed: 290 },
    { course: LEADERSHIP, enrolled: 180, completed: 165 },
    { course: IG, enrolled: 38, completed: 36 },
  ],
  [DEMO_LEARNER_EMAIL]: [
    { course: IG, enrolled: 120, completed: 112 },
    // Started, then left: overdue for the clinical safety officers' requirement, for the demo learner to finish.
    { course: SAFETY, enrolled: 210, done: 2 },
  ],
};

/** The twenty staff, and the two other organisations' managers. Addresses end in .local: no mail leaves for them. */
export const DEMO_PEOPLE: readonly DemoPerson[] = [
  // Demo Community Health NHS Trust (with Jo Whitfield, Priya Shah and Sam Okafor)
  { name: 'Amara Okonkwo', email: 'amara.okonkwo@demo.peer-academy.local', jobRole: 'Clinical safety officer', organisation: 'trust', joined: 428, learning: [{ course: SAFETY, enrolled: 400, completed: 385, failFirst: true }, { course: IG, enrolled: 60, completed: 55 }] },
  { name: 'Tomasz Nowak', email: 'tomasz.nowak@demo.peer-academy.local', jobRole: 'Clinical systems analyst', organisation: 'trust', joined: 427, learning: [{ course: FHIR, enrolled: 250, completed: 238 }, { course: IG, enrolled: 100, completed: 95 }, { course: CYBER, enrolled: 30, done: 3 }] },
  { name: 'Mei Lin Chen', email: 'meilin.chen@demo.peer-academy.local', jobRole: 'Clinical safety officer', organisation: 'trust', joined: 260, learning: [{ course: SAFETY, enrolled: 240, completed: 228 }, { course: IG, enrolled: 39, completed: 33 }] },
  { name: 'Siobhán O’Connor', email: 'siobhan.oconnor@demo.peer-academy.local', jobRole: 'District nurse', organisation: 'trust', joined: 426, learning: [{ course: IG, enrolled: 35, done: 0 }] },
  { name: 'Rhys Llewellyn', email: 'rhys.llewellyn@demo.peer-academy.local', jobRole: 'Digital nurse specialist', organisation: 'trust', joined: 426, learning: [{ course: EPR, enrolled: 200, completed: 150 }, { course: IG, enrolled: 36, completed: 2 }, { course: LEADERSHIP, enrolled: 20, done: 2 }] },
  { name: 'Fatima Begum', email: 'fatima.begum@demo.peer-academy.local', jobRole: 'Pharmacist', organisation: 'trust', joined: 425, learning: [{ course: IG, enrolled: 30, done: 3 }] },
  { name: 'Kwabena Mensah', email: 'kwabena.mensah@demo.peer-academy.local', jobRole: 'Clinical safety officer', organisation: 'trust', joined: 50, learning: [{ course: IG, enrolled: 48, completed: 45 }, { course: SAFETY, enrolled: 30, done: 4 }] },
  { name: 'Anjali Nair', email: 'anjali.nair@demo.peer-academy.local', jobRole: 'Physiotherapist', organisation: 'trust', joined: 18, learning: [] },
  { name: 'Oluwaseun Adeyemi', email: 'oluwaseun.adeyemi@demo.peer-academy.local', jobRole: 'Healthcare assistant', organisation: 'trust', joined: 424, learning: [{ course: IG, enrolled: 80, completed: 70 }, { course: CYBER, enrolled: 65, completed: 60, failFirst: true }] },
  { name: 'Hannah Goldberg', email: 'hannah.goldberg@demo.peer-academy.local', jobRole: 'Information governance lead', organisation: 'trust', joined: 423, learning: [{ course: IG, enrolled: 140, completed: 134 }, { course: CYBER, enrolled: 130, completed: 120 }, { course: FHIR, enrolled: 15, done: 1 }] },
  { name: 'Yusuf Demir', email: 'yusuf.demir@demo.peer-academy.local', jobRole: 'Service desk analyst', organisation: 'trust', joined: 8, learning: [{ course: CYBER, enrolled: 6, done: 2 }] },
  // Demo Riverside GP Federation
  { name: 'Nadia Rahman', email: 'nadia.rahman@riverside.demo.peer-academy.local', jobRole: 'Operations director', organisation: 'federation', joined: 425, manager: true, learning: [{ course: LEADERSHIP, enrolled: 100, completed: 90 }] },
  { name: 'Callum MacLeod', email: 'callum.macleod@riverside.demo.peer-academy.local', jobRole: 'Practice manager', organisation: 'federation', joined: 420, learning: [{ course: IG, enrolled: 210, completed: 200 }, { course: CYBER, enrolled: 190, completed: 180 }] },
  { name: 'Lakshmi Srinivasan', email: 'lakshmi.srinivasan@riverside.demo.peer-academy.local', jobRole: 'GP', organisation: 'federation', joined: 400, learning: [{ course: FHIR, enrolled: 40, done: 3 }] },
  { name: 'Ewa Kowalska', email: 'ewa.kowalska@riverside.demo.peer-academy.local', jobRole: 'Practice nurse', organisation: 'federation', joined: 380, learning: [{ course: IG, enrolled: 25, completed: 20 }] },
  { name: 'Zainab Hussain', email: 'zainab.hussain@riverside.demo.peer-academy.local', jobRole: 'Clinical pharmacist', organisation: 'federation', joined: 300, learning: [{ course: CYBER, enrolled: 90, done: 0 }] },
  { name: 'Gareth Evans', email: 'gareth.evans@riverside.demo.peer-academy.local', jobRole: 'Care coordinator', organisation: 'federation', joined: 120, learning: [{ course: LEADERSHIP, enrolled: 20, completed: 10 }] },
  // Demo Meadowbank Care
  { name: 'Marcus Johnson', email: 'marcus.johnson@meadowbank.demo.peer-academy.local', jobRole: 'Registered manager', organisation: 'care', joined: 420, manager: true, learning: [] },
  { name: 'Maria Santos', email: 'maria.santos@meadowbank.demo.peer-academy.local', jobRole: 'Senior care worker', organisation: 'care', joined: 410, learning: [{ course: IG, enrolled: 140, completed: 130 }] },
  { name: 'Ioana Popescu', email: 'ioana.popescu@meadowbank.demo.peer-academy.local', jobRole: 'Care worker', organisation: 'care', joined: 200, learning: [{ course: IG, enrolled: 14, done: 2 }] },
  { name: 'Chinedu Eze', email: 'chinedu.eze@meadowbank.demo.peer-academy.local', jobRole: 'Care worker', organisation: 'care', joined: 150, learning: [{ course: IG, enrolled: 55, completed: 50 }, { course: CYBER, enrolled: 12, done: 1 }] },
  { name: 'Precious Moyo', email: 'precious.moyo@meadowbank.demo.peer-academy.local', jobRole: 'Deputy manager', organisation: 'care', joined: 360, learning: [{ course: LEADERSHIP, enrolled: 45, done: 3 }, { course: IG, enrolled: 9, completed: 5 }] },
];

/** Asks to join the trust from a personal address three days ago: a request waiting for the demo manager. */
const DEMO_REQUEST = { name: 'Grace Mwangi', email: 'grace.mwangi@home.demo.peer-academy.local', jobRole: 'Staff nurse', joined: 3 };

/** The trust's requirements, set by its manager: everyone's, and the clinical safety officers' with a yearly renewal. */
const DEMO_REQUIREMENTS = [
  { course: SAFETY, setDaysAgo: 300, audience: 'job_roles' as const, jobRoles: ['Clinical safety officer'], dueDays: 90, renewalMonths: 12 },
  { course: IG, setDaysAgo: 40, audience: 'everyone' as const, jobRoles: [], dueDays: 60, renewalMonths: undefined },
];

/**
 * The story's clock: moves the academy's Clock to moments of the past, forward only, and back to the present at the
 * end (restore). Moments are given as whole days ago and minutes after midnight (UTC), squeezed in after `floor`
 * when what the story builds on (the demo accounts and courses) is younger than the story.
 */
export class DemoHistory {
  private added = 0;
  private readonly end: Date;
  private from: number;

  constructor(private readonly clock: Clock) {
    this.end = clock.now();
    this.from = this.naive(DEMO_HISTORY_DAYS, 8 * 60);
  }

  /** When the story begins: where the demo accounts and courses are made on a fresh start. */
  get start(): Date {
    return new Date(this.from);
  }

  /** What the story builds on exists only since `floor`: every moment is then squeezed in between it and now. */
  notBefore(floor: Date): void {
    this.from = Math.max(this.from, floor.getTime() + MINUTE);
  }

  /** The moment `daysAgo` whole days before today, `minutes` after that day's midnight. */
  moment(daysAgo: number, minutes: number): Date {
    const naiveStart = this.naive(DEMO_HISTORY_DAYS, 8 * 60);
    const at = this.naive(daysAgo, minutes);
    const end = this.end.getTime();
    if (this.from <= naiveStart) return new Date(at);
    return new Date(this.from + ((at - naiveStart) * (end - this.from)) / (end - naiveStart));
  }

  /** Moves the clock to `at` (never back, once the story has begun). */
  goTo(at: Date): void {
    const delta = at.getTime() - this.clock.now().getTime();
    if (delta > 0 || this.added === 0) this.travel(delta);
  }

  /** Lets `ms` pass. */
  advance(ms: number): void {
    this.travel(ms);
  }

  /** Puts the clock back to the present. */
  restore(): void {
    this.clock.travel(-this.added);
    this.added = 0;
  }

  private travel(ms: number): void {
    this.clock.travel(ms);
    this.added += ms;
  }

  private naive(daysAgo: number, minutes: number): number {
    const today = Date.UTC(this.end.getUTCFullYear(), this.end.getUTCMonth(), this.end.getUTCDate());
    return Math.min(today - daysAgo * DAY + minutes * MINUTE, this.end.getTime() - MINUTE);
  }
}

/** Runs `story` with a DemoHistory, and puts the clock back to the present whatever happens. */
export async function inDemoHistory<T>(clock: Clock, story: (history: DemoHistory) => Promise<T>): Promise<T> {
  const history = new DemoHistory(clock);
  try {
    return await story(history);
  } finally {
    history.restore();
  }
}

export interface DemoCredentials {
  role: 'org_manager';
  email: string;
  password: string;
}

interface Event {
  at: Date;
  order: number;
  run: () => Promise<void>;
}

/**
 * Creates the demo organisations that do not exist yet, with their story. Returns the credentials of the managers it
 * created (to print once with the demo accounts); staff get random passwords nobody is told: they are not meant to
 * sign in.
 */
export async function seedDemoOrganisations(app: INestApplicationContext, history: DemoHistory): Promise<DemoCredentials[]> {
  const logger = new Logger('DemoOrganisations');
  const started = performance.now();
  const db = app.get(DataSource);
  const accounts = app.get(AccountsService);
  const admin = await accounts.userIdByEmail(DEMO_ADMIN_EMAIL).then((id) => (id ? accounts.currentUser(id) : null));
  if (!admin) return [];
  const actor: AuditActor = { id: admin.id, name: admin.name };

  const existing = new Map(
    (await db.createQueryBuilder().from('organisations', 'o').select(['o.id AS id', 'o.name_key AS nameKey', 'o.status AS status']).getRawMany<{ id: number | string; nameKey: string; status: string }>()).map((o) => [
      o.nameKey,
      { id: Number(o.id), status: o.status },
    ]),
  );
  // The story is told for organisations that are not there yet (or the demo trust the demo accounts asked for).
  const toTell = DEMO_ORGANISATIONS.filter((o) => {
    const found = existing.get(organisationNameKey(o.name));
    return !found || (o.key === 'trust' && found.status === 'requested');
  });
  if (!toTell.length) return [];

  // What the story builds on: the courses and the demo accounts must exist before anything happens to them.
  const courseSlugs = [IG, SAFETY, CYBER, LEADERSHIP, EPR, FHIR];
  const courseRows = await db.createQueryBuilder().from('courses', 'c').select(['c.id AS id', 'c.slug AS slug', 'c.created_at AS createdAt']).where('c.slug IN (:...slugs)', { slugs: courseSlugs }).andWhere("c.status = 'published'").getRawMany<{ id: number | string; slug: string; createdAt: Date | string }>();
  if (courseRows.length < courseSlugs.length) {
    logger.warn('The demo courses are not all published: no demo organisations made');
    return [];
  }
  const demoAccountRows = await db.createQueryBuilder().from('users', 'u').select(['u.id AS id', 'u.email AS email', 'u.created_at AS createdAt']).where('u.email IN (:...emails)', { emails: [DEMO_ADMIN_EMAIL, DEMO_AUTHOR_EMAIL, DEMO_MANAGER_EMAIL, DEMO_LEARNER_EMAIL] }).getRawMany<{ id: number | string; email: string; createdAt: Date | string }>();
  const floor = [...courseRows, ...demoAccountRows].map((r) => asDate(r.createdAt).getTime()).reduce((a, b) => Math.max(a, b), 0);
  history.notBefore(new Date(floor));

  const story = new Story(app, history, actor);
  await story.loadCourses(courseSlugs);
  const telling = new Set(toTell.map((o) => o.key));
  const organisationIds = new Map<OrgKey, number>();
  const events: Event[] = [];
  const add = (at: Date, run: () => Promise<void>) => events.push({ at, order: events.length, run });

  // Day one: the administrator approves the trust the demo accounts asked for (or creates it) and makes the others.
  toTell.forEach((organisation, index) => {
    add(history.moment(DEMO_HISTORY_DAYS, 8 * 60 + 30 + index * 10), async () => {
      organisationIds.set(organisation.key, await story.openOrganisation(organisation, existing.get(organisationNameKey(organisation.name))));
    });
  });

  const credentials: DemoCredentials[] = [];
  if (telling.has('trust')) {
    const trustId = () => organisationIds.get('trust')!;
    // The demo accounts signed up naming the trust; they verify their addresses (the administrator withdrew his request).
    add(history.moment(DEMO_HISTORY_DAYS, 9 * 60), () => story.demoAccountJoins(DEMO_ADMIN_EMAIL, trustId(), { member: false }));
    add(history.moment(DEMO_HISTORY_DAYS, 9 * 60 + 10), () => story.demoAccountJoins(DEMO_MANAGER_EMAIL, trustId(), { manager: true }));
    add(history.moment(DEMO_HISTORY_DAYS, 9 * 60 + 30), () => story.demoAccountJoins(DEMO_LEARNER_EMAIL, trustId()));
    add(history.moment(DEMO_HISTORY_DAYS, 9 * 60 + 40), () => story.demoAccountJoins(DEMO_AUTHOR_EMAIL, trustId()));
    Object.entries(DEMO_ACCOUNT_LEARNING).forEach(([email, learning], index) => {
      const person = story.person(email);
      for (const item of learning) story.schedule(add, person, item, 10 + index);
    });
    for (const requirement of DEMO_REQUIREMENTS) {
      add(history.moment(requirement.setDaysAgo, 11 * 60), () => story.require(trustId(), requirement, courseRows));
    }
    add(history.moment(DEMO_REQUEST.joined, 19 * 60 + 5), () => story.signUp({ ...DEMO_REQUEST, organisationId: trustId() }).then(() => undefined));
  }

  DEMO_PEOPLE.filter((p) => telling.has(p.organisation)).forEach((p, index) => {
    const person = story.person(p.email);
    const hour = 8 + ((index * 5) % 9);
    add(history.moment(p.joined, hour * 60 + ((index * 17) % 50)), async () => {
      const password = await story.signUp({ ...p, organisationId: organisationIds.get(p.organisation)! }, person);
      if (p.manager) {
        await story.appoint(organisationIds.get(p.organisation)!, p.email);
        credentials.push({ role: 'org_manager', email: p.email, password });
      }
    });
    for (const item of p.learning) story.schedule(add, person, item, hour);
  });

  events.sort((a, b) => a.at.getTime() - b.at.getTime() || a.order - b.order);
  for (const event of events) {
    history.goTo(event.at);
    await event.run();
  }
  logger.log(`Created ${toTell.length} demo organisations, ${story.signedUp} people, ${story.completions} completions in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return credentials;
}

/** A person of the story: their id once they exist, and their enrolments by course. */
interface StoryPerson {
  email: string;
  userId: number | null;
  enrolments: Map<string, number>;
}

/** The story's actions, each through the service a person's click would reach. */
class Story {
  signedUp = 0;
  completions = 0;
  private readonly people = new Map<string, StoryPerson>();
  private readonly completed = new Set<number>();
  private readonly courses = new Map<string, { id: number; lessons: Array<{ id: number; kind: string; durationSeconds: number | null }> }>();
  private readonly accounts: AccountsService;
  private readonly verification: EmailVerification;
  private readonly organisations: OrganisationAdminService;
  private readonly memberships: MembershipsService;
  private readonly learning: LearningService;
  private readonly progress: ProgressService;
  private readonly jobs: JobsService;

  constructor(
    private readonly app: INestApplicationContext,
    private readonly history: DemoHistory,
    private readonly actor: AuditActor,
  ) {
    this.accounts = app.get(AccountsService);
    this.verification = app.get(EmailVerification);
    this.organisations = app.get(OrganisationAdminService);
    this.memberships = app.get(MembershipsService);
    this.learning = app.get(LearningService);
    this.progress = app.get(ProgressService);
    this.jobs = app.get(JobsService);
  }

  person(email: string): StoryPerson {
    let person = this.people.get(email);
    if (!person) this.people.set(email, (person = { email, userId: null, enrolments: new Map() }));
    return person;
  }

  /** The trust asked for at sign-up is approved and described; the others are created. Each gets its verified domain. */
  async openOrganisation(organisation: DemoOrganisation, found: { id: number; status: string } | undefined): Promise<number> {
    const details = { name: organisation.name, type: organisation.type, odsCode: organisation.odsCode, region: organisation.region };
    let id: number;
    if (found) {
      await this.organisations.approve(this.actor, found.id);
      await this.organisations.update(this.actor, found.id, details);
      id = found.id;
      // The administrator does not work at the trust: his request to join it goes before its domain is verified.
      const adminId = this.actor.id!;
      if ((await this.memberships.membershipOf(adminId, id))?.status === 'pending') await this.memberships.leave((await this.accounts.currentUser(adminId))!, id);
    } else {
      id = (await this.organisations.create(this.actor, details)).id;
    }
    this.history.advance(2 * MINUTE);
    await this.organisations.addDomain(this.actor, id, organisation.domain);
    return id;
  }

  /**
   * A demo account (made by seedDemoAccounts) opens its verification link, and so joins the trust on its domain (or
   * asks to join it now, if it had not). The administrator only verifies his address: he withdrew his request.
   */
  async demoAccountJoins(email: string, organisationId: number, options: { member?: boolean; manager?: boolean } = {}): Promise<void> {
    const user = await this.currentUser(email);
    if (!user) return;
    this.person(email).userId = user.id;
    if (!user.emailVerified) await this.verify(user);
    if (options.member === false) return;
    if ((await this.memberships.membershipOf(user.id, organisationId))?.status !== 'active') await this.memberships.joinNow({ id: user.id, email: user.email, verified: true }, organisationId);
    if (options.manager) await this.appoint(organisationId, email);
  }

  /** Signs up naming the organisation, and a few minutes later opens the verification link. Returns the password. */
  async signUp(input: { name: string; email: string; jobRole: string; organisationId: number }, person?: StoryPerson): Promise<string> {
    const password = randomPassword(input);
    const user = await this.accounts.register({ email: input.email, name: input.name, jobRole: input.jobRole, password, organisation: { kind: 'existing', organisationId: input.organisationId } });
    this.signedUp++;
    if (person) person.userId = user.id;
    this.history.advance(6 * MINUTE);
    await this.verify(user);
    return password;
  }

  async appoint(organisationId: number, email: string): Promise<void> {
    this.history.advance(5 * MINUTE);
    await this.organisations.appointManager(this.actor, organisationId, email, { addAsMember: true });
  }

  /** The trust's manager adds a requirement on the "Add a required course" form's terms. */
  async require(organisationId: number, requirement: (typeof DEMO_REQUIREMENTS)[number], courseRows: Array<{ id: number | string; slug: string }>): Promise<void> {
    const manager = await this.currentUser(DEMO_MANAGER_EMAIL);
    if (!manager) return;
    const organisation = await this.app.get(ManagerScope).organisationFor(manager, organisationId);
    const form = Object.assign(new RequirementFormDto(), {
      courseId: Number(courseRows.find((c) => c.slug === requirement.course)!.id),
      audience: requirement.audience,
      jobRoles: requirement.jobRoles,
      people: [],
      dueKind: 'days',
      dueDays: requirement.dueDays,
      renewalMonths: requirement.renewalMonths,
    });
    await this.app.get(RequirementsService).create(manager, organisation, form);
  }

  /**
   * Puts a course's steps on the timeline: the enrolment, then each lesson (spread evenly up to the completion, or
   * the first `done` of them a couple of days apart), at the person's usual hour.
   */
  schedule(add: (at: Date, run: () => Promise<void>) => void, person: StoryPerson, item: Learning, hour: number): void {
    const minutes = hour * 60 + 7;
    add(this.history.moment(item.enrolled, minutes), () => this.enrol(person, item.course));
    if (item.completed !== undefined) {
      const steps = this.lessonsOf(item.course).length;
      for (let k = 0; k < steps; k++) {
        const daysAgo = Math.round(item.enrolled - ((item.enrolled - item.completed) * (k + 1)) / steps);
        add(this.history.moment(daysAgo, minutes + 20 + k * 12), () => this.doLesson(person, item, k));
      }
    } else {
      const step = Math.max(1, Math.min(2, Math.floor((item.enrolled - 1) / Math.max(1, item.done ?? 0))));
      for (let k = 0; k < (item.done ?? 0); k++) {
        add(this.history.moment(Math.max(1, item.enrolled - (k + 1) * step), minutes + 20 + k * 12), () => this.doLesson(person, item, k));
      }
    }
  }

  private async enrol(person: StoryPerson, slug: string): Promise<void> {
    if (!person.userId) return;
    const { enrolment } = await this.learning.enrol(person.userId, this.courses.get(slug)!.id);
    person.enrolments.set(slug, enrolment.id);
  }

  /** The k-th lesson in syllabus order, done as its page would do it. */
  private async doLesson(person: StoryPerson, item: Learning, k: number): Promise<void> {
    const userId = person.userId;
    if (!userId || !person.enrolments.has(item.course)) return;
    const lesson = this.lessonsOf(item.course)[k];
    let complete = false;
    if (lesson.kind === 'text') complete = (await this.progress.markComplete(userId, lesson.id)).courseComplete;
    else if (lesson.kind === 'resource') {
      const { lesson: full, enrolment } = await this.progress.learnerLesson(userId, lesson.id);
      complete = (await this.progress.recordDownload(enrolment, full)).courseComplete;
    } else if (lesson.kind === 'video') {
      // Watched through, in the player's heartbeats, at the pace of real time.
      const duration = lesson.durationSeconds ?? 0;
      for (let from = 0; from < duration; from += 30) {
        const to = Math.min(duration, from + 30);
        complete = (await this.progress.heartbeat(userId, { lessonId: lesson.id, from, to })).courseComplete;
        this.history.advance((to - from) * 1000 + 1000);
      }
    } else if (lesson.kind === 'quiz') {
      const { lesson: full } = await this.progress.learnerLesson(userId, lesson.id);
      const quiz = await this.progress.quiz(full);
      if (item.failFirst) {
        await this.progress.submitQuiz(userId, lesson.id, Object.fromEntries(quiz.questions.map((q) => [q.id, [q.options.find((o) => !o.correct)!.id]])));
        this.history.advance(25 * MINUTE);
      }
      complete = (await this.progress.submitQuiz(userId, lesson.id, Object.fromEntries(quiz.questions.map((q) => [q.id, q.options.filter((o) => o.correct).map((o) => o.id)])))).courseComplete;
    }
    const enrolmentId = person.enrolments.get(item.course)!;
    if (complete && !this.completed.has(enrolmentId)) {
      this.completed.add(enrolmentId);
      await this.certificateIssued(enrolmentId);
    }
  }

  /**
   * The completion's job issues the certificate: it runs now, at this moment of the story, so the certificate and
   * its PDF carry the day it was earned. In-process, the job already queued is waited for; on BullMQ (whose workers
   * may be other processes) its handler runs here too, which is safe: issuing is idempotent.
   */
  private async certificateIssued(enrolmentId: number): Promise<void> {
    this.completions++;
    if (this.jobs.driver instanceof InProcessDriver) await this.jobs.driver.drain();
    else await this.app.get(CourseCompletedJob).handle({ enrolmentId });
  }

  private async verify(user: { id: number; email: string }): Promise<void> {
    const link = new URL(this.verification.link(user).url);
    const { outcome } = await this.verification.verify(Object.fromEntries(link.searchParams), null);
    if (outcome !== 'verified' && outcome !== 'already-verified') throw new Error(`Demo account ${user.email}: verification ${outcome}`);
  }

  private async currentUser(email: string): Promise<CurrentUser | null> {
    const id = await this.accounts.userIdByEmail(email);
    return id ? this.accounts.currentUser(id) : null;
  }

  /** The courses of the story and their lessons in syllabus order, read once before it begins. */
  async loadCourses(slugs: string[]): Promise<void> {
    for (const slug of slugs) {
      const detail = await this.app.get(CatalogueService).courseBySlug(slug, null);
      this.courses.set(slug, { id: detail.id, lessons: detail.modules.flatMap((m) => m.lessons.map((l) => ({ id: l.id, kind: l.kind, durationSeconds: l.durationSeconds }))) });
    }
  }

  private lessonsOf(slug: string) {
    return this.courses.get(slug)!.lessons;
  }
}

function randomPassword(person: { email: string; name: string }): string {
  let password: string;
  do password = randomBytes(9).toString('base64url');
  while (passwordProblem(password, person));
  return password;
}

/** Raw rows hold DATETIME as a Date (mysql2) or as text in UTC (SQLite). */
const asDate = (value: Date | string) => (value instanceof Date ? value : new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`));

import { DataSource } from 'typeorm';
import { AccountsService } from '../../src/accounts/accounts.service';
import { User } from '../../src/accounts/entities/user.entity';
import { Membership } from '../../src/organisations/entities/membership.entity';
import { OrganisationDomain } from '../../src/organisations/entities/organisation-domain.entity';
import { Organisation, organisationNameKey } from '../../src/organisations/entities/organisation.entity';
import type { OrganisationType, Region } from '../../src/organisations/organisation-kinds';
import type { TestApp } from './app';

let counter = 0;

/**
 * Arranging organisations for a test straight in the database (the journeys that create them through pages have
 * tests of their own). Names are unique per call, so tests sharing a database do not collide.
 */
export async function createOrganisation(
  t: TestApp,
  options: { name?: string; type?: OrganisationType; region?: Region | null; odsCode?: string | null; domains?: string[]; status?: Organisation['status'] } = {},
): Promise<Organisation> {
  const db = t.app.get(DataSource);
  const name = options.name ?? `Test Organisation ${process.pid}-${Date.now()}-${++counter}`;
  const organisation = await db.getRepository(Organisation).save(
    db.getRepository(Organisation).create({
      name,
      nameKey: organisationNameKey(name),
      type: options.type ?? 'nhs_trust',
      region: options.region ?? 'north_east_yorkshire',
      odsCode: options.odsCode ?? null,
      status: options.status ?? 'active',
      mergedIntoId: null,
      requestedById: null,
      createdAt: new Date(),
    }),
  );
  for (const domain of options.domains ?? []) await db.getRepository(OrganisationDomain).insert({ organisationId: organisation.id, domain, createdAt: new Date() });
  return organisation;
}

/** Makes the person an active member (optionally a manager) of the organisation, their address verified. */
export async function addMember(t: TestApp, organisationId: number, userId: number, options: { manager?: boolean; joinedAt?: Date; status?: Membership['status'] } = {}): Promise<void> {
  const db = t.app.get(DataSource);
  const now = options.joinedAt ?? new Date();
  await db.getRepository(User).update({ id: userId }, { emailVerifiedAt: now, ...(options.manager ? { role: 'org_manager' as const } : {}) });
  await t.app.get(AccountsService).identitiesChanged([userId]);
  const status = options.status ?? 'active';
  const values = { status, isManager: !!options.manager, joinedAt: status === 'active' ? now : null, updatedAt: now };
  const existing = await db.getRepository(Membership).findOne({ where: { organisationId, userId } });
  if (existing) await db.getRepository(Membership).update({ id: existing.id }, values);
  else await db.getRepository(Membership).insert({ organisationId, userId, requestedAt: now, decidedById: null, ...values });
}

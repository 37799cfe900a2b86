import { isCodeOf } from '../common/label-codes';

/** What an organisation is. The labels are what people see; the codes are stored. */
export const ORGANISATION_TYPES = {
  nhs_trust: 'NHS trust',
  icb: 'Integrated care board (ICB)',
  gp_practice: 'GP practice or primary care network (PCN)',
  gp_federation: 'GP federation',
  local_authority: 'Local authority',
  care_provider: 'Care provider',
  charity: 'Charity',
  supplier: 'Supplier',
  other: 'Other',
} as const;
export type OrganisationType = keyof typeof ORGANISATION_TYPES;
export const isOrganisationType = isCodeOf(ORGANISATION_TYPES);

/** NHS England's seven regions, and the devolved nations. */
export const REGIONS = {
  east_of_england: 'East of England',
  london: 'London',
  midlands: 'Midlands',
  north_east_yorkshire: 'North East and Yorkshire',
  north_west: 'North West',
  south_east: 'South East',
  south_west: 'South West',
  scotland: 'Scotland',
  wales: 'Wales',
  northern_ireland: 'Northern Ireland',
} as const;
export type Region = keyof typeof REGIONS;
export const isRegion = isCodeOf(REGIONS);

/**
 * `active`: usable by everyone; `requested`: asked for at sign-up, waiting for an administrator;
 * `declined`: refused by one; `merged`: folded into another, kept so old links and audit entries still name it.
 */
export const ORGANISATION_STATUSES = ['active', 'requested', 'declined', 'merged'] as const;
export type OrganisationStatus = (typeof ORGANISATION_STATUSES)[number];

/**
 * `pending`: waiting for a manager's approval (or for the person to verify their e-mail address);
 * `active`: the organisation's managers see the person's learning; `left`: the person left; `declined`: a manager refused.
 */
export const MEMBERSHIP_STATUSES = ['pending', 'active', 'left', 'declined'] as const;
export type MembershipStatus = (typeof MEMBERSHIP_STATUSES)[number];

/**
 * Organisation Data Service codes: 3 to 6 letters and digits (trusts "RX1" or "RWY", ICBs "QWO", practices "B86001",
 * sites "RX1AB"). Stored upper-cased; returns null for anything else.
 */
export function normaliseOdsCode(value: string): string | null {
  const code = value.trim().toUpperCase();
  return /^[A-Z0-9]{3,6}$/.test(code) ? code : null;
}
export const ODS_CODE_MESSAGE = 'Enter an ODS code of 3 to 6 letters and numbers, like RX1 or B86001, or leave it empty';

/** An e-mail domain as stored for matching: lower-case, no leading "@" or dot. Null when it is not a domain. */
export function normaliseDomain(value: string): string | null {
  const domain = value.trim().toLowerCase().replace(/^@/, '').replace(/\.$/, '');
  return /^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(domain) ? domain : null;
}

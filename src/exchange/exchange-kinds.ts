import { isCodeOf } from '../common/label-codes';

/** The three kinds of contribution. The labels are what people see; the codes are stored and in URLs. */
export const EXCHANGE_KINDS = {
  case_study: 'Case study',
  tool: 'Tool',
  hack: 'Hack',
} as const;
export type ExchangeKind = keyof typeof EXCHANGE_KINDS;
export const isExchangeKind = isCodeOf(EXCHANGE_KINDS);

/**
 * An item's state as the public sees it. `draft`: never submitted; `submitted`: waiting for a moderator; `returned`:
 * sent back with feedback; `published`: public (it may also have a newer revision under review: see the revisions);
 * `withdrawn`: taken down by its author or a moderator, kept for its history.
 */
export const ITEM_STATUSES = ['draft', 'submitted', 'returned', 'published', 'withdrawn'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

/**
 * A revision's state. Each edit of a published item is a new revision, reviewed again while the published one stays
 * up; once published, the revision before it becomes `superseded`.
 */
export const REVISION_STATUSES = ['draft', 'submitted', 'returned', 'published', 'superseded'] as const;
export type RevisionStatus = (typeof REVISION_STATUSES)[number];

/** Where care happens: the case study's (and hack's, optionally) setting, a search facet. */
export const CARE_SETTINGS = {
  acute: 'Acute hospital',
  mental_health: 'Mental health',
  community: 'Community health',
  primary_care: 'Primary care',
  ambulance: 'Ambulance service',
  social_care: 'Adult social care',
  integrated_care: 'Integrated care system',
  specialist: 'Specialist or tertiary',
  any: 'Any care setting',
} as const;
export type CareSetting = keyof typeof CARE_SETTINGS;
export const isCareSetting = isCodeOf(CARE_SETTINGS);

/** The licences a tool may be shared under. */
export const TOOL_LICENCES = {
  ogl_3: 'Open Government Licence v3.0',
  cc_by_4: 'Creative Commons Attribution 4.0 (CC BY 4.0)',
  cc_by_sa_4: 'Creative Commons Attribution-ShareAlike 4.0 (CC BY-SA 4.0)',
  all_rights_reserved: 'All rights reserved',
} as const;
export type ToolLicence = keyof typeof TOOL_LICENCES;
export const isToolLicence = isCodeOf(TOOL_LICENCES);

/** What a tool is. */
export const TOOL_TYPES = {
  template: 'Template',
  checklist: 'Checklist',
  spreadsheet: 'Spreadsheet',
  policy: 'Policy',
  script: 'Script',
  other: 'Other',
} as const;
export type ToolType = keyof typeof TOOL_TYPES;
export const isToolType = isCodeOf(TOOL_TYPES);

/** What a system on the moderators' list is. */
export const SYSTEM_CATEGORIES = {
  epr: 'Electronic patient record (EPR)',
  pas: 'Patient administration system (PAS)',
  gp_clinical: 'GP clinical system',
  social_care: 'Social care record',
  pacs: 'Imaging (PACS/RIS)',
  pathology: 'Pathology (LIMS)',
  eprescribing: 'ePrescribing and medicines',
  integration: 'Integration engine or shared care record',
  infrastructure: 'Infrastructure and networks',
  cyber: 'Cyber security',
  productivity: 'Productivity and collaboration',
  other: 'Other',
} as const;
export type SystemCategory = keyof typeof SYSTEM_CATEGORIES;
export const isSystemCategory = isCodeOf(SYSTEM_CATEGORIES);

/** The moderator's checklist: every box is ticked before an item is published. */
export const REVIEW_CHECKLIST = {
  no_patient_data: 'It contains no patient-identifiable data',
  no_advertising: 'It is not advertising',
  may_share: 'The organisation may share it',
  says_what_it_claims: 'It says what it claims (the title, summary and files match what it is)',
} as const;
export type ReviewCheck = keyof typeof REVIEW_CHECKLIST;
export const REVIEW_CHECKS = Object.keys(REVIEW_CHECKLIST) as ReviewCheck[];

/** How long after publishing an item is due for its author to confirm it or update it. */
export const DEFAULT_REVIEW_MONTHS = 24;

/** A hack is short by definition. */
export const HACK_MAX_CHARACTERS = 1000;

/** The sort orders of /exchange. `relevance` only means something with a search. */
export const EXCHANGE_SORTS = {
  relevance: 'Relevance',
  newest: 'Newest',
  most_adopted: 'Most adopted',
  most_helpful: 'Most helpful',
} as const;
export type ExchangeSort = keyof typeof EXCHANGE_SORTS;
export const isExchangeSort = isCodeOf(EXCHANGE_SORTS);

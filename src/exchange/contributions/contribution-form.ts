import { Injectable } from '@nestjs/common';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { FieldErrors, ValidationFailed } from '../../common/errors';
import { emptyToUndefined, lf, markdownText, trimmed } from '../../common/form-fields';
import { parseForm } from '../../common/forms';
import { OrganisationDirectory } from '../../organisations/organisation-directory.service';
import type { ExchangeRevision } from '../entities/exchange-revision.entity';
import { CARE_SETTINGS, SYSTEM_CATEGORIES, TOOL_LICENCES, TOOL_TYPES, type CareSetting, type ExchangeKind, type ToolLicence, type ToolType } from '../exchange-kinds';
import { ExchangeVocabulary, type SystemOption } from '../exchange-vocabulary';
import { idList, idListJson, revisionLists } from '../search-projection';
import { characterCount, hackSummary, keyFigureRows, keyFiguresJson, keyFiguresOf, keyFigureValues, LIMITS, parseKeyFigureRows } from './contribution-rules';

const sectionTooLong = (what: string) => `${what} must be ${LIMITS.section.toLocaleString('en-GB')} characters or fewer`;

/** The text fields of every kind's form; each kind uses its own (see ContributionForms.parse). */
export class ContributionFormDto {
  @trimmed()
  @IsString({ message: 'Enter a title' })
  @IsNotEmpty({ message: 'Enter a title' })
  @MaxLength(LIMITS.title, { message: `The title must be ${LIMITS.title} characters or fewer` })
  title!: string;

  @trimmed()
  @IsOptional()
  @IsString({ message: 'Enter the summary as text' })
  @MaxLength(LIMITS.summary, { message: `The summary must be ${LIMITS.summary} characters or fewer` })
  summary?: string;

  @emptyToUndefined()
  @IsOptional()
  @IsIn(Object.keys(CARE_SETTINGS), { message: 'Choose a care setting from the list' })
  careSetting?: CareSetting;

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter the context and the problem as text' })
  @MaxLength(LIMITS.section, { message: sectionTooLong('The context and the problem') })
  context?: string;

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter what you did as text' })
  @MaxLength(LIMITS.section, { message: sectionTooLong('What you did') })
  actions?: string;

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter the results as text' })
  @MaxLength(LIMITS.section, { message: sectionTooLong('The results') })
  results?: string;

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter the lessons learnt as text' })
  @MaxLength(LIMITS.section, { message: sectionTooLong('The lessons learnt') })
  lessons?: string;

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter what you would do differently as text' })
  @MaxLength(LIMITS.section, { message: sectionTooLong('What you would do differently') })
  differently?: string;

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter what the tool is for as text' })
  @MaxLength(LIMITS.section, { message: sectionTooLong('What the tool is for') })
  purpose?: string;

  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter how to use the tool as text' })
  @MaxLength(LIMITS.section, { message: sectionTooLong('How to use it') })
  howToUse?: string;

  @emptyToUndefined()
  @IsOptional()
  @IsIn(Object.keys(TOOL_TYPES), { message: 'Choose what kind of tool it is from the list' })
  toolType?: ToolType;

  @emptyToUndefined()
  @IsOptional()
  @IsIn(Object.keys(TOOL_LICENCES), { message: 'Choose a licence from the list' })
  licence?: ToolLicence;

  /** Counted as a person counts (code points, after trimming) by ContributionForms, not here. */
  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter the tip as text' })
  @MaxLength(20_000, { message: `The tip must be ${LIMITS.tip.toLocaleString('en-GB')} characters or fewer` })
  tip?: string;

  @trimmed()
  @IsOptional()
  @IsString({ message: 'Enter the partner organisations as text, one on each line' })
  @MaxLength(5_000, { message: 'Name at most 10 partner organisations, one on each line' })
  partners?: string;

  @trimmed()
  @IsOptional()
  @IsString({ message: 'Enter what changed as text' })
  @MaxLength(LIMITS.changeNote, { message: `What changed must be ${LIMITS.changeNote} characters or fewer` })
  changeNote?: string;
}

/** What a revision says, as the form gave it: the columns of exchange_revisions a contribution writes. */
export interface RevisionContent {
  title: string;
  summary: string;
  careSetting: CareSetting | null;
  context: string | null;
  actions: string | null;
  results: string | null;
  keyFigures: string | null;
  lessons: string | null;
  differently: string | null;
  purpose: string | null;
  howToUse: string | null;
  toolType: ToolType | null;
  licence: ToolLicence | null;
  tip: string | null;
  topicIds: string;
  systemIds: string;
  partnerOrganisationIds: string;
}

export const CONTENT_FIELDS: Array<keyof RevisionContent> = [
  'title',
  'summary',
  'careSetting',
  'context',
  'actions',
  'results',
  'keyFigures',
  'lessons',
  'differently',
  'purpose',
  'howToUse',
  'toolType',
  'licence',
  'tip',
  'topicIds',
  'systemIds',
  'partnerOrganisationIds',
];

/** The content of a stored revision, in the same shape. */
export function contentOf(revision: ExchangeRevision): RevisionContent {
  const lists = revisionLists(revision);
  return {
    title: revision.title,
    summary: revision.summary ?? '',
    careSetting: revision.careSetting ?? null,
    context: revision.context ?? null,
    actions: revision.actions ?? null,
    results: revision.results ?? null,
    keyFigures: keyFiguresJson(keyFiguresOf(revision.keyFigures)),
    lessons: revision.lessons ?? null,
    differently: revision.differently ?? null,
    purpose: revision.purpose ?? null,
    howToUse: revision.howToUse ?? null,
    toolType: revision.toolType ?? null,
    licence: revision.licence ?? null,
    tip: revision.tip ?? null,
    topicIds: idListJson(lists.topicIds),
    systemIds: idListJson(lists.systemIds),
    partnerOrganisationIds: idListJson(lists.partnerOrganisationIds),
  };
}

/** Whether two contents say the same (empty text and no text are the same). */
export function sameContent(a: RevisionContent, b: RevisionContent): boolean {
  const norm = (v: unknown) => (v === '' || v === undefined ? null : v);
  return CONTENT_FIELDS.every((field) => norm(a[field]) === norm(b[field]));
}

/** A form's parsed answer: the revision's content, the organisation it is shared for (new items), the change note. */
export interface ContributionInput {
  content: RevisionContent;
  organisationId: number | null;
  changeNote: string | null;
}

const textOrNull = (value: string | undefined) => (value === undefined || value === '' ? null : value);

/** A form field that may be repeated (checkboxes) as a list of strings. */
export const listOf = (value: unknown): string[] => (Array.isArray(value) ? value : value === undefined || value === null ? [] : [value]).filter((v): v is string => typeof v === 'string' && v !== '');

/** One line per partner organisation (commas are part of some names). */
const partnerLines = (text: string) =>
  lf(text)
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter(Boolean);

export interface FormContext {
  /** The organisations the author may share for (a new item), or null when editing (the item's stays). */
  organisations: Array<{ id: number; name: string }> | null;
  /** The revision being changed, whose retired systems stay choosable. */
  existing: ExchangeRevision | null;
  /** The item's own organisation (not a partner of itself), when editing. */
  organisationId: number | null;
}

/**
 * The forms of the three kinds: parsing what was sent into a revision's content (every error at once, by field, so the
 * form shows them all), and the form's view (the values to show, the choices of topics, systems and the rest).
 */
@Injectable()
export class ContributionForms {
  constructor(
    private readonly vocabulary: ExchangeVocabulary,
    private readonly directory: OrganisationDirectory,
  ) {}

  async parse(kind: ExchangeKind, body: Record<string, unknown>, context: FormContext): Promise<ContributionInput> {
    const errors: FieldErrors = {};
    let dto: ContributionFormDto | null = null;
    try {
      dto = await parseForm(ContributionFormDto, body);
    } catch (err) {
      if (!(err instanceof ValidationFailed)) throw err;
      Object.assign(errors, err.fieldErrors);
    }
    const organisationId = this.organisationOf(body, context, errors);
    const leadId = context.organisationId ?? organisationId;
    const [topicIds, systemIds, partnerIds] = await Promise.all([this.topicsOf(body, errors), this.systemsOf(body, context.existing, errors), kind === 'case_study' && !errors.partners ? this.partnersOf(dto?.partners ?? (typeof body.partners === 'string' ? body.partners : ''), leadId, errors) : Promise.resolve([])]);
    const figures = kind === 'case_study' ? parseKeyFigureRows(body) : { figures: [], errors: {} };
    Object.assign(errors, figures.errors);
    if (kind === 'hack' && dto?.tip !== undefined && characterCount(dto.tip) > LIMITS.tip) {
      errors.tip = `The tip must be ${LIMITS.tip.toLocaleString('en-GB')} characters or fewer: it has ${characterCount(dto.tip).toLocaleString('en-GB')}`;
    }
    if (Object.keys(errors).length || !dto) throw new ValidationFailed(errors);
    const caseStudy = kind === 'case_study';
    const tool = kind === 'tool';
    const hack = kind === 'hack';
    const tip = hack ? textOrNull(dto.tip) : null;
    return {
      organisationId,
      changeNote: dto.changeNote ? dto.changeNote : null,
      content: {
        title: dto.title,
        summary: hack ? hackSummary(tip) : (dto.summary ?? ''),
        careSetting: caseStudy || hack ? (dto.careSetting ?? null) : null,
        context: caseStudy ? textOrNull(dto.context) : null,
        actions: caseStudy ? textOrNull(dto.actions) : null,
        results: caseStudy ? textOrNull(dto.results) : null,
        keyFigures: caseStudy ? keyFiguresJson(figures.figures) : null,
        lessons: caseStudy ? textOrNull(dto.lessons) : null,
        differently: caseStudy ? textOrNull(dto.differently) : null,
        purpose: tool ? textOrNull(dto.purpose) : null,
        howToUse: tool ? textOrNull(dto.howToUse) : null,
        toolType: tool ? (dto.toolType ?? null) : null,
        licence: tool ? (dto.licence ?? null) : null,
        tip,
        topicIds: idListJson(topicIds),
        systemIds: idListJson(systemIds),
        partnerOrganisationIds: idListJson(partnerIds),
      },
    };
  }

  /** The organisation a new item is shared for: the author's only one, or the one they chose among theirs. */
  private organisationOf(body: Record<string, unknown>, context: FormContext, errors: FieldErrors): number | null {
    const choices = context.organisations;
    if (!choices) return null;
    if (choices.length === 1) return choices[0].id;
    const chosen = Number(typeof body.organisationId === 'string' ? body.organisationId : NaN);
    const found = choices.find((o) => o.id === chosen);
    if (!found) errors.organisationId = 'Choose which of your organisations is sharing it';
    return found?.id ?? null;
  }

  private async topicsOf(body: Record<string, unknown>, errors: FieldErrors): Promise<number[]> {
    const values = listOf(body.topics);
    if (!values.length) return [];
    const topics = new Set((await this.vocabulary.topics()).map((t) => t.id));
    const ids = [...new Set(values.map(Number))];
    if (ids.some((id) => !topics.has(id))) errors.topics = 'Choose topics from the list';
    else if (ids.length > LIMITS.topics) errors.topics = `Choose at most ${LIMITS.topics} topics`;
    return ids.filter((id) => topics.has(id)).sort((a, b) => a - b);
  }

  private async systemsOf(body: Record<string, unknown>, existing: ExchangeRevision | null, errors: FieldErrors): Promise<number[]> {
    const values = listOf(body.systems);
    if (!values.length) return [];
    // Systems since retired stay on what already names them, so saving it unchanged keeps them.
    const allowed = new Set([...(await this.vocabulary.currentSystems()).map((s) => s.id), ...(existing ? idList(existing.systemIds) : [])]);
    const ids = [...new Set(values.map(Number))];
    if (ids.some((id) => !allowed.has(id))) errors.systems = 'Choose systems from the list';
    else if (ids.length > LIMITS.systems) errors.systems = `Choose at most ${LIMITS.systems} systems and suppliers`;
    return ids.filter((id) => allowed.has(id)).sort((a, b) => a - b);
  }

  /** Partner organisations named one per line, each resolved to exactly one active organisation. */
  private async partnersOf(text: string, leadId: number | null, errors: FieldErrors): Promise<number[]> {
    const lines = partnerLines(text);
    if (!lines.length) return [];
    if (lines.length > LIMITS.partners) {
      errors.partners = `Name at most ${LIMITS.partners} partner organisations`;
      return [];
    }
    const ids: number[] = [];
    const problems: string[] = [];
    for (const line of lines) {
      if (characterCount(line) > LIMITS.partnerName) {
        problems.push(`“${[...line].slice(0, 40).join('')}…” is too long for an organisation’s name`);
        continue;
      }
      const matches = await this.directory.exactMatches(line);
      if (matches.length === 1) {
        if (matches[0].id !== leadId && !ids.includes(matches[0].id)) ids.push(matches[0].id);
      } else if (!matches.length) {
        problems.push(`No organisation on the academy is called “${line}”: check the spelling, or give its ODS code`);
      } else {
        problems.push(`More than one organisation matches “${line}”: give its full name or its ODS code`);
      }
    }
    if (problems.length) errors.partners = problems.join('. ');
    return ids;
  }

  /** The form's values for a stored revision (what the form shows before anything is changed). */
  async valuesOf(revision: ExchangeRevision, organisationId: number): Promise<Record<string, unknown>> {
    const { topicIds, systemIds, partnerOrganisationIds } = revisionLists(revision);
    const partners = await this.directory.describe(partnerOrganisationIds);
    return {
      title: revision.title,
      summary: revision.summary,
      careSetting: revision.careSetting ?? '',
      context: revision.context ?? '',
      actions: revision.actions ?? '',
      results: revision.results ?? '',
      lessons: revision.lessons ?? '',
      differently: revision.differently ?? '',
      purpose: revision.purpose ?? '',
      howToUse: revision.howToUse ?? '',
      toolType: revision.toolType ?? '',
      licence: revision.licence ?? '',
      tip: revision.tip ?? '',
      topics: topicIds.map(String),
      systems: systemIds.map(String),
      partners: partnerOrganisationIds
        .filter((id) => id !== organisationId && partners.has(id))
        .map((id) => partners.get(id)!.name)
        .join('\n'),
      ...keyFigureValues(keyFiguresOf(revision.keyFigures)),
    };
  }

  /** The choices and values of the form, for views/exchange/contributions/form.hbs. */
  async view(kind: ExchangeKind, values: Record<string, unknown>, errors: FieldErrors, existing: ExchangeRevision | null) {
    const [topics, current] = await Promise.all([this.vocabulary.topics(), this.vocabulary.currentSystems()]);
    const chosenTopics = new Set(listOf(values.topics));
    const chosenSystems = new Set(listOf(values.systems));
    const kept = existing ? idList(existing.systemIds).filter((id) => !current.some((s) => s.id === id)) : [];
    const retired = [...(await this.vocabulary.systemsById(kept)).values()];
    const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : '');
    const radios = (name: string, options: Record<string, string>) => Object.entries(options).map(([value, label], i) => ({ id: i === 0 ? name : `${name}-${i + 1}`, value, text: label, checked: text(name) === value }));
    const systemGroups = new Map<string, Array<SystemOption & { checked: boolean; retired: boolean; inputId: string }>>();
    let index = 0;
    for (const system of [...current, ...retired].sort((a, b) => a.name.localeCompare(b.name))) {
      const label = SYSTEM_CATEGORIES[system.category] ?? SYSTEM_CATEGORIES.other;
      if (!systemGroups.has(label)) systemGroups.set(label, []);
      systemGroups.get(label)!.push({ ...system, checked: chosenSystems.has(String(system.id)), retired: retired.includes(system), inputId: '' });
    }
    const groups = [...systemGroups.entries()]
      .sort(([a], [b]) => Object.values(SYSTEM_CATEGORIES).indexOf(a as never) - Object.values(SYSTEM_CATEGORIES).indexOf(b as never))
      .map(([category, systems]) => ({ category, systems: systems.map((s) => ({ ...s, inputId: index++ === 0 ? 'systems' : `systems-${index}` })) }));
    return {
      values,
      tipCount: characterCount(text('tip')),
      careSettings: radios('careSetting', CARE_SETTINGS),
      careSettingOptions: Object.entries(CARE_SETTINGS).map(([value, label]) => ({ value, text: label, selected: text('careSetting') === value })),
      toolTypes: radios('toolType', TOOL_TYPES),
      licences: radios('licence', TOOL_LICENCES),
      topicChoices: topics.map((t, i) => ({ id: i === 0 ? 'topics' : `topics-${i + 1}`, value: String(t.id), text: t.name, checked: chosenTopics.has(String(t.id)) })),
      systemGroups: groups,
      hasSystems: groups.length > 0,
      figureRows: kind === 'case_study' ? keyFigureRows(values, errors) : [],
      limits: LIMITS,
    };
  }
}

import { ApiProperty } from '@nestjs/swagger';
import { CARE_SETTINGS, EXCHANGE_KINDS, ITEM_STATUSES, REVISION_STATUSES, TOOL_LICENCES, TOOL_TYPES } from '../exchange-kinds';

/** The shapes GET /api/v1/exchange/{slug} answers with (contributions.api.controller.ts builds them). */

export class ExchangeOrganisationResponse {
  @ApiProperty({ example: 12 }) id!: number;
  @ApiProperty({ example: 'Leeds Teaching Hospitals NHS Trust' }) name!: string;
  @ApiProperty({ example: 'nhs_trust', description: 'The organisation type code' }) type!: string;
  @ApiProperty({ type: String, nullable: true, example: 'north_east_yorkshire', description: 'The NHS England region code, when known' }) region!: string | null;
}

export class ExchangeSectionResponse {
  @ApiProperty({ example: 'context', description: 'Which section: context, actions, results, lessons, differently (case studies); purpose, howToUse (tools); tip (hacks)' }) field!: string;
  @ApiProperty({ example: 'The context and the problem' }) heading!: string;
  @ApiProperty({ description: 'As its author wrote it (Markdown)' }) markdown!: string;
  @ApiProperty({ description: 'The Markdown as sanitised HTML (only a few tags; links to http(s) and mailto)' }) html!: string;
}

export class ExchangeKeyFigureResponse {
  @ApiProperty({ example: 'Discharge letters sent within 24 hours' }) label!: string;
  @ApiProperty({ example: 61 }) before!: number;
  @ApiProperty({ example: 94 }) after!: number;
  @ApiProperty({ example: '%', description: 'Empty when the figures have no unit' }) unit!: string;
}

export class ExchangeSystemResponse {
  @ApiProperty({ example: 'oracle-health-millennium' }) slug!: string;
  @ApiProperty({ example: 'Millennium' }) name!: string;
  @ApiProperty({ example: 'Oracle Health' }) supplier!: string;
}

export class ExchangeTopicResponse {
  @ApiProperty({ example: 'clinical-safety' }) slug!: string;
  @ApiProperty({ example: 'Clinical safety' }) name!: string;
}

export class ExchangeFileResponse {
  @ApiProperty({ example: 41 }) id!: number;
  @ApiProperty({ example: 'discharge-checklist.xlsx' }) fileName!: string;
  @ApiProperty({ example: 18342 }) bytes!: number;
  @ApiProperty({ example: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }) contentType!: string;
  @ApiProperty({ example: '/exchange/discharge-checklist-3f9c1a/files/41', description: 'The download (a path on this site); downloads are counted' }) url!: string;
}

export class ExchangeToolVersionResponse extends ExchangeFileResponse {
  @ApiProperty({ example: 2 }) version!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When this version was first published; null for a newer one not published yet (seen only by those who may see it)' }) publishedAt!: string | null;
  @ApiProperty({ description: 'Whether this is the version of the revision returned' }) current!: boolean;
}

export class ExchangeToolResponse {
  @ApiProperty({ enum: Object.keys(TOOL_TYPES), nullable: true, type: String }) type!: string | null;
  @ApiProperty({ enum: Object.keys(TOOL_LICENCES), nullable: true, type: String }) licence!: string | null;
  @ApiProperty({ type: [ExchangeToolVersionResponse], description: 'Every version that was published, newest first' }) versions!: ExchangeToolVersionResponse[];
}

export class ExchangeCountsResponse {
  @ApiProperty({ example: 14 }) helpful!: number;
  @ApiProperty({ example: 3, description: 'Organisations that adopted it' }) adoptions!: number;
  @ApiProperty({ example: 9 }) saves!: number;
  @ApiProperty({ example: 120, description: 'Downloads of its files' }) downloads!: number;
}

export class ExchangeItemResponse {
  @ApiProperty({ example: 'discharge-letters-within-a-day-3f9c1a' }) slug!: string;
  @ApiProperty({ enum: Object.keys(EXCHANGE_KINDS) }) kind!: string;
  @ApiProperty({ enum: ITEM_STATUSES, description: 'published for everyone; another state only for its author, its organisation’s managers and moderators' }) status!: string;
  @ApiProperty({ example: 1, description: 'The number of the revision returned' }) revision!: number;
  @ApiProperty({ enum: REVISION_STATUSES, description: 'The state of the revision returned' }) revisionStatus!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ description: 'Plain text' }) summary!: string;
  @ApiProperty({ type: ExchangeOrganisationResponse, description: 'The organisation that shares it' }) organisation!: ExchangeOrganisationResponse;
  @ApiProperty({ type: [ExchangeOrganisationResponse] }) partnerOrganisations!: ExchangeOrganisationResponse[];
  @ApiProperty({ enum: Object.keys(CARE_SETTINGS), nullable: true, type: String }) careSetting!: string | null;
  @ApiProperty({ type: [ExchangeSectionResponse], description: 'The sections its kind has, in order; empty ones are left out' }) sections!: ExchangeSectionResponse[];
  @ApiProperty({ type: [ExchangeKeyFigureResponse], description: 'Case studies: results as before and after figures (at most 6)' }) keyFigures!: ExchangeKeyFigureResponse[];
  @ApiProperty({ type: [ExchangeSystemResponse] }) systems!: ExchangeSystemResponse[];
  @ApiProperty({ type: [ExchangeTopicResponse] }) topics!: ExchangeTopicResponse[];
  @ApiProperty({ type: [ExchangeFileResponse], description: 'Its attachments; for a tool, its current file' }) files!: ExchangeFileResponse[];
  @ApiProperty({ type: ExchangeToolResponse, nullable: true, description: 'Tools only' }) tool!: ExchangeToolResponse | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) publishedAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When its author is asked to confirm it is still current' }) reviewDueAt!: string | null;
  @ApiProperty({ description: 'Past its review date and not yet confirmed: it may be out of date' }) mayBeOutOfDate!: boolean;
  @ApiProperty({ type: ExchangeCountsResponse }) counts!: ExchangeCountsResponse;
}

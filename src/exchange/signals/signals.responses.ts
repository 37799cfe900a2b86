import { ApiProperty } from '@nestjs/swagger';

/** The shapes the signals endpoints answer with, for the OpenAPI document (signals.api.controller.ts builds them). */

export class ExchangeSignalCountsResponse {
  @ApiProperty({ example: 12, description: 'People who marked it helpful' }) helpful!: number;
  @ApiProperty({ example: 30, description: 'People who saved it' }) saves!: number;
  @ApiProperty({ example: 4, description: 'Organisations that adopted it' }) adoptions!: number;
  @ApiProperty({ example: 87, description: 'Downloads of its files (tools)' }) downloads!: number;
}

export class ExchangeHelpfulResponse {
  @ApiProperty({ example: 'discharge-summaries-in-48-hours-k3x9' }) slug!: string;
  @ApiProperty({ description: 'Whether the caller now marks it helpful' }) helpful!: boolean;
  @ApiProperty({ type: ExchangeSignalCountsResponse, description: 'The item’s counts after the change' }) counts!: ExchangeSignalCountsResponse;
}

export class ExchangeSaveResponse {
  @ApiProperty({ example: 'discharge-summaries-in-48-hours-k3x9' }) slug!: string;
  @ApiProperty({ description: 'Whether the caller now has it in My saved' }) saved!: boolean;
  @ApiProperty({ type: ExchangeSignalCountsResponse, description: 'The item’s counts after the change' }) counts!: ExchangeSignalCountsResponse;
}

export class ExchangeAdoptionDetail {
  @ApiProperty({ example: 12 }) organisationId!: number;
  @ApiProperty({ example: 'Leeds Teaching Hospitals NHS Trust' }) organisationName!: string;
  @ApiProperty({ type: String, nullable: true, example: 'Adapted for our community nursing teams', description: 'Markdown, as written' }) note!: string | null;
  @ApiProperty({ type: String, format: 'date-time', description: 'When the organisation’s adoption was first recorded' }) createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time', description: 'When its note last changed' }) updatedAt!: Date;
}

export class ExchangeAdoptionResponse {
  @ApiProperty({ example: 'discharge-summaries-in-48-hours-k3x9' }) slug!: string;
  @ApiProperty({ example: 12 }) organisationId!: number;
  @ApiProperty({ description: 'Whether the organisation now has an adoption of it recorded' }) adopted!: boolean;
  @ApiProperty({ type: ExchangeAdoptionDetail, nullable: true, description: 'The adoption as recorded; null once withdrawn' }) adoption!: ExchangeAdoptionDetail | null;
  @ApiProperty({ type: ExchangeSignalCountsResponse, description: 'The item’s counts after the change' }) counts!: ExchangeSignalCountsResponse;
}

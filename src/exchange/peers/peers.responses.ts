import { ApiProperty } from '@nestjs/swagger';
import { ORGANISATION_TYPES, REGIONS } from '../../organisations/organisation-kinds';

/** The shapes GET /api/v1/peers answers with, for the OpenAPI document. No e-mail address is ever part of them. */

export class PeerOrganisationResponse {
  @ApiProperty({ example: 12 }) id!: number;
  @ApiProperty({ example: 'Leeds Teaching Hospitals NHS Trust' }) name!: string;
  @ApiProperty({ enum: Object.keys(ORGANISATION_TYPES), example: 'nhs_trust' }) type!: string;
  @ApiProperty({ enum: Object.keys(REGIONS), nullable: true, type: String, example: 'north_east_yorkshire' }) region!: string | null;
}

export class PeerSystemResponse {
  @ApiProperty({ example: 'oracle-health-millennium' }) slug!: string;
  @ApiProperty({ example: 'Millennium' }) name!: string;
  @ApiProperty({ example: 'Oracle Health' }) supplier!: string;
}

export class PeerTopicResponse {
  @ApiProperty({ example: 'clinical-safety' }) slug!: string;
  @ApiProperty({ example: 'Clinical safety' }) name!: string;
}

export class PeerResponse {
  @ApiProperty({ example: 42, description: 'The person’s id: their profile is /peers/{userId}' }) userId!: number;
  @ApiProperty({ example: 'Priya Shah' }) name!: string;
  @ApiProperty({ example: 'Clinical safety officer', description: 'As on their account; may be empty' }) jobRole!: string;
  @ApiProperty({ type: [PeerOrganisationResponse], description: 'The organisations they are an active member of' }) organisations!: PeerOrganisationResponse[];
  @ApiProperty({ description: 'Markdown, as they wrote it (at most 600 characters); may be empty' }) bio!: string;
  @ApiProperty({ type: [PeerSystemResponse], description: 'Systems they have worked with' }) systems!: PeerSystemResponse[];
  @ApiProperty({ type: [PeerTopicResponse], description: 'Topics they can help with' }) topics!: PeerTopicResponse[];
  @ApiProperty({ description: 'Whether they accept messages through the academy’s contact relay (/peers/{userId}/contact)' }) openToContact!: boolean;
}

export class PeerListResponse {
  @ApiProperty({ type: [PeerResponse] }) items!: PeerResponse[];
  @ApiProperty({ example: 31 }) total!: number;
  @ApiProperty({ example: 1 }) page!: number;
  @ApiProperty({ example: 2 }) pages!: number;
}

import { ApiProperty } from '@nestjs/swagger';
import { SUBJECT_TYPES } from './certificate.entity';

/** The shapes the certificates API answers with, for the OpenAPI document. */

export class CertificateSubjectResponse {
  @ApiProperty({ enum: SUBJECT_TYPES, description: 'course: a certificate of completion; webinar: of attendance' }) type!: string;
  @ApiProperty({ example: 4 }) id!: number;
  @ApiProperty({ example: 'Clinical risk in practice', description: 'As it was when the certificate was issued' }) title!: string;
}

/** What anyone holding the code may see: no e-mail address, organisation or account id. */
export class CertificateVerificationResponse {
  @ApiProperty({ example: '7K3M-Q9XD-2FHT', description: 'Three groups of four letters and digits' }) code!: string;
  @ApiProperty({ enum: ['issuing', 'valid', 'revoked'] }) status!: string;
  @ApiProperty({ example: 'Priya Shah' }) holderName!: string;
  @ApiProperty({ type: CertificateSubjectResponse }) subject!: CertificateSubjectResponse;
  @ApiProperty({ type: String, format: 'date-time' }) achievedAt!: Date;
  @ApiProperty({ example: 1.25 }) cpdHours!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt!: Date | null;
  @ApiProperty({ type: String, nullable: true }) revokedReason!: string | null;
  @ApiProperty({ format: 'uri', description: 'The public verification page' }) verifyUrl!: string;
  @ApiProperty({ format: 'uri', description: 'Its Open Badges 2.0 assertion (hosted verification); a revoked one answers 410 with `revoked: true`' }) badgeUrl!: string;
}

export class CertificateResponse extends CertificateVerificationResponse {
  @ApiProperty({ type: String, format: 'date-time' }) issuedAt!: Date;
  @ApiProperty({ format: 'uri', description: 'The PDF; fetch it with the same bearer token' }) downloadUrl!: string;
}

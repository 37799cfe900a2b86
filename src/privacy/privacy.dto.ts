import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Length } from 'class-validator';
import { PASSWORD_MAX } from '../accounts/accounts.dto';
import type { CertificateChoice } from '../common/personal-data';

export const CERTIFICATE_CHOICES: CertificateChoice[] = ['keep', 'revoke'];

/** "Delete my account": what becomes of the certificates, confirmed with the current password. */
export class DeleteAccountDto {
  @IsIn(CERTIFICATE_CHOICES, { message: 'Choose whether your certificates stay verifiable or are revoked' })
  certificates!: CertificateChoice;

  @IsString({ message: 'Enter your password' })
  @Length(1, PASSWORD_MAX, { message: 'Enter your password' })
  password!: string;
}

class PersonalDataPerson {
  @ApiProperty() id!: number;
  @ApiProperty() name!: string;
  @ApiProperty() email!: string;
}

class PersonalDataAcademy {
  @ApiProperty({ example: 'Peer Academy' }) name!: string;
  @ApiProperty({ format: 'uri' }) url!: string;
}

export class PersonalDataResponse {
  @ApiProperty({ type: String, format: 'date-time', description: 'When the document was made' })
  generatedAt!: string;

  @ApiProperty({ type: PersonalDataAcademy, description: 'Who holds the data' })
  academy!: PersonalDataAcademy;

  @ApiProperty({ type: PersonalDataPerson, description: 'Whose data it is' })
  person!: PersonalDataPerson;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'Everything held about the caller, one entry per kind: `account`, `memberships`, `requiredLearning` (requirements naming the caller, reminders, digests), `sessions`, `apiTokens` (never the tokens), `passwordResets` (dates only), `emailPreferences`, `enrolments`, `lessonProgress`, `quizAttempts` (with the answers given), `certificates`, `webinarRegistrations`, `webinarAttendance`, `webinarQuestions` (asked and voted for), `exchangeSignals` (exchange items marked helpful or saved, adoptions recorded) and `emails` (those sent to the caller). Lists are arrays; times are ISO 8601 UTC.',
  })
  sections!: Record<string, unknown>;
}

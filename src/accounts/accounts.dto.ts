import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsString, Length, MaxLength, MinLength } from 'class-validator';
import { PASSWORD_MAX, PASSWORD_MIN } from './password-policy';

export { PASSWORD_MAX, PASSWORD_MIN };

const trim = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));
const lower = () => Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value));
const EMAIL_MESSAGE = 'Enter an e-mail address in the correct format, like name@example.nhs.uk';

class PasswordField {
  @ApiProperty({ minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX, example: 'correct horse battery staple' })
  @IsString({ message: 'Enter a password' })
  @MinLength(PASSWORD_MIN, { message: `Your password must be at least ${PASSWORD_MIN} characters` })
  @MaxLength(PASSWORD_MAX, { message: `Your password must be at most ${PASSWORD_MAX} characters` })
  password!: string;
}

/** The person's details, as sign-up and "Your account" take them (one set of rules for both). */
const NameField = () =>
  applyDecorators(
    ApiProperty({ example: 'Priya Shah', maxLength: 120 }),
    trim(),
    IsString({ message: 'Enter your full name' }),
    MinLength(1, { message: 'Enter your full name' }),
    MaxLength(120, { message: 'Full name must be 120 characters or fewer' }),
  );
const OrganisationField = () =>
  applyDecorators(
    ApiProperty({ example: 'Leeds Teaching Hospitals NHS Trust', maxLength: 150, description: 'Your organisation, by name or ODS code. An active organisation of exactly that name (whatever the case and spacing) or code is joined; otherwise a new one is asked for, which an administrator approves. Membership waits for the e-mail address to be verified' }),
    trim(),
    IsString({ message: 'Enter the name of your organisation' }),
    MinLength(2, { message: 'Enter the name of your organisation' }),
    MaxLength(150, { message: 'Organisation must be 150 characters or fewer' }),
  );
const JobRoleField = () =>
  applyDecorators(
    ApiProperty({ example: 'Clinical safety officer', maxLength: 120 }),
    trim(),
    IsString({ message: 'Enter your job role' }),
    MinLength(2, { message: 'Enter your job role' }),
    MaxLength(120, { message: 'Job role must be 120 characters or fewer' }),
  );

export class SignUpDto extends PasswordField {
  @NameField()
  name!: string;

  @ApiProperty({ example: 'priya.shah@example.nhs.uk', maxLength: 254 })
  @lower()
  @IsEmail({}, { message: EMAIL_MESSAGE })
  @MaxLength(254, { message: EMAIL_MESSAGE })
  email!: string;

  @OrganisationField()
  organisation!: string;

  @JobRoleField()
  jobRole!: string;
}

/** "Your account": the details a person may correct themselves (not the e-mail address and role; organisations are joined and left on "Your organisations"). */
export class UpdateDetailsDto {
  @NameField()
  name!: string;

  @JobRoleField()
  jobRole!: string;
}

export class SignInDto {
  @ApiProperty({ example: 'priya.shah@example.nhs.uk' })
  @lower()
  @IsEmail({}, { message: EMAIL_MESSAGE })
  @MaxLength(254, { message: EMAIL_MESSAGE })
  email!: string;

  @ApiProperty({ example: 'correct horse battery staple' })
  @IsString({ message: 'Enter your password' })
  @Length(1, PASSWORD_MAX, { message: 'Enter your password' })
  password!: string;
}

export class ForgotPasswordDto {
  @lower()
  @IsEmail({}, { message: EMAIL_MESSAGE })
  @MaxLength(254, { message: EMAIL_MESSAGE })
  email!: string;
}

export class ResetPasswordDto extends PasswordField {}

export class ChangePasswordDto {
  @IsString({ message: 'Enter your current password' })
  @Length(1, PASSWORD_MAX, { message: 'Enter your current password' })
  currentPassword!: string;

  @IsString({ message: 'Enter a new password' })
  @MinLength(PASSWORD_MIN, { message: `Your new password must be at least ${PASSWORD_MIN} characters` })
  @MaxLength(PASSWORD_MAX, { message: `Your new password must be at most ${PASSWORD_MAX} characters` })
  newPassword!: string;
}

export class TokenResponse {
  @ApiProperty({ description: 'Send as "Authorization: Bearer <token>"' })
  token!: string;
  @ApiProperty({ example: 'Bearer' })
  tokenType!: 'Bearer';
  @ApiProperty({ type: String, format: 'date-time' })
  expiresAt!: string;
}

export class MeResponse {
  @ApiProperty() id!: number;
  @ApiProperty() email!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['learner', 'author', 'org_manager', 'admin'] }) role!: string;
  @ApiProperty() jobRole!: string;
  @ApiProperty({ type: Number, nullable: true }) organisationId!: number | null;
  @ApiProperty({ type: String, nullable: true }) organisationName!: string | null;
  @ApiProperty({ description: 'Whether the e-mail address is verified; until it is, the account is a member of no organisation' }) emailVerified!: boolean;
}

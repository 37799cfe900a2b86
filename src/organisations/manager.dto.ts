import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { STAFF_STATUSES, type StaffStatus } from './staff-report.service';
import { PageNumber } from '../common/form-fields';

const emptyToUndefined = () => Transform(({ value }) => (typeof value === 'string' && value.trim() === '' ? undefined : value));

/** The staff list's search, filters and page: the same for /organisation/{id}/staff and its API. */
export class StaffQueryDto {
  @ApiPropertyOptional({ description: 'Part of a name or e-mail address', maxLength: 100 })
  @emptyToUndefined()
  @IsOptional()
  @IsString({ message: 'Search for some text' })
  @MaxLength(100, { message: 'Search for at most 100 characters' })
  q?: string;

  @ApiPropertyOptional({ description: 'Only people with this job role (as they gave it)', maxLength: 120 })
  @emptyToUndefined()
  @IsOptional()
  @IsString({ message: 'Choose a job role from the list' })
  @MaxLength(120, { message: 'Choose a job role from the list' })
  jobRole?: string;

  @ApiPropertyOptional({ enum: STAFF_STATUSES, default: 'active', description: 'active: members; pending: asking to join; left: former members' })
  @emptyToUndefined()
  @IsOptional()
  @IsIn(STAFF_STATUSES, { message: `status must be one of ${STAFF_STATUSES.join(', ')}` })
  status?: StaffStatus;

  @PageNumber()
  page?: number;
}

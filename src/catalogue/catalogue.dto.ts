import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { COURSE_LEVELS, type CourseLevel } from './entities/course.entity';
import { LENGTHS, SORTS, type CatalogueSort, type LengthBand } from './catalogue.service';
import { PageNumber } from '../common/form-fields';

const emptyToUndefined = () => Transform(({ value }) => (value === '' ? undefined : value));

/** The catalogue's search, filters, sort and page: the same for /courses and GET /api/v1/courses. */
export class CatalogueQueryDto {
  @ApiPropertyOptional({ description: 'Words to find in the title or summary (all must match)', maxLength: 100 })
  @emptyToUndefined()
  @IsOptional()
  @IsString()
  @MaxLength(100, { message: 'Search for at most 100 characters' })
  q?: string;

  @ApiPropertyOptional({ description: 'Topic slug', example: 'clinical-safety' })
  @emptyToUndefined()
  @IsOptional()
  @Matches(/^[a-z0-9-]{1,80}$/, { message: 'topic must be a topic slug, like clinical-safety' })
  topic?: string;

  @ApiPropertyOptional({ enum: COURSE_LEVELS })
  @emptyToUndefined()
  @IsOptional()
  @IsIn(COURSE_LEVELS, { message: `level must be one of ${COURSE_LEVELS.join(', ')}` })
  level?: CourseLevel;

  @ApiPropertyOptional({ enum: Object.keys(LENGTHS), description: 'short: up to 30 minutes; medium: 31 to 60; long: over 60' })
  @emptyToUndefined()
  @IsOptional()
  @IsIn(Object.keys(LENGTHS), { message: `length must be one of ${Object.keys(LENGTHS).join(', ')}` })
  length?: LengthBand;

  @ApiPropertyOptional({ enum: SORTS, default: 'newest' })
  @emptyToUndefined()
  @IsOptional()
  @IsIn(SORTS, { message: `sort must be one of ${SORTS.join(', ')}` })
  sort?: CatalogueSort;

  @PageNumber()
  page?: number;
}

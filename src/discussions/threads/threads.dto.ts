import { IsOptional, IsString } from 'class-validator';
import { markdownText, PageNumber, trimmed } from '../../common/form-fields';

/**
 * The forms of the thread pages. They only make sure each field arrived as text (line breaks as LF, Markdown kept as
 * written); ThreadsService checks what the text must be, with the same messages for the pages and the API.
 */
/** A post's text: every form that writes one. */
class PostBodyDto {
  @markdownText()
  @IsOptional()
  @IsString({ message: 'Enter your message as text' })
  body?: string;
}

/** Changing a post: its text, and the thread's title when it is the opening post. */
export class EditFormDto extends PostBodyDto {
  @trimmed()
  @IsOptional()
  @IsString({ message: 'Enter the title as text' })
  title?: string;
}

export class ThreadFormDto extends EditFormDto {
  @IsOptional()
  @IsString({ message: 'Choose whether you are starting a discussion or asking a question' })
  kind?: string;
}

export class ReplyFormDto extends PostBodyDto {
  @trimmed()
  @IsOptional()
  @IsString({ message: 'You can only quote a post that is shown in this thread' })
  quotedPostId?: string;
}

/** ?page=, the banner after an action (?notice=), and on a thread the post to quote (?quote=). */
export class ThreadPageQueryDto {
  @PageNumber()
  page?: number;

  @IsOptional()
  @IsString()
  notice?: string;

  @IsOptional()
  @IsString()
  quote?: string;
}

export class ConductFormDto {
  @IsOptional()
  @IsString()
  returnTo?: string;

  @IsOptional()
  @IsString()
  accept?: string;
}

import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** Line breaks as LF: a browser sends a textarea's as CRLF (and a lone CR as CRLF), API clients send either. */
export const lf = (text: string) => text.replace(/\r\n?/g, '\n');

/**
 * Form fields arrive as strings: trimmed here, line breaks as LF (a textarea's reason or question, say); a
 * repeated field (an array) is not a string and fails.
 * class-validator lists a field's failures from the decorator nearest the property up, and the form shows
 * the first: so the type check (IsInt) sits nearest, and "must be a whole number" wins over "at most 600".
 */
export const trimmed = () => Transform(({ value }) => (typeof value === 'string' ? lf(value).trim() : value));
/**
 * Markdown is stored exactly as its author wrote it, so that the form shows it again byte for byte and saving it
 * unchanged stores the same bytes. Only line endings are normalised (browsers send a textarea's line breaks as
 * CRLF), and text that is nothing but whitespace counts as empty. Nothing is trimmed: leading spaces can make
 * the first line a code block, two trailing spaces a line break, and text stored some other way (an import)
 * may start with a blank line; trimming would change those on the first save.
 */
export const markdownText = () =>
  Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    const text = lf(value);
    return text.trim() === '' ? '' : text;
  });
/** A whole number typed into a form; anything else stays as typed so IsInt refuses it with its message. */
export const wholeNumber = () =>
  Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    const text = value.trim();
    if (text === '') return undefined;
    return /^\d{1,9}$/.test(text) ? Number(text) : text;
  });
export const emptyToUndefined = () => Transform(({ value }) => (typeof value === 'string' && value.trim() === '' ? undefined : typeof value === 'string' ? lf(value).trim() : value));

/** The `page` of a paged list (1 to 10,000; empty means the first), for every list's query DTO. */
export const PageNumber = () =>
  applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: 10_000, default: 1 }),
    wholeNumber(),
    IsOptional(),
    IsInt({ message: 'page must be a whole number' }),
    Min(1, { message: 'page must be 1 or more' }),
    Max(10_000, { message: 'page must be 10,000 or less' }),
  );

import { Transform } from 'class-transformer';

/**
 * Form fields arrive as strings: trimmed here; a repeated field (an array) is not a string and fails.
 * class-validator lists a field's failures from the decorator nearest the property up, and the form shows
 * the first: so the type check (IsInt) sits nearest, and "must be a whole number" wins over "at most 600".
 */
export const trimmed = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));
/** Markdown keeps its inner whitespace; only line endings are normalised and the ends trimmed. */
export const markdownText = () => Transform(({ value }) => (typeof value === 'string' ? value.replace(/\r\n?/g, '\n').trim() : value));
/** A whole number typed into a form; anything else stays as typed so IsInt refuses it with its message. */
export const wholeNumber = () =>
  Transform(({ value }) => {
    if (typeof value !== 'string') return value;
    const text = value.trim();
    if (text === '') return undefined;
    return /^\d{1,9}$/.test(text) ? Number(text) : text;
  });
export const emptyToUndefined = () => Transform(({ value }) => (typeof value === 'string' && value.trim() === '' ? undefined : typeof value === 'string' ? value.trim() : value));


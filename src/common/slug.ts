/** A URL slug from a title: lower-case ASCII letters and digits joined by hyphens, at most `max` long. */
export const slugify = (text: string, max: number) =>
  text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { NHSUK_DIR } from './paths';

export const NHSUK_STYLESHEET_PATH = '/assets/academy/nhsuk-frontend.css';

/**
 * nhsuk-frontend's compiled CSS, made self-hosted: its @font-face rules fetch Frutiger from assets.nhs.uk
 * (a CDN, licensed to NHS services, and blocked by our CSP), so they are dropped and the design system's own
 * fallback (Arial) is used; its image URLs are pointed at the copy of its assets this server serves.
 */
export function selfHostedNhsukCss(): string {
  return readFileSync(join(NHSUK_DIR, 'nhsuk-frontend.min.css'), 'utf8')
    .replace(/@font-face\{[^}]*\}/g, '')
    .replace(/url\(\/assets\/images\//g, 'url(/assets/nhsuk/assets/images/')
    .replace(/\/\*# sourceMappingURL=.*?\*\//g, '');
}

export function serveNhsukStylesheet(fastify: FastifyInstance): void {
  const css = selfHostedNhsukCss();
  const etag = `"${createHash('sha256').update(css).digest('base64url').slice(0, 16)}"`;
  fastify.get(NHSUK_STYLESHEET_PATH, async (request, reply) => {
    if (request.headers['if-none-match'] === etag) return reply.status(304).send();
    return reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=86400').header('etag', etag).send(css);
  });
}

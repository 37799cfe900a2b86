import type { IncomingMessage, ServerResponse } from 'node:http';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import { AppConfig } from '../config/config';

/**
 * The security headers, chosen with helmet: a strict CSP (no inline script or style, no framing, forms
 * post only here), HSTS on HTTPS, and helmet's other defaults. The policy has no per-request part, so helmet
 * runs once at start and every response gets the same precomputed headers: far cheaper than per request.
 */
export function securityHeaders(config: AppConfig): Record<string, string> {
  const middleware = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        mediaSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(config.session.cookieSecure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: config.session.cookieSecure ? { maxAge: 31536000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
    xFrameOptions: { action: 'deny' },
  });
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
    getHeader: (name: string) => headers[name.toLowerCase()],
  };
  let failure: unknown;
  middleware({} as IncomingMessage, response as unknown as ServerResponse, (err?: unknown) => (failure = err));
  if (failure) throw failure;
  return headers;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by ReadableCrossOrigin. */
    readableCrossOrigin?: boolean;
  }
}

/**
 * Marks a public GET route whose answer any site may read and embed (Open Badges documents and images, the
 * verification JSON): `Access-Control-Allow-Origin: *` and `Cross-Origin-Resource-Policy: cross-origin` instead of
 * helmet's `same-origin`, on its errors too, and an OPTIONS preflight. Such an answer must be the same for
 * everyone: `*` never lets a browser send cookies with the request, so it cannot carry anyone's data.
 */
export const ReadableCrossOrigin = () => RouteConfig({ readableCrossOrigin: true });

/** Request headers a preflight may name (field names only); others are left out of the answer, so refused. */
const HEADER_LIST = /^[\w-]+(\s*,\s*[\w-]+)*$/;

function answerPreflight(request: FastifyRequest, reply: FastifyReply): void {
  const asked = request.headers['access-control-request-headers'];
  reply.header('access-control-allow-methods', 'GET, HEAD, OPTIONS').header('access-control-max-age', '86400').header('vary', 'Access-Control-Request-Headers');
  if (typeof asked === 'string' && HEADER_LIST.test(asked.trim())) reply.header('access-control-allow-headers', asked.trim());
  reply.status(204).send();
}

export function applySecurityHeaders(fastify: FastifyInstance, config: AppConfig): void {
  const headers = securityHeaders(config);
  // Swagger UI, our only third-party page, needs inline styles; scripts stay 'self' there too.
  const docsHeaders = { ...headers, 'content-security-policy': headers['content-security-policy'].replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") };
  const crossOriginHeaders = { ...headers, 'cross-origin-resource-policy': 'cross-origin', 'access-control-allow-origin': '*', 'access-control-expose-headers': 'Retry-After' };
  // Each route marked ReadableCrossOrigin gets its preflight route, marked too (so it has the same headers).
  fastify.addHook('onRoute', (route) => {
    if (route.method === 'GET' && route.config?.readableCrossOrigin) {
      fastify.route({ method: 'OPTIONS', url: route.url, config: { readableCrossOrigin: true }, handler: answerPreflight });
    }
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.headers(request.url.startsWith('/api/docs') ? docsHeaders : request.routeOptions.config?.readableCrossOrigin ? crossOriginHeaders : headers);
    done();
  });
  preventCachingOfPersonalAnswers(fastify);
}

/**
 * Whatever is served to a signed-in person (pages, API answers, redirects, errors) is theirs: `Cache-Control:
 * no-store`, so neither a shared cache nor the browser's history keeps it for the next person at a shared
 * computer. An answer that chose its own caching keeps it (the NHS.UK stylesheet is public; course media is
 * `private, max-age`). Static files are served before anyone is identified, so they are never touched.
 */
function preventCachingOfPersonalAnswers(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (request.identity && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    done(null, payload);
  });
}

import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';

/** The deepest JSON body any endpoint accepts: the API's deepest real body is a few levels. */
export const MAX_JSON_DEPTH = 32;
export const JSON_TOO_DEEP_MESSAGE = 'The request body is nested too deeply';

const QUOTE = 34; // "
const BACKSLASH = 92; // \
const OPEN_ARRAY = 91; // [
const OPEN_OBJECT = 123; // {
const CLOSE_ARRAY = 93; // ]
const CLOSE_OBJECT = 125; // }

/**
 * True when `text`, read as JSON, opens more than `max` arrays or objects inside each other. One pass, no
 * allocation: brackets inside strings (escaped quotes included) do not count. It does not validate: malformed
 * text is left to JSON.parse, which says so.
 */
export function jsonNestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Skip the string: to the next quote that is not escaped.
      for (i++; i < length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

class JsonTooDeep extends Error {
  readonly statusCode = 400;
  readonly code = 'ACADEMY_JSON_TOO_DEEP';
  constructor() {
    super(JSON_TOO_DEEP_MESSAGE);
  }
}

/**
 * The JSON body parser: bodies nested deeper than MAX_JSON_DEPTH are refused with a 400 before they are parsed,
 * since JSON.parse and then validation of hundreds of thousands of nested arrays cost seconds of CPU, during
 * which the process answers nobody. An empty body is read as `{}`: many HTTP clients send
 * `content-type: application/json` on every call, with no body on those that need none (completing a lesson,
 * cancelling a registration), and such a call means "nothing to add", not malformed JSON. The rest is Fastify's
 * own parser (__proto__ and constructor.prototype keys refused). Registered through Nest, which then adds no
 * JSON parser of its own.
 */
export function installJsonBodyParser(app: NestFastifyApplication, bodyLimit: number, maxDepth = MAX_JSON_DEPTH): void {
  const parse = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
  app.useBodyParser('application/json', { bodyLimit }, (request, body, done) => {
    if (body.length === 0) return done(null, {});
    const text = body.toString('utf8');
    if (jsonNestedDeeperThan(text, maxDepth)) return done(new JsonTooDeep(), undefined);
    parse(request as FastifyRequest, text, done);
  });
}

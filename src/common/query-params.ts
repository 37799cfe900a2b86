import type { FastifyInstance } from 'fastify';
import { sendError } from './error-responses';
import { ValidationFailed } from './errors';

/** The first query parameter given more than once (`?code=a&code=b`), or null. */
export function repeatedQueryParameter(query: unknown): string | null {
  if (!query || typeof query !== 'object') return null;
  for (const name in query) if (Array.isArray((query as Record<string, unknown>)[name])) return name;
  return null;
}

/**
 * Every route takes each query parameter once: Fastify's query parser turns a repeated one into an array,
 * which no route expects (every filter is one value, chosen from a select), so it is refused here, for every
 * page and endpoint at once, with a 400 that names it — rather than reaching code that expects a string.
 * Runs after the onRequest hooks, so an error page still knows who is signed in.
 */
export function refuseRepeatedQueryParameters(fastify: FastifyInstance): void {
  fastify.addHook('preValidation', (request, reply, done) => {
    const name = repeatedQueryParameter(request.query);
    if (name === null) return done();
    const message = `The query parameter "${name}" was given more than once. Give it once.`;
    sendError(new ValidationFailed({ [name]: message }, message), request, reply).catch(done);
  });
}

import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isApiRequest } from '../accounts/identity';
import { isDatabaseUnavailable } from '../database/errors';
import { QueueUnavailableError } from '../jobs/job-registry';
import { isRedisUnavailable } from '../redis/errors';
import { CODE_BY_KIND, DomainError, ServiceUnavailable, STATUS_BY_KIND, TooManyRequests } from './errors';

interface ErrorAnswer {
  status: number;
  title: string;
  detail: string;
  /** Machine-readable and stable, for clients (see PROBLEM_CODES); `detail` is for people. */
  code: string;
  errors?: Record<string, string>;
  retryAfterSeconds?: number;
  /** For a 503: what could not be reached, for the log (never shown). */
  unavailable?: Dependency;
}

export type Dependency = 'database' | 'redis' | 'queue';

/** What a person is told when a dependency is down: it is not their fault, and it should pass. */
export const UNAVAILABLE_DETAIL = 'We cannot reach part of the service just now. Try again in a minute.';
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 60;

/**
 * Which dependency an error says is unavailable (the database, Redis, the job queue), or null if it is some other
 * error. Infrastructure errors are told apart here, once: services let them through, and every request that
 * meets one is answered 503 with Retry-After.
 */
export function unavailableDependency(error: unknown): Dependency | null {
  if (error instanceof QueueUnavailableError) return 'queue';
  if (isRedisUnavailable(error)) return 'redis';
  if (isDatabaseUnavailable(error)) return 'database';
  return null;
}

const TITLES: Record<number, string> = {
  400: 'There is a problem with your request',
  401: 'You need to sign in',
  403: 'You do not have permission to see this page',
  404: 'Page not found',
  405: 'That action is not allowed here',
  409: 'That could not be done',
  413: 'What you sent is too large',
  415: 'That kind of content is not accepted here',
  429: 'Too many attempts',
  500: 'Sorry, there is a problem with the service',
  503: 'Sorry, the service is unavailable',
};

/** The code of an error that has none of its own, by status. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  500: 'internal_error',
  503: 'unavailable',
};

/** Every `code` a problem body may carry, for the OpenAPI document: the kinds' own, the statuses', and the named cases. */
export const PROBLEM_CODES = [
  ...new Set([
    ...Object.values(CODE_BY_KIND),
    ...Object.values(CODE_BY_STATUS),
    'bad_json',
    'json_too_deep',
    'invalid_token',
    'not_enrolled',
  ]),
];

/** Fastify's own request errors, by their code: what the client sent could not be read as it says. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  ACADEMY_JSON_TOO_DEEP: 'json_too_deep',
};

const codeForStatus = (status: number) => CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'bad_request');

/** The realm of the API's bearer-token challenge (RFC 6750), in WWW-Authenticate on every 401 under /api. */
export const API_REALM = 'api';

const logger = new Logger('Errors');

/** Turns any thrown value into the status and words a person should see. Unknown errors are 500s, logged, never shown. */
export function describeError(error: unknown): ErrorAnswer {
  if (error instanceof DomainError) {
    const status = STATUS_BY_KIND[error.kind];
    return {
      status,
      title: TITLES[status],
      detail: error.message,
      code: error.code,
      errors: Object.keys(error.fieldErrors).length ? error.fieldErrors : undefined,
      retryAfterSeconds: error instanceof TooManyRequests ? error.retryAfterSeconds : error instanceof ServiceUnavailable ? UNAVAILABLE_RETRY_AFTER_SECONDS : undefined,
    };
  }
  const unavailable = unavailableDependency(error);
  if (unavailable) return { status: 503, title: TITLES[503], detail: UNAVAILABLE_DETAIL, code: 'unavailable', retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS, unavailable };
  // Fastify's own request errors (bad JSON, body too large, unsupported content type), which Nest hands on as an
  // HttpException caused by them (or as they are, when thrown by a parser of ours): a 4xx statusCode, a safe message.
  const request = requestErrorOf(error instanceof HttpException ? error.cause : error);
  if (request) return describeRequestError(request);
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const message = typeof response === 'object' && response && 'message' in response ? (response as { message: unknown }).message : error.message;
    const detail = status === 404 ? 'The page or item you asked for does not exist.' : Array.isArray(message) ? message.join('; ') : String(message);
    return { status, title: TITLES[status] ?? TITLES[400], detail, code: codeForStatus(status) };
  }
  return { status: 500, title: TITLES[500], detail: 'Something went wrong on our side. Please try again later.', code: 'internal_error' };
}

type RequestError = { statusCode: number; code?: string; message?: string };

function requestErrorOf(error: unknown): RequestError | null {
  const candidate = error as Partial<RequestError> | null | undefined;
  return candidate && typeof candidate.statusCode === 'number' && candidate.statusCode >= 400 && candidate.statusCode < 500 ? (candidate as RequestError) : null;
}

function describeRequestError(error: RequestError): ErrorAnswer {
  const status = error.statusCode;
  const badJson = error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || /JSON/.test(error.message ?? '');
  const detail = badJson ? 'The request body is not valid JSON.' : status === 404 ? 'The page or item you asked for does not exist.' : (error.message ?? TITLES[status] ?? TITLES[400]);
  const code = (error.code && FASTIFY_CODES[error.code]) ?? (badJson ? 'bad_json' : codeForStatus(status));
  return { status, title: TITLES[status] ?? TITLES[400], detail, code };
}

/** Paths whose answers are for programs: the API, and the Open Badges documents other sites fetch. */
const answersMachines = (url: string) => isApiRequest(url) || url.startsWith('/badges/');

/** Answers an error: JSON problem details (RFC 9457) under /api and /badges, a friendly page elsewhere. */
export async function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const answer = describeError(error);
  // An outage answers many requests 503: one line each, not a stack trace each.
  if (answer.unavailable) logger.warn(`${request.method} ${request.url} (${request.id}): 503, the ${answer.unavailable} is unavailable: ${error instanceof Error ? error.message : String(error)}`);
  else if (answer.status >= 500) logger.error(`${request.method} ${request.url} (${request.id}): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  if (reply.sent) return;
  if (answer.retryAfterSeconds) reply.header('Retry-After', String(answer.retryAfterSeconds));
  if (answersMachines(request.url)) {
    let code = answer.code;
    if (answer.status === 401) {
      // RFC 6750 section 3: every 401 names the scheme; a bearer token that was sent and not accepted is called invalid.
      const rejectedToken = !request.identity && /^bearer\s/i.test(request.headers.authorization ?? '');
      if (rejectedToken) code = 'invalid_token';
      reply.header(
        'WWW-Authenticate',
        rejectedToken ? `Bearer realm="${API_REALM}", error="invalid_token", error_description="The bearer token is not valid: it is unknown, expired or revoked"` : `Bearer realm="${API_REALM}"`,
      );
    }
    reply
      .status(answer.status)
      .type('application/problem+json')
      .send({ type: 'about:blank', title: answer.title, status: answer.status, detail: answer.detail, code, ...(answer.errors ? { errors: answer.errors } : {}), requestId: request.id });
    return;
  }
  if (answer.status === 401) {
    const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : '';
    reply.redirect(`/sign-in${next}`, 303);
    return;
  }
  try {
    await reply.status(answer.status).view('errors/error', { pageTitle: answer.title, title: answer.title, detail: answer.detail, status: answer.status, requestId: request.id });
  } catch (renderError) {
    logger.error(`Could not render the error page: ${String(renderError)}`);
    reply.status(answer.status).type('text/plain; charset=utf-8').send(`${answer.title}\n\n${answer.detail}\n`);
  }
}

@Catch()
export class ErrorResponsesFilter implements ExceptionFilter {
  async catch(error: unknown, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    await sendError(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}

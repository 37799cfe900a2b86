import { STATUS_CODES } from 'node:http';
import { applyDecorators, SetMetadata, type Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath, type HeadersObject, type OpenAPIObject, type OperationObject, type ResponseObject } from '@nestjs/swagger';
import { IS_PUBLIC, ROLES_ALLOWED } from '../accounts/identity';
import { PROBLEM_CODES, UNAVAILABLE_RETRY_AFTER_SECONDS } from './error-responses';

/** An RFC 9457 problem: every 4xx and 5xx answer under /api, as `application/problem+json`. */
export class Problem {
  @ApiProperty({ example: 'about:blank', description: 'Always about:blank: the status and `code` say what kind of problem it is' })
  type!: string;

  @ApiProperty({ example: 'Page not found', description: 'A short, fixed summary of the status, for people' })
  title!: string;

  @ApiProperty({ example: 404, minimum: 400, maximum: 599 })
  status!: number;

  @ApiProperty({ example: 'There is no lesson with that id', description: 'What went wrong and what to do, in words to show a person' })
  detail!: string;

  @ApiProperty({
    example: 'not_found',
    description: `What went wrong, for programs: stable, lower case with underscores; new codes may be added, none is renamed. Known codes: ${PROBLEM_CODES.map((c) => `\`${c}\``).join(', ')}. \`invalid_token\`: a bearer token was sent and is unknown, expired or revoked; \`not_enrolled\`: the caller must enrol on the course first; \`bad_json\`: the body is not JSON; \`validation_failed\`: see \`errors\`.`,
  })
  code!: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { courseId: 'courseId must be a whole number' },
    description: 'With `validation_failed`: what is wrong with each field, by field name',
  })
  errors?: Record<string, string>;

  @ApiProperty({ example: 'b6c1f0a4-3c2e-4d57-9a43-2f0d6c1e8a90', description: 'The request id (also the X-Request-Id header), for support' })
  requestId!: string;
}

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

const RETRY_AFTER: HeadersObject = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', example: UNAVAILABLE_RETRY_AFTER_SECONDS } },
};
const WWW_AUTHENTICATE: HeadersObject = {
  'WWW-Authenticate': {
    description: 'The bearer challenge (RFC 6750): `Bearer realm="api"`, with `error="invalid_token"` when the token sent was not accepted',
    schema: { type: 'string', example: 'Bearer realm="api", error="invalid_token"' },
  },
};

function problemResponse(status: number, description: string): ResponseObject {
  const headers = status === 401 ? WWW_AUTHENTICATE : status === 429 || status === 503 ? RETRY_AFTER : undefined;
  return { description, ...(headers ? { headers } : {}), content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: getSchemaPath(Problem) } } } };
}

/** Documents a problem answer of this operation: `@ApiProblem(404, 'No lesson has that id')`. */
export const ApiProblem = (status: number, description: string) => ApiResponse({ status, ...problemResponse(status, description) });

/** Several at once: `@ApiProblems({ 403: '…', 404: '…' })`. */
export const ApiProblems = (problems: Record<number, string>) => applyDecorators(...Object.entries(problems).map(([status, description]) => ApiProblem(Number(status), description)));

const OPTIONAL_BEARER = 'openapi:optional-bearer';

/** A public operation whose answer says more to a signed-in caller (drafts for their author, the caller's registration). */
export const ApiOptionalBearer = () => SetMetadata(OPTIONAL_BEARER, true);

/** The schema classes the document needs beside those the operations name. */
export const EXTRA_MODELS: Type[] = [Problem];

interface Access {
  isPublic: boolean;
  optionalBearer: boolean;
  roles: string[] | undefined;
}

/**
 * How each handler is guarded, by the operationId the document gives it (its own, or Nest's default
 * Controller_method): read from the same metadata the access guard reads, so the document cannot drift from it.
 */
function accessByOperationId(modules: ModulesContainer): Map<string, Access> {
  const result = new Map<string, Access>();
  for (const module of modules.values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller?.prototype) continue;
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = name === 'constructor' ? undefined : Object.getOwnPropertyDescriptor(controller.prototype, name)?.value;
        if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined) continue;
        const operationId: string = Reflect.getMetadata('swagger/apiOperation', handler)?.operationId ?? `${controller.name}_${name}`;
        const read = <T>(key: string): T | undefined => Reflect.getMetadata(key, handler) ?? Reflect.getMetadata(key, controller);
        result.set(operationId, { isPublic: !!read<boolean>(IS_PUBLIC), optionalBearer: !!read<boolean>(OPTIONAL_BEARER), roles: read<string[]>(ROLES_ALLOWED) });
      }
    }
  }
  return result;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;

/**
 * What every API operation has in common, added to the document once rather than on each handler: its
 * security (none, optional or the bearer token, as the access guard applies it), 401 with WWW-Authenticate on
 * guarded operations, 403 on role-restricted ones, 400 where a body or query is validated, and 503 with
 * Retry-After everywhere (a database, Redis or the job queue unavailable), and a description on every answer.
 * Problems an operation documents itself are kept.
 */
export function completeApiOperations(document: OpenAPIObject, modules: ModulesContainer, bearerScheme = 'bearer'): void {
  const access = accessByOperationId(modules);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as OperationObject | undefined;
      if (!operation) continue;
      const guard = operation.operationId ? access.get(operation.operationId) : undefined;
      if (!guard) throw new Error(`OpenAPI: no handler found for ${method.toUpperCase()} ${path} (operationId ${operation.operationId})`);
      const responses = operation.responses as Record<string, ResponseObject>;
      const add = (status: number, description: string) => {
        responses[status] ??= problemResponse(status, description);
      };
      if (guard.isPublic) {
        operation.security = guard.optionalBearer ? [{}, { [bearerScheme]: [] }] : [];
      } else {
        operation.security = [{ [bearerScheme]: [] }];
        add(401, 'No bearer token was sent, or the one sent is unknown, expired or revoked (`invalid_token`); see WWW-Authenticate');
        if (guard.roles) add(403, `Only ${[...guard.roles, 'admin'].join(', ')} accounts may do this`);
      }
      const validated = !!operation.requestBody || (operation.parameters ?? []).some((p) => 'in' in p && p.in === 'query');
      if (validated) add(400, 'The request is not valid: `validation_failed` with `errors` by field, or `bad_json` when the body is not JSON');
      add(503, 'Part of the service (the database, Redis or the job queue) cannot be reached just now: try again after Retry-After');
      // A response every client must read has words, even when its decorator gave none: the status's own.
      for (const [status, response] of Object.entries(responses)) response.description ||= STATUS_CODES[Number(status)] ?? status;
      // Keys in status order, so the document reads 2xx, then 4xx, then 5xx.
      operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
    }
  }
}

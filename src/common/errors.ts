/**
 * Domain errors: services throw these, never HTTP exceptions. The one exception filter maps each kind
 * to a status and renders an HTML page or a JSON problem.
 */
export type ErrorKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'too_many_requests' | 'unavailable';

export type FieldErrors = Record<string, string>;

/**
 * The machine-readable `code` of each kind, in API problem bodies beside the words for people (`detail`). A case
 * that a client may want to tell apart from the rest of its kind has a code of its own (`not_enrolled`, say),
 * given where it is thrown. Codes are public: add new ones, never rename one.
 */
export const CODE_BY_KIND: Record<ErrorKind, string> = {
  invalid: 'validation_failed',
  unauthenticated: 'unauthenticated',
  forbidden: 'forbidden',
  not_found: 'not_found',
  conflict: 'conflict',
  too_many_requests: 'rate_limited',
  unavailable: 'unavailable',
};

export class DomainError extends Error {
  /** The problem's `code`: this case's own, or its kind's. */
  readonly code: string;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly fieldErrors: FieldErrors = {},
    code?: string,
  ) {
    super(message);
    this.code = code ?? CODE_BY_KIND[kind];
  }
}

export class ValidationFailed extends DomainError {
  constructor(fieldErrors: FieldErrors, message = 'Some of the information you gave is not valid') {
    super('invalid', message, fieldErrors);
  }
}

export class NotFound extends DomainError {
  constructor(message = 'The page or item you asked for does not exist', code?: string) {
    super('not_found', message, {}, code);
  }
}

export class Forbidden extends DomainError {
  constructor(message = 'You do not have permission to do that', code?: string) {
    super('forbidden', message, {}, code);
  }
}

export class Unauthenticated extends DomainError {
  constructor(message = 'You need to sign in first', code?: string) {
    super('unauthenticated', message, {}, code);
  }
}

export class Conflict extends DomainError {
  constructor(message: string, fieldErrors: FieldErrors = {}, code?: string) {
    super('conflict', message, fieldErrors, code);
  }
}

export class TooManyRequests extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('too_many_requests', `Too many attempts. Wait ${Math.ceil(retryAfterSeconds / 60)} minute(s) and try again.`);
  }
}

export class ServiceUnavailable extends DomainError {
  constructor(message = 'This service is not available right now. Try again in a few minutes.') {
    super('unavailable', message);
  }
}

export const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_many_requests: 429,
  unavailable: 503,
};

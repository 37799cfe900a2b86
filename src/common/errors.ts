/**
 * Domain errors: services throw these, never HTTP exceptions. The one exception filter maps each kind
 * to a status and renders an HTML page or a JSON problem.
 */
export type ErrorKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'too_many_requests' | 'unavailable';

export type FieldErrors = Record<string, string>;

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    readonly fieldErrors: FieldErrors = {},
  ) {
    super(message);
  }
}

export class ValidationFailed extends DomainError {
  constructor(fieldErrors: FieldErrors, message = 'Some of the information you gave is not valid') {
    super('invalid', message, fieldErrors);
  }
}

export class NotFound extends DomainError {
  constructor(message = 'The page or item you asked for does not exist') {
    super('not_found', message);
  }
}

export class Forbidden extends DomainError {
  constructor(message = 'You do not have permission to do that') {
    super('forbidden', message);
  }
}

export class Unauthenticated extends DomainError {
  constructor(message = 'You need to sign in first') {
    super('unauthenticated', message);
  }
}

export class Conflict extends DomainError {
  constructor(message: string, fieldErrors: FieldErrors = {}) {
    super('conflict', message, fieldErrors);
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

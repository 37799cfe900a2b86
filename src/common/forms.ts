import { plainToInstance } from 'class-transformer';
import { validate, ValidationError } from 'class-validator';
import { DomainError, FieldErrors, ValidationFailed } from './errors';

type Constructor<T> = new () => T;

/** The first message of each invalid field, keyed by field name (nested fields joined with dots). */
export function fieldErrorsOf(errors: ValidationError[], parent = ''): FieldErrors {
  const result: FieldErrors = {};
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const messages = Object.values(error.constraints ?? {});
    if (messages.length) result[field] = error.constraints?.whitelistValidation ? `${field} is not a field this form accepts` : messages[0];
    Object.assign(result, fieldErrorsOf(error.children ?? [], field));
  }
  return result;
}

/**
 * Validates a submitted form against a DTO class. Unknown fields (the CSRF token among them) are dropped,
 * not refused, because browsers send what the page has. Throws ValidationFailed with errors keyed by field.
 */
export async function parseForm<T extends object>(dto: Constructor<T>, body: unknown): Promise<T> {
  const raw = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const instance = plainToInstance(dto, raw);
  const errors = await validate(instance, { whitelist: true, forbidUnknownValues: true });
  if (errors.length) throw new ValidationFailed(fieldErrorsOf(errors));
  return instance;
}

/** The view model of the NHS error summary and inline messages. */
export function errorView(fieldErrors: FieldErrors, order: string[] = Object.keys(fieldErrors)) {
  const fields = [...order.filter((f) => fieldErrors[f]), ...Object.keys(fieldErrors).filter((f) => !order.includes(f))];
  return { errors: fieldErrors, errorList: fields.map((field) => ({ href: `#${field}`, text: fieldErrors[field] })) };
}

/** The field errors of a refused form (invalid, or a conflict naming fields), to show on it; anything else is rethrown. */
export function formErrors(err: unknown): FieldErrors {
  if (err instanceof DomainError && (err.kind === 'invalid' || err.kind === 'conflict') && Object.keys(err.fieldErrors).length) return err.fieldErrors;
  throw err;
}

import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { Forbidden, Unauthenticated } from '../common/errors';
import { isMultipart, readMultipartHead } from '../common/multipart';
import { csrfTokenMatches } from './csrf';
import { isApiRequest, IS_PUBLIC, ROLES_ALLOWED } from './identity';
import { IdentityResolver } from './identity.resolver';
import type { Role } from './roles';

/**
 * Every route needs a signed-in user unless it is @Public(); @Roles(...) narrows it further (admins pass all).
 * A route that forgets its decorators is closed, not open.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const user = request.identity?.user;
    if (!user) throw new Unauthenticated(isApiRequest(request.url) ? 'Send a valid bearer token (POST /api/v1/auth/token) or sign in' : undefined);
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_ALLOWED, targets);
    if (roles && user.role !== 'admin' && !roles.includes(user.role)) throw new Forbidden();
    return true;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF check on every state-changing request that a browser could send with ambient credentials: all
 * forms, and API calls made with the session cookie. Bearer-token API calls carry no ambient credential.
 * A multipart form (a file upload) carries the token as a field before the file: its head is read here,
 * the file left unread for the route (see common/multipart.ts).
 */
@Injectable()
export class CsrfGuard implements CanActivate {
  constructor(private readonly identity: IdentityResolver) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (SAFE_METHODS.has(request.method)) return true;
    if (request.identity?.via === 'token') return true;
    if (isApiRequest(request.url) && request.identity?.via !== 'session') return true;
    const given = request.headers['x-csrf-token'] ?? (request.body as Record<string, unknown> | undefined)?._csrf;
    if (given === undefined && isMultipart(request)) return readMultipartHead(request).then((head) => this.check(request, head.fields._csrf));
    return this.check(request, given);
  }

  private check(request: FastifyRequest, given: unknown): boolean {
    const expected = this.identity.expectedCsrfToken(request);
    if (!expected || !csrfTokenMatches(given, expected)) {
      throw new Forbidden('This form has expired or did not come from this site. Go back, reload the page and try again.');
    }
    return true;
  }
}

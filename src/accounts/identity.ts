import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Role } from './roles';

/** The signed-in person as every page and endpoint sees them. */
export interface CurrentUser {
  id: number;
  email: string;
  name: string;
  role: Role;
  jobRole: string;
  organisationId: number | null;
  organisationName: string | null;
  /** Whether they opened the link sent to their address; until then they belong to no organisation. */
  emailVerified: boolean;
}

export interface Identity {
  user: CurrentUser;
  via: 'session' | 'token';
  /** The raw session cookie value, when signed in through the browser. */
  sessionToken?: string;
  /** The API token's id, when signed in with a bearer token. */
  apiTokenId?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity | null;
    /** This request's expected CSRF token, once worked out (see IdentityResolver). */
    csrfToken?: string;
  }
}

export const IS_PUBLIC = 'accounts:public';
export const ROLES_ALLOWED = 'accounts:roles';

/** Anyone may open this route, signed in or not. Every other route needs a signed-in user. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Only these roles may open this route (admins always may). */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_ALLOWED, roles);

/** The signed-in user; only on routes that are not @Public(), where the access guard guarantees one. */
export const SignedInUser = createParamDecorator((_: unknown, ctx: ExecutionContext): CurrentUser => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  if (!request.identity) throw new Error('SignedInUser used on a route without a signed-in user');
  return request.identity.user;
});

export const isApiRequest = (url: string) => url.startsWith('/api/');

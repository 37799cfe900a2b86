import { Injectable } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { sendError } from '../common/error-responses';
import { AccountsService } from './accounts.service';
import { csrfTokenFor, newCsrfSecret } from './csrf';
import type { CurrentUser } from './identity';
import { navigationFor } from './navigation';

const STATIC_PREFIXES = ['/assets/', '/public/', '/favicon.ico'];
/** Needs no identity, and must answer for itself when a store is down. */
const isHealthCheck = (url: string) => url === '/health' || url.startsWith('/health?') || url.startsWith('/health/');

/**
 * Works out who is asking, once per request and before any route runs: a bearer token, or a session cookie.
 * Also gives every visitor a CSRF secret and fills the page locals (user, navigation, CSRF token).
 */
@Injectable()
export class IdentityResolver {
  readonly sessionCookie: string;
  readonly csrfCookie: string;
  /** Names a browser that has signed in to an account before (see sign-in-protection.ts). */
  readonly deviceCookie: string;

  constructor(
    private readonly accounts: AccountsService,
    @InjectConfig() private readonly config: AppConfig,
  ) {
    // __Host- cookies are only accepted over HTTPS, bound to this host and path /.
    const prefix = config.session.cookieSecure ? '__Host-' : '';
    this.sessionCookie = `${prefix}academy_session`;
    this.csrfCookie = `${prefix}academy_csrf`;
    this.deviceCookie = `${prefix}academy_device`;
  }

  install(fastify: FastifyInstance): void {
    // Callback style, not async: most requests (no cookie, no token) finish synchronously, which is measurably cheaper.
    fastify.addHook('onRequest', (request, reply, done) => {
      request.identity = null;
      request.csrfToken = undefined;
      reply.locals = {};
      if (STATIC_PREFIXES.some((p) => request.url.startsWith(p)) || isHealthCheck(request.url)) return done();
      const finish = () => {
        this.setLocals(request, reply);
        done();
      };
      if (!request.headers.authorization && !request.cookies[this.sessionCookie]) return finish();
      this.resolve(request, reply).then(finish, (err: unknown) => {
        // Who is asking could not be worked out (the database or the session store is down). Going on as anonymous
        // would answer a valid token 401 and send browsers to sign in again, so the request is answered here, with
        // the app's own error answer (503 and Retry-After for an outage): Nest's exception filter never sees hooks.
        this.setLocals(request, reply);
        sendError(err, request, reply).catch(done);
      });
    });
  }

  /** Signs the browser in: a new session id and a new CSRF secret, never the ones it had before. */
  setSession(reply: FastifyReply, request: FastifyRequest, token: string): void {
    reply.setCookie(this.sessionCookie, token, this.cookieOptions(this.config.session.ttlHours * 3600));
    this.rotateCsrf(request, reply);
  }

  clearSession(reply: FastifyReply, request: FastifyRequest): void {
    reply.clearCookie(this.sessionCookie, this.cookieOptions());
    request.identity = null;
    this.rotateCsrf(request, reply);
  }

  /** The bearer token's or session's holder. A lookup that fails (a store unavailable) throws: it is not "nobody". */
  private async resolve(request: FastifyRequest, reply: FastifyReply) {
    const authorization = request.headers.authorization;
    if (authorization?.toLowerCase().startsWith('bearer ')) {
      const found = await this.accounts.userForApiToken(authorization.slice(7).trim());
      if (found) request.identity = { user: found.user, via: 'token', apiTokenId: found.tokenId };
      return;
    }
    const token = request.cookies[this.sessionCookie];
    if (!token) return;
    const user = await this.accounts.userForSession(token);
    if (user) request.identity = { user, via: 'session', sessionToken: token };
    else reply.clearCookie(this.sessionCookie, this.cookieOptions());
  }

  /** The token a state-changing request from this browser must carry, or null if it has no CSRF cookie. */
  expectedCsrfToken(request: FastifyRequest): string | null {
    if (request.csrfToken) return request.csrfToken;
    const secret = request.cookies[this.csrfCookie];
    if (!secret || !/^[\w-]{32}$/.test(secret)) return null;
    request.csrfToken = csrfTokenFor(secret, this.config.session.secret);
    return request.csrfToken;
  }

  /**
   * The token for a form on the page being rendered. Pages ask for it only when they hold a form, so a
   * visitor gets a CSRF cookie on the first page that needs one, not on every request.
   */
  private csrfTokenForPage(request: FastifyRequest, reply: FastifyReply): string {
    return this.expectedCsrfToken(request) ?? this.rotateCsrf(request, reply);
  }

  private rotateCsrf(request: FastifyRequest, reply: FastifyReply): string {
    const secret = newCsrfSecret();
    reply.setCookie(this.csrfCookie, secret, { ...this.cookieOptions(), sameSite: 'strict' });
    request.csrfToken = csrfTokenFor(secret, this.config.session.secret);
    return request.csrfToken;
  }

  private setLocals(request: FastifyRequest, reply: FastifyReply) {
    const user: CurrentUser | null = request.identity?.user ?? null;
    // A function: Handlebars calls it where a template writes {{csrfToken}}, and only there.
    const csrfToken = () => this.csrfTokenForPage(request, reply);
    Object.assign(reply.locals!, { currentUser: user, csrfToken, navigation: navigationFor(user, request.url) });
  }

  cookieOptions(maxAgeSeconds?: number) {
    return { path: '/', httpOnly: true, secure: this.config.session.cookieSecure, sameSite: 'lax' as const, ...(maxAgeSeconds ? { maxAge: maxAgeSeconds } : {}) };
  }
}

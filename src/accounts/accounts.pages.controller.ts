import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, FieldErrors } from '../common/errors';
import { errorView, parseForm } from '../common/forms';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { ChangePasswordDto, ForgotPasswordDto, PASSWORD_MIN, ResetPasswordDto, SignInDto, SignUpDto, UpdateDetailsDto } from './accounts.dto';
import { AccountsService } from './accounts.service';
import { OrganisationJoining, type OrganisationPickerInput } from '../common/organisation-joining';
import { EmailVerification } from './email-verification';
import { Public, SignedInUser, type CurrentUser } from './identity';
import { IdentityResolver } from './identity.resolver';
import { RateLimiter } from './rate-limiter';
import { SignInProtection } from './sign-in-protection';
import { ROLE_LABELS } from './roles';

export const SIGN_IN_FAILED = 'The e-mail address or password is not correct';

/** Where signing in (or up) leads when the visitor was not on their way somewhere: their courses, not their account settings. */
export const AFTER_SIGN_IN = '/my-learning';

/**
 * Only paths on this site: "/x" but not "//evil.example", "/\evil.example" (browsers read both as another host),
 * "https://evil.example" or anything with spaces or control characters; anything else is the fallback.
 */
export const safeNext = (next: unknown, fallback = AFTER_SIGN_IN) => (typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) ? next : fallback);

/** The `?next=` to carry between the sign-in and sign-up pages. */
const nextQuery = (next: string) => (next ? `?next=${encodeURIComponent(next)}` : '');

const FLASH: Record<string, string> = {
  'signed-out': 'You have signed out.',
  'signed-out-everywhere': 'You have been signed out on every device. Sign in again to continue.',
  'password-reset': 'Your password has been changed. Sign in with your new password.',
  'password-changed': 'Your password has been changed. You have been signed out on your other devices.',
  'details-saved': 'Your details have been saved.',
  'verification-sent': 'We have sent you a new link. Open it to verify your e-mail address.',
  'already-verified': 'Your e-mail address is already verified.',
};

const DETAILS_FIELDS = ['name', 'jobRole'];
const SIGN_UP_FIELDS = ['name', 'email', 'password', 'organisation', 'organisationChoice', 'organisationType', 'organisationRegion', 'jobRole'];

/** The organisation picker's fields of a submitted form. */
const pickerInput = (body: Record<string, string> | undefined, organisation: string): OrganisationPickerInput => ({
  organisation,
  organisationChoice: body?.organisationChoice,
  organisationMatched: body?.organisationMatched,
  organisationType: body?.organisationType,
  organisationRegion: body?.organisationRegion,
});

/** Turns a refused form into its field errors; anything else is rethrown to the error pages. */
function formErrors(err: unknown): FieldErrors {
  if (err instanceof DomainError && (err.kind === 'invalid' || err.kind === 'conflict') && Object.keys(err.fieldErrors).length) return err.fieldErrors;
  throw err;
}

@ApiExcludeController()
@Controller()
export class AccountsPagesController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly identity: IdentityResolver,
    private readonly limiter: RateLimiter,
    private readonly protection: SignInProtection,
    private readonly joining: OrganisationJoining,
    private readonly verification: EmailVerification,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Public()
  @Get('sign-up')
  signUpPage(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query('next') next?: string) {
    if (request.identity) return reply.redirect(safeNext(next), 303);
    const safe = safeNext(next, '');
    return reply.view('accounts/sign-up', { pageTitle: 'Create an account', values: {}, next: safe, nextQuery: nextQuery(safe), passwordMin: PASSWORD_MIN });
  }

  @Public()
  @Post('sign-up')
  async signUp(@Body() body: Record<string, string>, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const next = safeNext(body?.next, '');
    try {
      await this.limiter.hit(`signup:ip:${request.ip}`, this.config.authRateLimit.perIp, this.config.authRateLimit.windowSeconds);
      const input = await parseForm(SignUpDto, body);
      await this.accounts.assertCanRegister(input);
      const step = await this.joining.resolve(pickerInput(body, input.organisation));
      if (step.kind === 'choose') {
        // Only the organisation is left to settle: the form comes back as it was sent, the password too (the page is
        // not stored: no-store), so nothing has to be typed again.
        const refused = Object.keys(step.errors).length > 0;
        return reply
          .status(refused ? 400 : 200)
          .header('cache-control', 'no-store')
          .view('accounts/sign-up', {
            pageTitle: `${refused ? 'Error: ' : ''}Create an account`,
            values: { name: input.name, email: input.email, password: input.password, organisation: step.picker.text, jobRole: input.jobRole },
            picker: step.picker,
            next,
            nextQuery: nextQuery(next),
            passwordMin: PASSWORD_MIN,
            ...errorView(step.errors, SIGN_UP_FIELDS),
          });
      }
      const user = await this.accounts.register({ ...input, organisation: step.pick });
      await this.verification.send(user.id);
      await this.startSession(request, reply, user);
      return reply.redirect(next || AFTER_SIGN_IN, 303);
    } catch (err) {
      const values = { name: body?.name, email: body?.email, organisation: body?.organisation, jobRole: body?.jobRole };
      return reply.status(400).view('accounts/sign-up', {
        pageTitle: 'Error: Create an account',
        values,
        next,
        nextQuery: nextQuery(next),
        passwordMin: PASSWORD_MIN,
        ...errorView(formErrors(err), SIGN_UP_FIELDS),
      });
    }
  }

  @Public()
  @Get('sign-in')
  signInPage(@Req() request: FastifyRequest, @Res() reply: FastifyReply, @Query('next') next?: string, @Query('notice') notice?: string) {
    if (request.identity) return reply.redirect(safeNext(next), 303);
    const safe = safeNext(next, '');
    return reply.view('accounts/sign-in', { pageTitle: 'Sign in', values: {}, next: safe, nextQuery: nextQuery(safe), notice: notice ? FLASH[notice] : undefined });
  }

  @Public()
  @Post('sign-in')
  async signIn(@Body() body: Record<string, string>, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    // Kept through a refused attempt, so the visitor still lands where they were going.
    const next = safeNext(body?.next, '');
    const again = { next, nextQuery: nextQuery(next) };
    try {
      await this.limiter.hit(`signin:ip:${request.ip}`, this.config.authRateLimit.perIp, this.config.authRateLimit.windowSeconds);
      const input = await parseForm(SignInDto, body);
      const user = await this.protection.authenticate(input.email, input.password, this.protection.deviceCookieOf(request));
      if (!user) return reply.status(400).view('accounts/sign-in', { pageTitle: 'Error: Sign in', values: { email: input.email }, ...again, ...errorView({ email: SIGN_IN_FAILED }) });
      await this.startSession(request, reply, user);
      return reply.redirect(next || AFTER_SIGN_IN, 303);
    } catch (err) {
      return reply.status(400).view('accounts/sign-in', { pageTitle: 'Error: Sign in', values: { email: body?.email }, ...again, ...errorView(formErrors(err), ['email', 'password']) });
    }
  }

  @Public()
  @Post('sign-out')
  async signOut(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (request.identity?.sessionToken) await this.accounts.endSession(request.identity.sessionToken);
    this.identity.clearSession(reply, request);
    return reply.redirect('/sign-in?notice=signed-out', 303);
  }

  @Get('account')
  accountPage(@SignedInUser() user: CurrentUser, @Res() reply: FastifyReply, @Query('notice') notice?: string) {
    return reply.view('accounts/account', this.accountView(user, { notice: notice ? FLASH[notice] : undefined }));
  }

  @Post('account/details')
  async updateDetails(@SignedInUser() user: CurrentUser, @Body() body: Record<string, string>, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(UpdateDetailsDto, body);
      await this.accounts.updateDetails(user.id, input);
      return reply.redirect('/account?notice=details-saved', 303);
    } catch (err) {
      const values = { name: body?.name, jobRole: body?.jobRole };
      return reply.status(400).view('accounts/account', this.accountView(user, { pageTitle: 'Error: Your account', values, ...errorView(formErrors(err), DETAILS_FIELDS) }));
    }
  }

  @Post('account/password')
  async changePassword(@SignedInUser() user: CurrentUser, @Body() body: Record<string, string>, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(ChangePasswordDto, body);
      await this.accounts.changePassword(user.id, input.currentPassword, input.newPassword, request.identity?.sessionToken);
      return reply.redirect('/account?notice=password-changed', 303);
    } catch (err) {
      return reply.status(400).view('accounts/account', this.accountView(user, { pageTitle: 'Error: Your account', ...errorView(formErrors(err), ['currentPassword', 'newPassword']) }));
    }
  }

  @Post('account/sign-out-everywhere')
  async signOutEverywhere(@SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    await this.accounts.signOutEverywhere(user.id);
    this.identity.clearSession(reply, request);
    return reply.redirect('/sign-in?notice=signed-out-everywhere', 303);
  }

  @Public()
  @Get('forgot-password')
  forgotPasswordPage(@Res() reply: FastifyReply) {
    return reply.view('accounts/forgot-password', { pageTitle: 'Reset your password', values: {} });
  }

  @Public()
  @Post('forgot-password')
  async forgotPassword(@Body() body: Record<string, string>, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      await this.limiter.hit(`reset:ip:${request.ip}`, this.config.authRateLimit.perIp, this.config.authRateLimit.windowSeconds);
      const input = await parseForm(ForgotPasswordDto, body);
      await this.limiter.hit(`reset:account:${input.email}`, this.config.authRateLimit.perAccount, this.config.authRateLimit.windowSeconds);
      await this.accounts.requestPasswordReset(input.email);
      // The same answer whether or not the address has an account.
      return reply.status(200).view('accounts/reset-sent', { pageTitle: 'Check your e-mail', email: input.email, minutes: this.config.passwordResetTtlMinutes });
    } catch (err) {
      return reply.status(400).view('accounts/forgot-password', { pageTitle: 'Error: Reset your password', values: { email: body?.email }, ...errorView(formErrors(err)) });
    }
  }

  @Public()
  @Get('reset-password/:token')
  async resetPasswordPage(@Param('token') token: string, @Res() reply: FastifyReply) {
    if (!(await this.accounts.isResetTokenUsable(token))) return reply.status(400).view('accounts/reset-expired', { pageTitle: 'This link has expired' });
    return reply.view('accounts/reset-password', { pageTitle: 'Choose a new password', token, passwordMin: PASSWORD_MIN });
  }

  @Public()
  @Post('reset-password/:token')
  async resetPassword(@Param('token') token: string, @Body() body: Record<string, string>, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(ResetPasswordDto, body);
      await this.accounts.resetPassword(token, input.password);
      return reply.redirect('/sign-in?notice=password-reset', 303);
    } catch (err) {
      return reply.status(400).view('accounts/reset-password', { pageTitle: 'Error: Choose a new password', token, passwordMin: PASSWORD_MIN, ...errorView(formErrors(err)) });
    }
  }

  /** "Your account", its details form holding what is stored unless a refused form's values are given. */
  private accountView(user: CurrentUser, extra: Record<string, unknown> = {}) {
    return {
      pageTitle: 'Your account',
      user,
      roleLabel: ROLE_LABELS[user.role],
      passwordMin: PASSWORD_MIN,
      values: { name: user.name, jobRole: user.jobRole },
      ...extra,
    };
  }

  private async startSession(request: FastifyRequest, reply: FastifyReply, user: { id: number }) {
    if (request.identity?.sessionToken) await this.accounts.endSession(request.identity.sessionToken);
    const token = await this.accounts.startSession(user.id, request.headers['user-agent'] ?? null);
    this.identity.setSession(reply, request, token);
    this.protection.rememberDevice(reply, user.id);
  }
}

import { Body, Controller, Delete, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Unauthenticated } from '../common/errors';
import { ApiProblems } from '../common/openapi';
import { AppConfig } from '../config/config';
import { InjectConfig } from '../config/config.module';
import { MeResponse, SignInDto, SignUpDto, TokenResponse } from './accounts.dto';
import { AccountsService } from './accounts.service';
import { EmailVerification } from './email-verification';
import { SIGN_IN_FAILED } from './accounts.pages.controller';
import { Public, SignedInUser, type CurrentUser } from './identity';
import { RateLimiter } from './rate-limiter';
import { SignInProtection } from './sign-in-protection';

class RegisterResponse extends TokenResponse {
  @ApiProperty({ type: MeResponse }) user!: MeResponse;
}

const meOf = (user: CurrentUser): MeResponse => ({ ...user });

@ApiTags('auth')
@Controller('api/v1')
export class AuthApiController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly limiter: RateLimiter,
    private readonly protection: SignInProtection,
    private readonly verification: EmailVerification,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  @Public()
  @Post('auth/token')
  @HttpCode(201)
  @ApiOperation({ operationId: 'createToken', summary: 'Exchange an e-mail and password for a bearer token (expiring, revocable)' })
  @ApiCreatedResponse({ type: TokenResponse })
  @ApiProblems({ 401: 'The e-mail address or password is not right', 429: 'Too many attempts from this address or for this account: wait for Retry-After' })
  async token(@Body() input: SignInDto, @Req() request: FastifyRequest): Promise<TokenResponse> {
    const { perIp, windowSeconds } = this.config.authRateLimit;
    await this.limiter.hit(`signin:ip:${request.ip}`, perIp, windowSeconds);
    // API clients keep no cookies: they draw on the account's budget for unknown devices.
    const user = await this.protection.authenticate(input.email, input.password);
    if (!user) throw new Unauthenticated(SIGN_IN_FAILED);
    const { token, expiresAt } = await this.accounts.issueApiToken(user.id);
    return { token, tokenType: 'Bearer', expiresAt: expiresAt.toISOString() };
  }

  @Delete('auth/token')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ operationId: 'revokeToken', summary: 'Revoke the bearer token used for this request' })
  @ApiNoContentResponse({ description: 'Revoked: the token no longer works' })
  async revoke(@Req() request: FastifyRequest): Promise<void> {
    if (request.identity?.apiTokenId === undefined) throw new Unauthenticated('Only a bearer token can be revoked here; sign out in the browser instead');
    await this.accounts.revokeApiToken(request.identity.apiTokenId);
  }

  @Public()
  @Post('auth/register')
  @HttpCode(201)
  @ApiOperation({ operationId: 'register', summary: 'Create a learner account (as the sign-up page does) and get a bearer token; a link to verify the e-mail address is sent to it' })
  @ApiCreatedResponse({ type: RegisterResponse })
  @ApiProblems({ 409: 'An account with that e-mail address exists already', 429: 'Too many sign-ups from this address: wait for Retry-After' })
  async register(@Body() input: SignUpDto, @Req() request: FastifyRequest): Promise<RegisterResponse> {
    await this.limiter.hit(`signup:ip:${request.ip}`, this.config.authRateLimit.perIp, this.config.authRateLimit.windowSeconds);
    const created = await this.accounts.register(input);
    await this.verification.send(created.id);
    const user = (await this.accounts.currentUser(created.id))!;
    const { token, expiresAt } = await this.accounts.issueApiToken(created.id);
    return { token, tokenType: 'Bearer', expiresAt: expiresAt.toISOString(), user: meOf(user) };
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ operationId: 'getMe', summary: 'The caller' })
  @ApiOkResponse({ type: MeResponse })
  me(@SignedInUser() user: CurrentUser): MeResponse {
    return meOf(user);
  }
}

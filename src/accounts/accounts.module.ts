import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { AuditModule } from '../audit/audit-trail';
import { UnitOfWork } from '../database/unit-of-work';
import { MailModule } from '../mail/mail.module';
import { AccessGuard, CsrfGuard } from './access.guard';
import { PruneAccountsJob } from './accounts.jobs';
import { PersonalDataModule } from '../common/personal-data';
import { AccountsPersonalData } from './personal-data';
import { AccountsPagesController } from './accounts.pages.controller';
import { AccountsService } from './accounts.service';
import { AuthApiController } from './auth.api.controller';
import { ApiToken } from './entities/api-token.entity';
import { OrganisationJoiningModule } from '../common/organisation-joining';
import { EmailVerification, EmailVerificationPagesController } from './email-verification';
import { PasswordReset } from './entities/password-reset.entity';
import { SessionRecord } from './entities/session.entity';
import { User } from './entities/user.entity';
import { IdentityResolver } from './identity.resolver';
import { PasswordHasher } from './password-hasher';
import { RateLimiter } from './rate-limiter';
import { SignInProtection } from './sign-in-protection';
import { DatabaseSessionStore, RedisSessionStore, SessionStore } from './session-store';
import { UserAdminService } from './user-admin.service';

@Module({
  imports: [TypeOrmModule.forFeature([User, SessionRecord, ApiToken, PasswordReset]), MailModule, OrganisationJoiningModule, PersonalDataModule, AuditModule],
  controllers: [AccountsPagesController, AuthApiController, EmailVerificationPagesController],
  providers: [
    AccountsService,
    EmailVerification,
    UserAdminService,
    PruneAccountsJob,
    AccountsPersonalData,
    IdentityResolver,
    PasswordHasher,
    RateLimiter,
    SignInProtection,
    UnitOfWork,
    DatabaseSessionStore,
    RedisSessionStore,
    {
      provide: SessionStore,
      inject: [APP_CONFIG, DatabaseSessionStore, RedisSessionStore],
      useFactory: (config: AppConfig, database: DatabaseSessionStore, redis: RedisSessionStore) => (config.redis ? redis : database),
    },
    // Order matters: who you are and may see first, then whether the form came from us.
    { provide: APP_GUARD, useClass: AccessGuard },
    { provide: APP_GUARD, useClass: CsrfGuard },
  ],
  exports: [AccountsService, EmailVerification, UserAdminService, IdentityResolver, RateLimiter],
})
export class AccountsModule {}

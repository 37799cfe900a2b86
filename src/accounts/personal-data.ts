import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { PersonalDataRegistry } from '../common/personal-data';
import { ApiToken } from './entities/api-token.entity';
import { PasswordReset } from './entities/password-reset.entity';
import { SessionRecord } from './entities/session.entity';
import { User } from './entities/user.entity';
import { ROLE_LABELS } from './roles';
import { SessionStore } from './session-store';

/** The name a deleted account goes by wherever it is still referenced (courses it wrote, records of other people). */
export const DELETED_ACCOUNT_NAME = 'Deleted account';

/** A deleted account's address: unique (the index holds), under a domain that can never receive mail (RFC 2606). */
export const deletedAccountEmail = (userId: number) => `deleted-${userId}@deleted.invalid`;

/** Not an argon2 hash: verifying any password against it fails. */
const UNUSABLE_PASSWORD_HASH = '!deleted';

/**
 * The accounts module's personal data: the account itself, its signed-in browsers, API tokens and password-reset
 * links. Erasing anonymises the user row rather than deleting it: courses and webinars the person wrote, certificates
 * they chose to keep and other people's records refer to it by id, and the row now says only "Deleted account".
 */
@Injectable()
export class AccountsPersonalData implements OnModuleInit {
  constructor(
    private readonly registry: PersonalDataRegistry,
    private readonly clock: Clock,
    private readonly sessions: SessionStore,
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(ApiToken) private readonly tokens: Repository<ApiToken>,
    @InjectRepository(PasswordReset) private readonly resets: Repository<PasswordReset>,
  ) {}

  onModuleInit(): void {
    this.registry.register(
      {
        name: 'account',
        description: 'Your account: name, e-mail address, job role, the organisation you gave, your access and when you joined and last signed in',
        export: async (userId) => {
          const user = await this.users.findOne({ where: { id: userId }, relations: { organisation: true } });
          if (!user) return null;
          return {
            id: user.id,
            name: user.name,
            email: user.email,
            jobRole: user.jobRole,
            organisationGiven: user.organisation?.name ?? null,
            access: ROLE_LABELS[user.role],
            createdAt: user.createdAt,
            lastSignInAt: user.lastSignInAt,
            emailVerifiedAt: user.emailVerifiedAt,
          };
        },
        erase: async (tx, userId, { at }) => {
          await tx.getRepository(User).update(
            { id: userId },
            {
              name: DELETED_ACCOUNT_NAME,
              email: deletedAccountEmail(userId),
              passwordHash: UNUSABLE_PASSWORD_HASH,
              role: 'learner',
              jobRole: '',
              organisationId: null,
              lastSignInAt: null,
              emailVerifiedAt: null,
              deactivatedAt: at,
            },
          );
        },
      },
      {
        name: 'sessions',
        description: 'The browsers signed in to your account: when each signed in, when it will be signed out and which browser it is',
        export: (userId) => this.sessions.listForUser(userId),
        erase: async (tx, userId) => {
          const live = (await this.sessions.listForUser(userId)).length;
          // Database sessions end with the transaction; sessions in Redis right after it (and again, should one have
          // been made meanwhile: the password no longer works, so none can be).
          await tx.getRepository(SessionRecord).delete({ userId });
          return { counts: { sessions: live }, afterCommit: () => this.sessions.destroyAllForUser(userId) };
        },
      },
      {
        name: 'apiTokens',
        description: 'Your API tokens: when each was made, when it expires and whether it was revoked (never the token itself)',
        export: async (userId) => {
          const now = this.clock.now().getTime();
          const rows = await this.tokens.find({ where: { userId }, select: { id: true, createdAt: true, expiresAt: true, revokedAt: true }, order: { id: 'ASC' } });
          return rows.map((t) => ({ id: t.id, createdAt: t.createdAt, expiresAt: t.expiresAt, revokedAt: t.revokedAt, status: t.revokedAt ? 'revoked' : t.expiresAt.getTime() <= now ? 'expired' : 'active' }));
        },
        erase: async (tx, userId) => ({ counts: { apiTokens: (await tx.getRepository(ApiToken).delete({ userId })).affected ?? 0 } }),
      },
      {
        name: 'passwordResets',
        description: 'Password-reset links you asked for: when, until when they worked and when they were used (not the links)',
        export: async (userId) => {
          const rows = await this.resets.find({ where: { userId }, select: { id: true, createdAt: true, expiresAt: true, usedAt: true }, order: { id: 'ASC' } });
          return rows.map((r) => ({ requestedAt: r.createdAt, expiresAt: r.expiresAt, usedAt: r.usedAt }));
        },
        erase: async (tx, userId) => ({ counts: { passwordResets: (await tx.getRepository(PasswordReset).delete({ userId })).affected ?? 0 } }),
      },
    );
  }
}

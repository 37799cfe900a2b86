import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, LessThanOrEqual, MoreThan, Repository } from 'typeorm';
import { AccountsService, type PersonCard } from '../../accounts/accounts.service';
import type { CurrentUser } from '../../accounts/identity';
import { DELETED_ACCOUNT_NAME } from '../../accounts/personal-data';
import { AuditTrail } from '../../audit/audit-trail';
import { Clock } from '../../common/clock';
import { Conflict, Forbidden, NotFound } from '../../common/errors';
import { londonDateTime } from '../../common/london-time';
import type { AppConfig } from '../../config/config';
import { InjectConfig } from '../../config/config.module';
import { UnitOfWork } from '../../database/unit-of-work';
import { JobsService } from '../../jobs/jobs.service';
import { MailService } from '../../mail/mail.service';
import { PostingStanding } from '../core/posting-standing';
import { DiscussionSuspension } from '../entities';
import { isActive } from './discussion-moderation.service';
import { isSiteModerator } from './post-context';

export const NO_SUCH_PERSON = 'There is no such person';
export const MODERATORS_NOT_SUSPENDED = 'Moderators and administrators cannot be suspended from discussions. An administrator can change their role first.';
export const DELETED_NOT_SUSPENDED = 'This account has been deleted, so there is nobody to suspend.';
export const NOT_SUSPENDED = 'They are not suspended from posting. Nothing was changed.';
export const alreadySuspended = (until: Date) => `They are already suspended from posting until ${londonDateTime(until)}. Lift that suspension first to set a different one. Nothing was changed.`;

const DAY_MS = 86_400_000;

export interface SuspensionInput {
  days: number;
  reason: string;
}

export interface PersonSuspensions {
  person: PersonCard;
  active: DiscussionSuspension | null;
  history: Array<DiscussionSuspension & { active: boolean; suspendedBy: PersonCard | null }>;
  /** Why they may not be suspended, if so. */
  refusal: string | null;
}

/**
 * Suspensions from posting in discussions: a site moderator or administrator suspends a person for 1 to 365 days,
 * with a reason they are e-mailed along with when it ends; a suspension is in force while startsAt <= now < endsAt
 * and it is not lifted (the posting rules read the same table). Moderators and administrators are never suspended.
 */
@Injectable()
export class DiscussionSuspensions {
  private readonly logger = new Logger('DiscussionSuspensions');

  constructor(
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly audit: AuditTrail,
    private readonly accounts: AccountsService,
    private readonly mail: MailService,
    private readonly jobs: JobsService,
    @InjectRepository(DiscussionSuspension) private readonly suspensions: Repository<DiscussionSuspension>,
    @InjectConfig() private readonly config: AppConfig,
    private readonly standing: PostingStanding,
  ) {}

  /** The suspension in force for the person now, if any (the latest to end, should two overlap). */
  async activeFor(userId: number, at = this.clock.now()): Promise<DiscussionSuspension | null> {
    return this.suspensions.findOne({ where: { userId, liftedAt: IsNull(), startsAt: LessThanOrEqual(at), endsAt: MoreThan(at) }, order: { endsAt: 'DESC' } });
  }

  /** The person, their suspensions (newest first) and whether they may be suspended. Site moderators only. */
  async of(viewer: CurrentUser, userId: number): Promise<PersonSuspensions> {
    if (!isSiteModerator(viewer.role)) throw new Forbidden();
    const person = (await this.accounts.peopleOf([userId])).get(userId);
    if (!person) throw new NotFound(NO_SUCH_PERSON);
    const rows = await this.suspensions.find({ where: { userId }, order: { startsAt: 'DESC', id: 'DESC' } });
    const people = await this.accounts.peopleOf(rows.map((s) => s.suspendedById).filter((id): id is number => id !== null));
    const now = this.clock.now();
    const history = rows.map((s) => ({ ...s, active: isActive(s, now), suspendedBy: s.suspendedById === null ? null : (people.get(s.suspendedById) ?? null) }));
    return { person, active: history.find((s) => s.active) ?? null, history, refusal: refusalFor(person) };
  }

  /** Suspends the person from posting for `days` from now, audited, and e-mails them why and until when. */
  async suspend(moderator: CurrentUser, userId: number, input: SuspensionInput): Promise<DiscussionSuspension> {
    const { person, refusal } = await this.of(moderator, userId);
    if (refusal) throw new Forbidden(refusal, 'not_suspendable');
    const contact = person.active ? (await this.accounts.contactsOf([userId])).get(userId) : undefined;
    const messageIds: number[] = [];
    const suspension = await this.uow.run(async (tx) => {
      messageIds.length = 0;
      const now = this.clock.now();
      const repo = tx.getRepository(DiscussionSuspension);
      const current = await repo.findOne({ where: { userId, liftedAt: IsNull(), startsAt: LessThanOrEqual(now), endsAt: MoreThan(now) }, order: { endsAt: 'DESC' } });
      if (current) throw new Conflict(alreadySuspended(current.endsAt), {}, 'already_suspended');
      const row = { userId, reason: input.reason, suspendedById: moderator.id, startsAt: now, endsAt: new Date(now.getTime() + input.days * DAY_MS), liftedAt: null, createdAt: now };
      const inserted = await repo.insert(row);
      const saved: DiscussionSuspension = { ...row, id: Number(inserted.identifiers[0].id) };
      await this.audit.record(
        tx,
        { id: moderator.id, name: moderator.name },
        { action: 'discussion.person.suspended', target: { type: 'user', id: userId, label: person.name }, details: { suspensionId: saved.id, days: input.days, until: saved.endsAt.toISOString(), reason: input.reason } },
      );
      if (contact) {
        const message = await this.mail.record(
          {
            to: contact.email,
            template: 'discussion-suspended',
            dedupeKey: `discussion-suspended:${saved.id}`,
            data: { name: contact.name, reason: input.reason, days: input.days, daysText: input.days === 1 ? '1 day' : `${input.days} days`, until: londonDateTime(saved.endsAt), conductUrl: `${this.config.publicUrl}/discussions/conduct` },
          },
          { tx },
        );
        if (message) messageIds.push(message.id);
      }
      return saved;
    });
    await this.standing.forget(userId);
    for (const messageId of messageIds) await this.jobs.tryEnqueue('mail.deliver', { messageId }, { jobId: `mail.deliver:${messageId}` });
    this.logger.log(`Person ${userId} suspended from discussions for ${input.days} day(s) by ${moderator.id}`);
    return suspension;
  }

  /** Ends the person's suspension now (every one in force, should two overlap), audited. */
  async lift(moderator: CurrentUser, userId: number): Promise<{ lifted: number }> {
    const { person } = await this.of(moderator, userId);
    const lifted = await this.uow.run(async (tx) => {
      const now = this.clock.now();
      // All of the person's suspensions locked (a handful at most), those in force lifted.
      const active = (await this.uow.lockAllForUpdate(tx, DiscussionSuspension, [{ userId }])).filter((s) => isActive(s, now));
      if (!active.length) throw new Conflict(NOT_SUSPENDED, {}, 'not_suspended');
      for (const s of active) await tx.getRepository(DiscussionSuspension).update({ id: s.id }, { liftedAt: now });
      await this.audit.record(
        tx,
        { id: moderator.id, name: moderator.name },
        { action: 'discussion.person.suspension-lifted', target: { type: 'user', id: userId, label: person.name }, details: { suspensionIds: active.map((s) => s.id), until: new Date(Math.max(...active.map((s) => s.endsAt.getTime()))).toISOString() } },
      );
      return active.length;
    });
    await this.standing.forget(userId);
    this.logger.log(`Discussion suspension of person ${userId} lifted by ${moderator.id}`);
    return { lifted };
  }
}

function refusalFor(person: PersonCard): string | null {
  if (isSiteModerator(person.role)) return MODERATORS_NOT_SUSPENDED;
  if (person.name === DELETED_ACCOUNT_NAME && !person.active) return DELETED_NOT_SUSPENDED;
  return null;
}

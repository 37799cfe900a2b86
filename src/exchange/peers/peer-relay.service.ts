import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, MoreThan, Repository } from 'typeorm';
import type { CurrentUser } from '../../accounts/identity';
import { Clock } from '../../common/clock';
import { Conflict, DomainError, NotFound, TooManyRequests } from '../../common/errors';
import { londonDateTime } from '../../common/london-time';
import type { AppConfig } from '../../config/config';
import { InjectConfig } from '../../config/config.module';
import { UnitOfWork } from '../../database/unit-of-work';
import { MailService, type MailRequest } from '../../mail/mail.service';
import { PeerBlock, PeerMessage, PeerProfile } from '../entities/peer.entities';
import { NO_MEMBERSHIP_MESSAGE, PeerDirectory, type PeerPerson } from './peer-directory.service';
import { linesOf, SUBJECT_MAX_LENGTH } from './peers.dto';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Conversations a page of "Your messages" lists. */
export const CONVERSATIONS_PAGE_SIZE = 20;

export const NOT_ACCEPTING_MESSAGE = 'This person is not accepting messages from you.';
export const NO_SUCH_PEER = 'There is no peer profile at this address. The person may have removed it or stopped listing it.';
export const NO_SUCH_CONVERSATION = 'There is no conversation of yours at this address.';

export type RefusalReason = 'self' | 'no_membership' | 'not_open' | 'not_accepting';

/** A contact the relay will not pass on, with words for the person who tried. Nothing was stored or sent. */
export class ContactRefused extends DomainError {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super('forbidden', message, {}, `peer_${reason}`);
  }
}

/** The sender has started as many conversations as the limits allow; nothing was stored or sent. */
export class ContactLimitReached extends TooManyRequests {
  readonly reason = 'limit' as const;

  constructor(retryAfterSeconds: number, message: string) {
    super(retryAfterSeconds);
    this.message = message;
  }
}

/** One message of a conversation as its page shows it. */
export interface ConversationMessage {
  id: number;
  mine: boolean;
  senderName: string;
  subject: string;
  lines: string[];
  createdAt: Date;
}

/** A conversation as one of its two people sees it. */
export interface Conversation {
  id: number;
  subject: string;
  startedByMe: boolean;
  other: PeerPerson;
  /** The other person's address: shown once the person contacted has replied (replying is consent), never before. */
  otherEmail: string | null;
  myEmailShown: boolean;
  messages: ConversationMessage[];
  /** Whether the viewer may write here now, and if not, why. */
  canReply: boolean;
  replyBlockedReason: string | null;
  /** The viewer has blocked the other person. */
  blockedByMe: boolean;
}

export interface ConversationSummary {
  id: number;
  subject: string;
  startedByMe: boolean;
  otherName: string;
  createdAt: Date;
  replies: number;
  answered: boolean;
}

/**
 * The contact relay. A first message goes to a listed person who is open to contact, e-mailed without the sender's
 * address (the recipient reads it, and answers, on the academy's page); a reply is e-mailed with the replier's
 * address as its Reply-To, since replying is consent, and from then on both see each other's address. Each message
 * and its e-mail are written in one transaction (the e-mail keyed by the message), so one exists exactly when the
 * other does. New conversations are limited per sender, counted from peer_messages under a lock on the sender's
 * account row, so the limit holds across processes and under concurrent sends. A block stops every message from
 * the blocked person to the blocker, with a refusal that does not say why.
 */
@Injectable()
export class PeerRelay {
  constructor(
    @InjectRepository(PeerMessage) private readonly messages: Repository<PeerMessage>,
    @InjectRepository(PeerBlock) private readonly blocks: Repository<PeerBlock>,
    private readonly directory: PeerDirectory,
    private readonly mail: MailService,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  /** Whether `blockerId` has blocked `blockedId`. */
  async isBlocked(blockerId: number, blockedId: number, tx?: EntityManager): Promise<boolean> {
    return (tx?.getRepository(PeerBlock) ?? this.blocks).exists({ where: { blockerId, blockedId } });
  }

  /**
   * Why the sender may not start a conversation with this listed person now, or null. The contact form asks first
   * (so nobody writes a message that cannot go); sending asks again inside its transaction.
   */
  async refusal(sender: CurrentUser, recipient: { userId: number; name: string; openToContact: boolean }): Promise<ContactRefused | ContactLimitReached | null> {
    if (sender.id === recipient.userId) return new ContactRefused('self', 'This is your own profile: you cannot send a message to yourself.');
    if (!(await this.directory.hasActiveMembership(sender.id))) return new ContactRefused('no_membership', NO_MEMBERSHIP_MESSAGE);
    if (await this.isBlocked(recipient.userId, sender.id)) return new ContactRefused('not_accepting', NOT_ACCEPTING_MESSAGE);
    if (!recipient.openToContact) return new ContactRefused('not_open', `${recipient.name} is not open to being contacted through the academy.`);
    return this.overLimit(this.messages.manager, sender.id);
  }

  /**
   * Starts a conversation: stores the message and its e-mail to the recipient (no address of the sender in it), or
   * throws the refusal with nothing stored or sent. `recipientId` must be a listed profile (404 otherwise).
   */
  async contact(sender: CurrentUser, recipientId: number, input: { subject: string; body: string }): Promise<PeerMessage> {
    const recipient = await this.directory.listed(recipientId);
    if (!recipient) throw new NotFound(NO_SUCH_PEER);
    const refused = await this.refusal(sender, recipient);
    if (refused) throw refused;
    const people = await this.directory.people([sender.id, recipient.userId]);
    const from = people.get(sender.id)!;
    const to = people.get(recipient.userId)!;
    const { message, mail } = await this.uow.run(async (tx) => {
      // Holding the sender's account row makes their sends take turns, so the count below cannot be raced past.
      await this.uow.lockForUpdate(tx, 'User', { id: sender.id });
      const profile = await tx.getRepository(PeerProfile).findOne({ where: { userId: recipient.userId }, select: { id: true, listed: true, openToContact: true } });
      if (!profile?.listed) throw new NotFound(NO_SUCH_PEER);
      if (await this.isBlocked(recipient.userId, sender.id, tx)) throw new ContactRefused('not_accepting', NOT_ACCEPTING_MESSAGE);
      if (!profile.openToContact) throw new ContactRefused('not_open', `${recipient.name} is not open to being contacted through the academy.`);
      const limited = await this.overLimit(tx, sender.id);
      if (limited) throw limited;
      const now = this.clock.now();
      const values = { senderId: sender.id, recipientId: recipient.userId, inReplyToId: null, subject: input.subject, body: input.body, createdAt: now };
      const inserted = await tx.getRepository(PeerMessage).insert(values);
      const row = tx.getRepository(PeerMessage).create({ ...values, id: Number(inserted.identifiers[0].id) });
      const request = this.firstMail(row, from, to);
      await this.mail.record(request, { tx });
      return { message: row, mail: request };
    });
    // Recorded with the message; asking again (its key is taken) only asks the queue to deliver it now.
    await this.mail.sendMany([mail]);
    return message;
  }

  /**
   * A reply in a conversation, by either of its two people: the person contacted may always answer; the one who
   * started it may write again once they have. E-mailed to the other with the replier's address (Reply-To and in
   * the text). Refused, with nothing stored or sent, when the other person has blocked the replier.
   */
  async reply(user: CurrentUser, messageId: number, body: string): Promise<PeerMessage> {
    const conversation = await this.conversation(user, messageId);
    if (!conversation.canReply) throw new Conflict(conversation.replyBlockedReason ?? NOT_ACCEPTING_MESSAGE, { body: conversation.replyBlockedReason ?? NOT_ACCEPTING_MESSAGE });
    const other = conversation.other;
    const me = (await this.directory.people([user.id])).get(user.id)!;
    const { message, mail } = await this.uow.run(async (tx) => {
      await this.uow.lockForUpdate(tx, 'User', { id: user.id });
      if (await this.isBlocked(other.userId, user.id, tx)) throw new ContactRefused('not_accepting', NOT_ACCEPTING_MESSAGE);
      const now = this.clock.now();
      const subject = conversation.subject.startsWith('Re: ') ? conversation.subject : `Re: ${conversation.subject}`.slice(0, SUBJECT_MAX_LENGTH);
      const values = { senderId: user.id, recipientId: other.userId, inReplyToId: conversation.id, subject, body, createdAt: now };
      const inserted = await tx.getRepository(PeerMessage).insert(values);
      const row = tx.getRepository(PeerMessage).create({ ...values, id: Number(inserted.identifiers[0].id) });
      const request = this.replyMail(row, conversation.id, me, other);
      await this.mail.record(request, { tx });
      return { message: row, mail: request };
    });
    await this.mail.sendMany([mail]);
    return message;
  }

  /**
   * The conversation a message belongs to, as one of its two people sees it (a reply's id leads to its conversation).
   * Anyone else, administrators included, gets 404: it is private correspondence.
   */
  async conversation(viewer: CurrentUser, messageId: number): Promise<Conversation> {
    if (!Number.isSafeInteger(messageId) || messageId < 1) throw new NotFound(NO_SUCH_CONVERSATION);
    const found = await this.messages.findOne({ where: { id: messageId } });
    const root = found?.inReplyToId ? await this.messages.findOne({ where: { id: found.inReplyToId } }) : found;
    if (!root || (root.senderId !== viewer.id && root.recipientId !== viewer.id)) throw new NotFound(NO_SUCH_CONVERSATION);
    const replies = await this.messages.find({ where: { inReplyToId: root.id }, order: { createdAt: 'ASC', id: 'ASC' } });
    const startedByMe = root.senderId === viewer.id;
    const otherId = startedByMe ? root.recipientId : root.senderId;
    const [people, blockedByMe, blockedMe] = await Promise.all([this.directory.people([root.senderId, root.recipientId]), this.isBlocked(viewer.id, otherId), this.isBlocked(otherId, viewer.id)]);
    const other = people.get(otherId) ?? { userId: otherId, name: 'Deleted account', email: '', jobRole: '', deactivated: true, organisations: [] };
    const answered = replies.some((r) => r.senderId === root.recipientId);
    const nameOf = (id: number) => people.get(id)?.name ?? 'Deleted account';
    let replyBlockedReason: string | null = null;
    if (other.deactivated) replyBlockedReason = `${other.name} can no longer receive messages.`;
    else if (blockedMe) replyBlockedReason = NOT_ACCEPTING_MESSAGE;
    else if (startedByMe && !answered) replyBlockedReason = `You can write again once ${other.name} replies.`;
    return {
      id: root.id,
      subject: root.subject,
      startedByMe,
      other,
      otherEmail: answered && !other.deactivated ? other.email : null,
      myEmailShown: answered,
      messages: [root, ...replies].map((m) => ({ id: m.id, mine: m.senderId === viewer.id, senderName: nameOf(m.senderId), subject: m.subject, lines: linesOf(m.body), createdAt: m.createdAt })),
      canReply: replyBlockedReason === null,
      replyBlockedReason,
      blockedByMe,
    };
  }

  /** The person's conversations (started or received), newest first, a page at a time: four queries. */
  async conversations(userId: number, page = 1): Promise<{ items: ConversationSummary[]; total: number; page: number; pages: number }> {
    const where = [
      { senderId: userId, inReplyToId: IsNull() },
      { recipientId: userId, inReplyToId: IsNull() },
    ];
    const [roots, total] = await this.messages.findAndCount({
      where,
      select: { id: true, senderId: true, recipientId: true, subject: true, createdAt: true },
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: (page - 1) * CONVERSATIONS_PAGE_SIZE,
      take: CONVERSATIONS_PAGE_SIZE,
    });
    const ids = roots.map((r) => r.id);
    const counts = ids.length
      ? await this.messages
          .createQueryBuilder('m')
          .select('m.in_reply_to_id', 'rootId')
          .addSelect('m.sender_id', 'senderId')
          .addSelect('COUNT(*)', 'n')
          .where('m.in_reply_to_id IN (:...ids)', { ids })
          .groupBy('m.in_reply_to_id')
          .addGroupBy('m.sender_id')
          .getRawMany<{ rootId: unknown; senderId: unknown; n: unknown }>()
      : [];
    const people = await this.directory.people(roots.map((r) => (r.senderId === userId ? r.recipientId : r.senderId)));
    return {
      items: roots.map((r) => {
        const mine = counts.filter((c) => Number(c.rootId) === r.id);
        const otherId = r.senderId === userId ? r.recipientId : r.senderId;
        return {
          id: r.id,
          subject: r.subject,
          startedByMe: r.senderId === userId,
          otherName: people.get(otherId)?.name ?? 'Deleted account',
          createdAt: r.createdAt,
          replies: mine.reduce((sum, c) => sum + Number(c.n), 0),
          answered: mine.some((c) => Number(c.senderId) === r.recipientId),
        };
      }),
      total,
      page,
      pages: Math.max(1, Math.ceil(total / CONVERSATIONS_PAGE_SIZE)),
    };
  }

  /** Blocks the other person of the viewer's conversation (idempotent); their name, for the page that says so. */
  async block(viewer: CurrentUser, messageId: number): Promise<{ name: string; conversationId: number }> {
    const conversation = await this.conversation(viewer, messageId);
    await this.blocks.createQueryBuilder().insert().values({ blockerId: viewer.id, blockedId: conversation.other.userId, createdAt: this.clock.now() }).orIgnore().updateEntity(false).execute();
    return { name: conversation.other.name, conversationId: conversation.id };
  }

  /** Lifts a block (idempotent); false when there was none. */
  async unblock(viewerId: number, blockedId: number): Promise<boolean> {
    if (!Number.isSafeInteger(blockedId) || blockedId < 1) return false;
    return ((await this.blocks.delete({ blockerId: viewerId, blockedId })).affected ?? 0) > 0;
  }

  /** The people the person has blocked, latest first (two queries). */
  async blocked(userId: number): Promise<Array<{ userId: number; name: string; jobRole: string; organisations: string; blockedAt: Date }>> {
    const rows = await this.blocks.find({ where: { blockerId: userId }, order: { createdAt: 'DESC', id: 'DESC' }, take: 1000 });
    const people = await this.directory.people(rows.map((r) => r.blockedId));
    return rows.map((r) => {
      const person = people.get(r.blockedId);
      return { userId: r.blockedId, name: person?.name ?? 'Deleted account', jobRole: person?.jobRole ?? '', organisations: (person?.organisations ?? []).map((o) => o.name).join(', '), blockedAt: r.createdAt };
    });
  }

  /** The limit refusal if the sender has started as many conversations as allowed in the last hour or day, else null. */
  private async overLimit(tx: EntityManager, senderId: number): Promise<ContactLimitReached | null> {
    const { contactsPerHour, contactsPerDay } = this.config.peers;
    const now = this.clock.now().getTime();
    const recent = await tx.getRepository(PeerMessage).find({
      where: { senderId, inReplyToId: IsNull(), createdAt: MoreThan(new Date(now - DAY_MS)) },
      select: { id: true, createdAt: true },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: Math.max(contactsPerHour, contactsPerDay),
    });
    const times = recent.map((m) => m.createdAt.getTime());
    const lastHour = times.filter((t) => t > now - HOUR_MS);
    if (times.length >= contactsPerDay) {
      const until = times[contactsPerDay - 1] + DAY_MS;
      return this.limitReached(until, `You have contacted ${contactsPerDay} people in the last 24 hours, the most the academy allows. You can contact someone new after ${londonDateTime(new Date(until))}.`);
    }
    if (lastHour.length >= contactsPerHour) {
      const until = lastHour[contactsPerHour - 1] + HOUR_MS;
      return this.limitReached(until, `You have contacted ${contactsPerHour} people in the last hour, the most the academy allows. You can contact someone new after ${londonDateTime(new Date(until))}.`);
    }
    return null;
  }

  private limitReached(until: number, message: string): ContactLimitReached {
    return new ContactLimitReached(Math.max(1, Math.ceil((until - this.clock.now().getTime()) / 1000)), message);
  }

  private link(conversationId: number, messageId: number) {
    return `${this.config.publicUrl}/peers/messages/${conversationId}${conversationId === messageId ? '' : `#message-${messageId}`}`;
  }

  /** The first message's e-mail: who wrote (name, job role, organisation) but not their address, and where to answer. */
  private firstMail(message: PeerMessage, from: PeerPerson, to: PeerPerson): MailRequest {
    return {
      to: to.email,
      template: 'peer-message',
      dedupeKey: `peer-message:${message.id}`,
      data: {
        name: to.name,
        senderName: from.name,
        senderJobRole: from.jobRole,
        senderOrganisations: from.organisations.map((o) => o.name).join(', '),
        subject: message.subject,
        body: message.body,
        bodyLines: linesOf(message.body),
        link: this.link(message.id, message.id),
        blocksLink: `${this.config.publicUrl}/peers/blocks`,
        profileLink: `${this.config.publicUrl}/peers/profile`,
      },
    };
  }

  /** A reply's e-mail: with the replier's address, as Reply-To and in the text. */
  private replyMail(message: PeerMessage, conversationId: number, from: PeerPerson, to: PeerPerson): MailRequest {
    return {
      to: to.email,
      template: 'peer-reply',
      dedupeKey: `peer-message:${message.id}`,
      headers: { 'Reply-To': from.email },
      data: {
        name: to.name,
        senderName: from.name,
        senderJobRole: from.jobRole,
        senderOrganisations: from.organisations.map((o) => o.name).join(', '),
        senderEmail: from.email,
        subject: message.subject,
        body: message.body,
        bodyLines: linesOf(message.body),
        link: this.link(conversationId, message.id),
      },
    };
  }
}


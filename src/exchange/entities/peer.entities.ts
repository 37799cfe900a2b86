import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';

/**
 * An opt-in peer profile: a person says what they work with and can help with, and whether others may contact them.
 * Only `listed` profiles appear on /peers. Name, job role and organisations come from the account and memberships.
 */
@Entity('peer_profiles')
@Index('uq_peer_profiles_user', ['userId'], { unique: true })
@Index('idx_peer_profiles_listed', ['listed', 'updatedAt'])
export class PeerProfile {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_peer_profiles_user' })
  user?: unknown;

  /** Shown on /peers. False keeps the profile but hides it. */
  @Column({ type: 'boolean', default: false })
  listed!: boolean;

  @VarcharColumn(600, { default: '' })
  bio!: string;

  @Column({ type: 'boolean', default: false })
  openToContact!: boolean;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn()
  updatedAt!: Date;
}

/** A system (exchange_systems) a person has worked with. */
@Entity('peer_profile_systems')
@Index('uq_peer_profile_systems', ['userId', 'systemId'], { unique: true })
@Index('idx_peer_profile_systems_system', ['systemId', 'userId'])
export class PeerProfileSystem {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_peer_profile_systems_user' })
  user?: unknown;

  @Column({ type: 'integer' })
  systemId!: number;

  @ManyToOne('ExchangeSystem', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'system_id', foreignKeyConstraintName: 'fk_peer_profile_systems_system' })
  system?: unknown;
}

/** A topic a person can help with. */
@Entity('peer_profile_topics')
@Index('uq_peer_profile_topics', ['userId', 'topicId'], { unique: true })
@Index('idx_peer_profile_topics_topic', ['topicId', 'userId'])
export class PeerProfileTopic {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_peer_profile_topics_user' })
  user?: unknown;

  @Column({ type: 'integer' })
  topicId!: number;

  @ManyToOne('Topic', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'topic_id', foreignKeyConstraintName: 'fk_peer_profile_topics_topic' })
  topic?: unknown;
}

/**
 * A message from one person to another, relayed by e-mail: the recipient sees the sender's name and organisation but
 * neither sees the other's address until the recipient replies (a reply is a message with `inReplyToId`).
 */
@Entity('peer_messages')
@Index('idx_peer_messages_sender', ['senderId', 'createdAt'])
@Index('idx_peer_messages_recipient', ['recipientId', 'createdAt'])
@Index('idx_peer_messages_reply', ['inReplyToId'])
export class PeerMessage {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  senderId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'sender_id', foreignKeyConstraintName: 'fk_peer_messages_sender' })
  sender?: unknown;

  @Column({ type: 'integer' })
  recipientId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'recipient_id', foreignKeyConstraintName: 'fk_peer_messages_recipient' })
  recipient?: unknown;

  @Column({ type: 'integer', nullable: true })
  inReplyToId!: number | null;

  @ManyToOne(() => PeerMessage, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'in_reply_to_id', foreignKeyConstraintName: 'fk_peer_messages_in_reply_to' })
  inReplyTo?: PeerMessage;

  @VarcharColumn(150)
  subject!: string;

  @Column({ type: 'text' })
  body!: string;

  @DateTimeColumn()
  createdAt!: Date;
}

/** A recipient's "stop this person contacting me". */
@Entity('peer_blocks')
@Index('uq_peer_blocks', ['blockerId', 'blockedId'], { unique: true })
@Index('idx_peer_blocks_blocked', ['blockedId'])
export class PeerBlock {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  blockerId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'blocker_id', foreignKeyConstraintName: 'fk_peer_blocks_blocker' })
  blocker?: unknown;

  @Column({ type: 'integer' })
  blockedId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'blocked_id', foreignKeyConstraintName: 'fk_peer_blocks_blocked' })
  blocked?: unknown;

  @DateTimeColumn()
  createdAt!: Date;
}

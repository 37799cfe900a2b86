import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn } from '../../database/columns';
import { DiscussionSpace } from './space.entities';
import { DiscussionPost, DiscussionThread } from './thread.entities';

/** "Helpful": one per person and post. */
@Entity('discussion_votes')
@Index('uq_discussion_votes', ['postId', 'userId'], { unique: true })
@Index('idx_discussion_votes_user', ['userId'])
export class DiscussionVote {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  postId!: number;

  @ManyToOne(() => DiscussionPost, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'post_id', foreignKeyConstraintName: 'fk_discussion_votes_post' })
  post?: DiscussionPost;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_discussion_votes_user' })
  user?: unknown;

  @DateTimeColumn()
  createdAt!: Date;
}

/** A person following a thread or a space (exactly one of the two is set). Starting or replying to a thread follows it. */
@Entity('discussion_follows')
@Index('uq_discussion_follows_thread', ['userId', 'threadId'], { unique: true })
@Index('uq_discussion_follows_space', ['userId', 'spaceId'], { unique: true })
@Index('idx_discussion_follows_thread_users', ['threadId', 'userId'])
@Index('idx_discussion_follows_space_users', ['spaceId', 'userId'])
export class DiscussionFollow {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_discussion_follows_user' })
  user?: unknown;

  @Column({ type: 'integer', nullable: true })
  threadId!: number | null;

  @ManyToOne(() => DiscussionThread, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'thread_id', foreignKeyConstraintName: 'fk_discussion_follows_thread' })
  thread?: DiscussionThread;

  @Column({ type: 'integer', nullable: true })
  spaceId!: number | null;

  @ManyToOne(() => DiscussionSpace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'space_id', foreignKeyConstraintName: 'fk_discussion_follows_space' })
  space?: DiscussionSpace;

  @DateTimeColumn()
  createdAt!: Date;
}

/** A person an @mention in a post named, and who could see the thread when it was written (others are not recorded). */
@Entity('discussion_mentions')
@Index('uq_discussion_mentions', ['postId', 'userId'], { unique: true })
@Index('idx_discussion_mentions_user', ['userId'])
export class DiscussionMention {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  postId!: number;

  @ManyToOne(() => DiscussionPost, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'post_id', foreignKeyConstraintName: 'fk_discussion_mentions_post' })
  post?: DiscussionPost;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_discussion_mentions_user' })
  user?: unknown;
}

/** A person's acceptance of the code of conduct (its version), needed before their first post. */
@Entity('discussion_conduct_acceptances')
@Index('uq_discussion_conduct_acceptances_user', ['userId'], { unique: true })
export class ConductAcceptance {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_discussion_conduct_acceptances_user' })
  user?: unknown;

  @Column({ type: 'integer' })
  version!: number;

  @DateTimeColumn()
  acceptedAt!: Date;
}

import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';
import { DiscussionSpace } from './space.entities';

export const THREAD_KINDS = ['discussion', 'question'] as const;
export type ThreadKind = (typeof THREAD_KINDS)[number];

/**
 * A thread's or post's state. `held`: written by a brand-new or unverified account, waiting for a moderator (seen by
 * its author and moderators only); `hidden`: taken down by a moderator (restorable); `deleted`: by its author.
 */
export const POST_STATUSES = ['visible', 'held', 'hidden', 'deleted'] as const;
export type PostStatus = (typeof POST_STATUSES)[number];

/**
 * A thread: its title and state. Its opening text is its first post (`openingPostId`, `isOpening`), so editing,
 * reporting, hiding, votes and search treat the opening and the replies alike.
 */
@Entity('discussion_threads')
@Index('idx_discussion_threads_space_activity', ['spaceId', 'status', 'pinned', 'lastActivityAt'])
@Index('idx_discussion_threads_author', ['authorId', 'createdAt'])
@Index('idx_discussion_threads_status_created', ['status', 'createdAt'])
export class DiscussionThread {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  spaceId!: number;

  @ManyToOne(() => DiscussionSpace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'space_id', foreignKeyConstraintName: 'fk_discussion_threads_space' })
  space?: DiscussionSpace;

  @Column({ type: 'integer', nullable: true })
  authorId!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'author_id', foreignKeyConstraintName: 'fk_discussion_threads_author' })
  author?: unknown;

  @VarcharColumn(12)
  kind!: ThreadKind;

  @VarcharColumn(200)
  title!: string;

  @VarcharColumn(12)
  status!: PostStatus;

  @Column({ type: 'boolean', default: false })
  pinned!: boolean;

  @Column({ type: 'boolean', default: false })
  locked!: boolean;

  @Column({ type: 'integer', nullable: true })
  openingPostId!: number | null;

  /** A question's accepted answer (a reply of this thread), shown first. */
  @Column({ type: 'integer', nullable: true })
  acceptedPostId!: number | null;

  /** Visible replies, kept in step by the posting service. */
  @Column({ type: 'integer', default: 0 })
  replyCount!: number;

  /** The newest visible post's time: threads are listed newest activity first. */
  @DateTimeColumn()
  lastActivityAt!: Date;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn()
  updatedAt!: Date;
}

/** A post: a thread's opening text or a reply. */
@Entity('discussion_posts')
@Index('idx_discussion_posts_thread', ['threadId', 'status', 'createdAt'])
@Index('idx_discussion_posts_author', ['authorId', 'createdAt'])
@Index('idx_discussion_posts_status', ['status', 'createdAt'])
@Index('idx_discussion_posts_fan_out', ['fannedOutAt', 'status', 'createdAt'])
// InnoDB FULLTEXT over search_text, made by the migration on MySQL only; on SQLite an FTS5 table kept in step by
// triggers does the same (see migrations/1765300000000-discussions.ts and common/full-text.ts).
@Index('ft_discussion_posts_search', { synchronize: false })
export class DiscussionPost {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  threadId!: number;

  @ManyToOne(() => DiscussionThread, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'thread_id', foreignKeyConstraintName: 'fk_discussion_posts_thread' })
  thread?: DiscussionThread;

  @Column({ type: 'integer', nullable: true })
  authorId!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'author_id', foreignKeyConstraintName: 'fk_discussion_posts_author' })
  author?: unknown;

  @Column({ type: 'boolean', default: false })
  isOpening!: boolean;

  /** What the author wrote (Markdown). */
  @Column({ type: 'text' })
  body!: string;

  /** `body` rendered and sanitised once, when written (common/markdown.ts, with mentions linked). */
  @Column({ type: 'text' })
  bodyHtml!: string;

  /** What search matches: the thread's title and the body for an opening post, the body for a reply. */
  @Column({ type: 'text' })
  searchText!: string;

  /** The post this reply quotes, if any (of the same thread). */
  @Column({ type: 'integer', nullable: true })
  quotedPostId!: number | null;

  @VarcharColumn(12)
  status!: PostStatus;

  /** Why a post is held (`new-account`, `unverified`) or what a moderator said when hiding it. */
  @VarcharColumn(300, { nullable: true })
  statusReason!: string | null;

  @Column({ type: 'integer', default: 0 })
  helpfulCount!: number;

  @DateTimeColumn({ nullable: true })
  editedAt!: Date | null;

  /**
   * When the notifications of this post (followers, mentions) were handed out; null until then for a visible post.
   * The fan-out job sets it; the sweep finds visible posts still null and enqueues the job again.
   */
  @DateTimeColumn({ nullable: true })
  fannedOutAt!: Date | null;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn()
  updatedAt!: Date;
}

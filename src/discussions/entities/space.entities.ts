import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, VarcharColumn } from '../../database/columns';

/** What a space is the discussion of. A community is a topic space of its own; the others belong to a subject. */
export const SPACE_KINDS = ['course', 'lesson', 'webinar', 'exchange', 'community'] as const;
export type SpaceKind = (typeof SPACE_KINDS)[number];

/** Who may read a community: any signed-in member, or its approved members only. Subject spaces are always 'open' (their subject decides). */
export const SPACE_ACCESS = ['open', 'members'] as const;
export type SpaceAccess = (typeof SPACE_ACCESS)[number];

/**
 * Where threads live: the discussion of a course, a lesson, a webinar or an exchange item (made the first time it is
 * opened, one per subject by the unique key), or a community created by an administrator.
 */
@Entity('discussion_spaces')
@Index('uq_discussion_spaces_subject', ['kind', 'subjectId'], { unique: true })
@Index('uq_discussion_spaces_slug', ['slug'], { unique: true })
@Index('idx_discussion_spaces_kind_title', ['kind', 'title'])
export class DiscussionSpace {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @VarcharColumn(16)
  kind!: SpaceKind;

  /** The course, lesson, webinar or exchange item id; null for a community. */
  @Column({ type: 'integer', nullable: true })
  subjectId!: number | null;

  /** A lesson space's course (its visibility is the course's); null otherwise. */
  @Column({ type: 'integer', nullable: true })
  parentId!: number | null;

  /** A community's address (/communities/{slug}); null for subject spaces. */
  @VarcharColumn(120, { nullable: true })
  slug!: string | null;

  /** The community's name, or the subject's title when the space was made (shown until the subject's own title is read). */
  @VarcharColumn(200)
  title!: string;

  /** A community's description (Markdown source). */
  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @VarcharColumn(12, { default: 'open' })
  access!: SpaceAccess;

  /** Visible threads, kept in step by the posting service. */
  @Column({ type: 'integer', default: 0 })
  threadCount!: number;

  @Column({ type: 'integer', nullable: true })
  createdById!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by_id', foreignKeyConstraintName: 'fk_discussion_spaces_created_by' })
  createdBy?: unknown;

  @DateTimeColumn()
  createdAt!: Date;

  @DateTimeColumn()
  updatedAt!: Date;
}

export type MembershipStatus = 'requested' | 'member';
export type SpaceRole = 'member' | 'moderator';

/**
 * A person's place in a community: a request to join a members-only space (until its moderators approve it), a
 * member, or one of the space's moderators (appointed by an administrator).
 */
@Entity('discussion_space_members')
@Index('uq_discussion_space_members', ['spaceId', 'userId'], { unique: true })
@Index('idx_discussion_space_members_status', ['spaceId', 'status', 'requestedAt'])
@Index('idx_discussion_space_members_user', ['userId', 'status'])
export class DiscussionSpaceMember {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'integer' })
  spaceId!: number;

  @ManyToOne(() => DiscussionSpace, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'space_id', foreignKeyConstraintName: 'fk_discussion_space_members_space' })
  space?: DiscussionSpace;

  @Column({ type: 'integer' })
  userId!: number;

  @ManyToOne('User', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'fk_discussion_space_members_user' })
  user?: unknown;

  @VarcharColumn(12)
  status!: MembershipStatus;

  @VarcharColumn(12, { default: 'member' })
  role!: SpaceRole;

  @DateTimeColumn()
  requestedAt!: Date;

  @DateTimeColumn({ nullable: true })
  decidedAt!: Date | null;

  @Column({ type: 'integer', nullable: true })
  decidedById!: number | null;

  @ManyToOne('User', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'decided_by_id', foreignKeyConstraintName: 'fk_discussion_space_members_decided_by' })
  decidedBy?: unknown;
}

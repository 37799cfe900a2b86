import { DiscussionReport, DiscussionSuspension } from './moderation.entities';
import { ConductAcceptance, DiscussionFollow, DiscussionMention, DiscussionVote } from './participation.entities';
import { DiscussionSpace, DiscussionSpaceMember } from './space.entities';
import { DiscussionPost, DiscussionThread } from './thread.entities';

export * from './moderation.entities';
export * from './participation.entities';
export * from './space.entities';
export * from './thread.entities';

/** Every entity the discussions module owns, for TypeOrmModule.forFeature. */
export const DISCUSSION_ENTITIES = [
  DiscussionSpace,
  DiscussionSpaceMember,
  DiscussionThread,
  DiscussionPost,
  DiscussionVote,
  DiscussionFollow,
  DiscussionMention,
  ConductAcceptance,
  DiscussionReport,
  DiscussionSuspension,
];

import type { Provider, Type } from '@nestjs/common';
import { DiscussionAccess } from './discussion-access';
import { DiscussionSpaces } from './discussion-spaces';
import { DiscussionSubjects } from './discussion-subjects';
import { Follows } from './follows';
import { PostEvents } from './post-events';
import { PostingStanding } from './posting-standing';

/** What every part of the discussions module stands on: the subjects, who may read and moderate, finding spaces, follows, post events, posting standing. */
export const CORE_PROVIDERS: Provider[] = [DiscussionSubjects, DiscussionAccess, DiscussionSpaces, Follows, PostEvents, PostingStanding];
export const CORE_EXPORTS: Array<Type | string | symbol> = [DiscussionAccess, DiscussionSpaces, Follows, PostingStanding];

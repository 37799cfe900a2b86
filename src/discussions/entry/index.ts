import type { Provider, Type } from '@nestjs/common';
import { DiscussionEntry } from './discussion-entry';
import { DiscussionEntryPagesController } from './entry.pages.controller';

/** The entry part of discussions: each subject's discussion at an address under the subject's own, and finding it by subject. */
export const ENTRY_CONTROLLERS: Type[] = [DiscussionEntryPagesController];
export const ENTRY_PROVIDERS: Provider[] = [DiscussionEntry];
export const ENTRY_EXPORTS: Array<Type | string | symbol> = [];

import { AccountsAndMail1764000000000 } from './1764000000000-accounts-and-mail';

/** Every migration, in order. Listed here (not globbed) so ts and compiled runs load exactly the same set. */
export const migrations = [AccountsAndMail1764000000000];

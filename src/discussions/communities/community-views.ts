import { ROLE_LABELS } from '../../accounts/roles';
import { londonDate } from '../../common/london-time';
import { renderMarkdown } from '../../common/markdown';
import type { SpaceAccess } from '../entities';
import type { MembershipState, MemberView } from './communities.service';

/** How long a community's description may be on the list before it is cut (at a word). */
export const EXCERPT_MAX = 280;

export const ACCESS_LABELS: Record<SpaceAccess, string> = { open: 'Open to all members', members: 'Members only' };
export const ACCESS_HINTS: Record<SpaceAccess, string> = {
  open: 'Any signed-in member can read it, post and join it at once',
  members: 'People ask to join; its moderators approve them; only its members can read it',
};

export const MEMBERSHIP_LABELS: Record<Exclude<MembershipState, null>, string> = {
  member: 'You are a member',
  requested: 'Your request is waiting',
  moderator: 'You moderate it',
};

export const communityHref = (slug: string) => `/communities/${encodeURIComponent(slug)}`;

/** The page of the list a community is on, with the notice that says what happened to it. */
export const listHref = (page: number, notice: string, slug: string) => `/communities?${page > 1 ? `page=${page}&` : ''}notice=${notice}&community=${encodeURIComponent(slug)}#community-${slug}`;

/**
 * The start of a community's description for the list: its first paragraph (past any heading), cut at a word when it
 * is long, as sanitised HTML. Cutting Markdown may leave a link or emphasis unclosed; it then shows as plain text.
 */
export function descriptionExcerpt(source: string | null): string {
  if (!source || !source.trim()) return '';
  const blocks = source.trim().split(/\n\s*\n/);
  const first = blocks.find((b) => !/^\s{0,3}#/.test(b)) ?? blocks[0];
  let text = first.trim();
  if (text.length > EXCERPT_MAX) {
    const space = text.lastIndexOf(' ', EXCERPT_MAX);
    text = `${text.slice(0, space > EXCERPT_MAX / 2 ? space : EXCERPT_MAX).trimEnd()}…`;
  }
  return renderMarkdown(text, { demoteHeadings: true });
}

export const threadCountLabel = (count: number) => `${count.toLocaleString('en-GB')} ${count === 1 ? 'thread' : 'threads'}`;

/** A person on the members page, with their words. */
export const memberRow = (m: MemberView) => ({
  ...m,
  roleLabel: ROLE_LABELS[m.role] ?? m.role,
  joinedDate: m.joinedAt ? londonDate(m.joinedAt) : null,
  requestedDate: londonDate(m.requestedAt),
});

import type { CurrentUser } from './identity';
import type { Role } from './roles';

interface NavItem {
  href: string;
  text: string;
  roles?: Role[];
  /** Marks the item current on every page under this path (default: its href). */
  section?: string;
}

/** The header menu, by role. Pages a role cannot open are not offered to it. */
const ITEMS: NavItem[] = [
  { href: '/', text: 'Home' },
  { href: '/courses', text: 'Courses' },
  { href: '/webinars', text: 'Webinars', section: '/webinars' },
  { href: '/exchange', text: 'Exchange', section: '/exchange' },
  { href: '/peers', text: 'Peers', roles: ['learner', 'author', 'org_manager', 'moderator', 'admin'], section: '/peers' },
  { href: '/communities', text: 'Communities', roles: ['learner', 'author', 'org_manager', 'moderator', 'admin'], section: '/communities' },
  { href: '/my-learning', text: 'My learning', roles: ['learner', 'author', 'org_manager', 'moderator', 'admin'] },
  { href: '/my-certificates', text: 'Certificates', roles: ['learner', 'author', 'org_manager', 'moderator', 'admin'] },
  { href: '/author/courses', text: 'Authoring', roles: ['author', 'admin'], section: '/author' },
  { href: '/organisation', text: 'Organisation', roles: ['org_manager', 'admin'], section: '/organisation' },
  { href: '/moderation', text: 'Moderation', roles: ['moderator', 'admin'], section: '/moderation' },
  { href: '/admin', text: 'Admin', roles: ['admin'] },
];

export function navigationFor(user: CurrentUser | null, currentUrl: string) {
  const path = currentUrl.split('?')[0];
  return ITEMS.filter((item) => !item.roles || (user && item.roles.includes(user.role))).map(({ section, ...item }) => {
    const base = section ?? item.href;
    return { ...item, current: base === '/' ? path === '/' : path === base || path.startsWith(`${base}/`) };
  });
}

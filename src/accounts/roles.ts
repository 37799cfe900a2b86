export const ROLES = ['learner', 'author', 'org_manager', 'moderator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  learner: 'Learner',
  author: 'Author',
  org_manager: 'Organisation manager',
  moderator: 'Moderator',
  admin: 'Administrator',
};

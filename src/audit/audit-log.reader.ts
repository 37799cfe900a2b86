import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, Repository, SelectQueryBuilder } from 'typeorm';
import { FieldErrors, ValidationFailed } from '../common/errors';
import { londonToUtc } from '../common/london-time';
import { AuditEntry } from './audit-entry.entity';

export const AUDIT_PER_PAGE = 50;

/** What each action code means, in words, for the log's filter and its rows. Codes not listed show as they are. */
export const AUDIT_ACTION_LABELS: Record<string, string> = {
  'user.role_changed': 'Role changed',
  'user.deactivated': 'Account deactivated',
  'user.reactivated': 'Account reactivated',
  'user.password_reset_sent': 'Password reset link sent',
  'organisation.created': 'Organisation created',
  'organisation.updated': 'Organisation edited',
  'organisation.approved': 'Organisation approved',
  'organisation.declined': 'Organisation declined',
  'organisation.merged': 'Organisation merged',
  'organisation.domain_added': 'Verified domain added',
  'organisation.domain_removed': 'Verified domain removed',
  'organisation.manager_appointed': 'Manager appointed',
  'organisation.manager_removed': 'Manager removed',
  'organisation.exported': 'Staff compliance exported',
  'membership.approved': 'Request to join approved',
  'membership.declined': 'Request to join declined',
  'requirement.created': 'Required learning set',
  'requirement.updated': 'Required learning changed',
  'requirement.archived': 'Required learning archived',
  'certificate.revoked': 'Certificate revoked',
  'user.deleted': 'Account deleted by its holder',
  'audit.exported': 'Audit log exported',
  'exchange.published': 'Exchange item published by a moderator',
  'exchange.returned': 'Exchange item returned to its author with feedback',
  'exchange.withdrawn': 'Exchange item withdrawn',
  'exchange.system_added': 'System added to the exchange list',
  'exchange.system_changed': 'System on the exchange list renamed',
  'exchange.system_retired': 'System on the exchange list retired',
  'exchange.system_restored': 'System on the exchange list restored',
  'discussion.thread.pinned': 'Discussion thread pinned',
  'discussion.thread.unpinned': 'Discussion thread unpinned',
  'discussion.thread.locked': 'Discussion thread locked',
  'discussion.thread.unlocked': 'Discussion thread unlocked',
  'discussion.post.hidden': 'Discussion post hidden by a moderator',
  'discussion.post.restored': 'Discussion post restored by a moderator',
  'discussion.post.approved': 'Held discussion post approved',
  'discussion.reports.dismissed': 'Reports of a discussion post dismissed',
  'discussion.person.suspended': 'Person suspended from posting in discussions',
  'discussion.person.suspension-lifted': 'Suspension from posting in discussions lifted',
  'discussion.community.created': 'Discussion community created',
  'discussion.community.edited': 'Discussion community edited',
  'discussion.member.approved': 'Request to join a community approved',
  'discussion.member.declined': 'Request to join a community declined',
  'discussion.member.removed': 'Member removed from a community',
  'discussion.member.moderator-appointed': 'Community moderator appointed',
  'discussion.member.moderator-removed': 'Community moderator stood down',
};

/** The log's filters, as parsed from a query string. */
export interface AuditFilters {
  action?: string;
  /** An actor's account id, or words of the name they had. */
  actorId?: number;
  actorName?: string;
  /** `type:id` (`user:42`), or words of the target's label. */
  targetType?: string;
  targetId?: number;
  targetLabel?: string;
  /** Inclusive start and exclusive end, from London calendar days. */
  from?: Date;
  to?: Date;
}

/** The filters as typed, to put back in the form and in links. */
export interface AuditQuery {
  action?: string;
  actor?: string;
  target?: string;
  from?: string;
  to?: string;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A London calendar day ("2026-03-01") as it was typed, or null when it is no real day. */
function calendarDay(value: string): string | null {
  const match = DAY.exec(value);
  if (!match) return null;
  const [y, m, d] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d ? value : null;
}

const nextDay = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86400_000).toISOString().slice(0, 10);

/** Reads the filters from the query; a malformed one is refused with a message for its field. */
export function parseAuditQuery(query: AuditQuery): { filters: AuditFilters; values: Required<AuditQuery> } {
  const values = {
    action: String(query.action ?? '').trim().slice(0, 60),
    actor: String(query.actor ?? '').trim().slice(0, 120),
    target: String(query.target ?? '').trim().slice(0, 200),
    from: String(query.from ?? '').trim(),
    to: String(query.to ?? '').trim(),
  };
  const filters: AuditFilters = {};
  const errors: FieldErrors = {};
  if (values.action) {
    // Codes are dotted words of lower-case letters, underscores and hyphens (discussion.person.suspension-lifted).
    if (/^[a-z_-]+(\.[a-z_-]+)*$/.test(values.action)) filters.action = values.action;
    else errors.action = 'Choose an action from the list';
  }
  if (/^\d{1,10}$/.test(values.actor)) filters.actorId = Number(values.actor);
  else if (values.actor) filters.actorName = values.actor;
  const typed = /^([a-z_]{1,30}):(\d{1,10})$/.exec(values.target);
  if (typed) {
    filters.targetType = typed[1];
    filters.targetId = Number(typed[2]);
  } else if (values.target) filters.targetLabel = values.target;
  for (const field of ['from', 'to'] as const) {
    if (!values[field]) continue;
    const day = calendarDay(values[field]);
    if (!day) errors[field] = `Enter the ${field === 'from' ? 'first' : 'last'} day as a date like 2026-03-01`;
    else if (field === 'from') filters.from = londonToUtc(day, '00:00');
    else filters.to = londonToUtc(nextDay(day), '00:00');
  }
  if (filters.from && filters.to && filters.from >= filters.to) errors.to = 'The last day must be the same as or after the first day';
  if (Object.keys(errors).length) throw new ValidationFailed(errors);
  return { filters, values };
}

/**
 * Reads the audit log: newest first, filtered by action, actor, target and dates (each an index of audit_log's),
 * a page at a time for the page, or in keyset batches for the CSV export so memory stays flat however long it is.
 */
@Injectable()
export class AuditLogReader {
  constructor(@InjectRepository(AuditEntry) private readonly entries: Repository<AuditEntry>) {}

  async page(filters: AuditFilters, page = 1): Promise<{ entries: AuditEntry[]; hasNext: boolean; page: number }> {
    const current = Math.max(1, Math.min(page, 10_000));
    const rows = await this.filtered(filters)
      .orderBy('a.createdAt', 'DESC')
      .addOrderBy('a.id', 'DESC')
      .offset((current - 1) * AUDIT_PER_PAGE)
      .limit(AUDIT_PER_PAGE + 1)
      .getMany();
    return { entries: rows.slice(0, AUDIT_PER_PAGE), hasNext: rows.length > AUDIT_PER_PAGE, page: current };
  }

  /** Every matching entry, newest first, in batches read one after another. */
  async *batches(filters: AuditFilters, size = 500): AsyncGenerator<AuditEntry[]> {
    let after: { createdAt: Date; id: number } | null = null;
    for (;;) {
      const query = this.filtered(filters).orderBy('a.createdAt', 'DESC').addOrderBy('a.id', 'DESC').limit(size);
      if (after) {
        const last: { createdAt: Date; id: number } = after;
        query.andWhere(new Brackets((w) => w.where('a.createdAt < :lastAt', { lastAt: last.createdAt }).orWhere('a.createdAt = :lastAt AND a.id < :lastId', { lastId: last.id })));
      }
      const rows = await query.getMany();
      if (rows.length) yield rows;
      if (rows.length < size) return;
      after = { createdAt: rows[rows.length - 1].createdAt, id: rows[rows.length - 1].id };
    }
  }

  /** The action codes the log holds, for the filter's list. */
  async actions(): Promise<string[]> {
    const rows = await this.entries.createQueryBuilder('a').select('DISTINCT a.action', 'action').getRawMany<{ action: string }>();
    return [...new Set([...Object.keys(AUDIT_ACTION_LABELS), ...rows.map((r) => r.action)])].sort();
  }

  private filtered(filters: AuditFilters): SelectQueryBuilder<AuditEntry> {
    const query = this.entries.createQueryBuilder('a');
    const like = (text: string) => `%${text.toLowerCase().replace(/[!%_]/g, '!$&')}%`;
    if (filters.action) query.andWhere('a.action = :action', { action: filters.action });
    if (filters.actorId !== undefined) query.andWhere('a.actorId = :actorId', { actorId: filters.actorId });
    if (filters.actorName) query.andWhere(`LOWER(a.actorName) LIKE :actorName ESCAPE '!'`, { actorName: like(filters.actorName) });
    if (filters.targetType) query.andWhere('a.targetType = :targetType AND a.targetId = :targetId', { targetType: filters.targetType, targetId: filters.targetId });
    if (filters.targetLabel) query.andWhere(`LOWER(a.targetLabel) LIKE :targetLabel ESCAPE '!'`, { targetLabel: like(filters.targetLabel) });
    if (filters.from) query.andWhere('a.createdAt >= :from', { from: filters.from });
    if (filters.to) query.andWhere('a.createdAt < :to', { to: filters.to });
    return query;
  }
}

export const actionLabel = (action: string) => AUDIT_ACTION_LABELS[action] ?? action;

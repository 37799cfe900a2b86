import { Readable } from 'node:stream';
import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles, SignedInUser, type CurrentUser } from '../accounts/identity';
import { actionLabel, AuditLogReader, parseAuditQuery, type AuditFilters, type AuditQuery } from '../audit/audit-log.reader';
import type { AuditEntry } from '../audit/audit-entry.entity';
import { AuditTrail } from '../audit/audit-trail';
import { Clock } from '../common/clock';
import { csvCell } from '../common/csv';
import { errorView, formErrors } from '../common/forms';
import { londonDateTime, londonIsoDate } from '../common/london-time';
import { UnitOfWork } from '../database/unit-of-work';
import { pageNumber, pagingLinks } from './admin-pages';

const CSV_HEADER = ['When (UTC)', 'When (London)', 'Actor id', 'Actor', 'Action', 'Action code', 'Target type', 'Target id', 'Target', 'Details'];

/** One value of an entry's details in words: "from → to" for a change, JSON for anything nested. */
function detailText(value: unknown): string {
  if (value && typeof value === 'object' && !Array.isArray(value) && 'from' in value && 'to' in value) {
    const change = value as { from: unknown; to: unknown };
    return `${detailText(change.from)} → ${detailText(change.to)}`;
  }
  if (value === null || value === undefined || value === '') return 'none';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function detailsOf(entry: AuditEntry): Array<{ key: string; value: string }> {
  try {
    const parsed = JSON.parse(entry.details) as Record<string, unknown>;
    return Object.entries(parsed ?? {}).map(([key, value]) => ({ key, value: detailText(value) }));
  } catch {
    return [{ key: 'details', value: entry.details }];
  }
}

/** The audit log: every privileged action, newest first, with filters; and the same as a CSV file (itself audited). */
@ApiExcludeController()
@Roles('admin')
@Controller('admin')
export class AdminAuditController {
  constructor(
    private readonly reader: AuditLogReader,
    private readonly audit: AuditTrail,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
  ) {}

  @Get('audit')
  async log(@Query() query: AuditQuery & { page?: string }, @Res() reply: FastifyReply) {
    const raw = { action: query.action, actor: query.actor, target: query.target, from: query.from, to: query.to };
    let parsed: ReturnType<typeof parseAuditQuery>;
    try {
      parsed = parseAuditQuery(raw);
    } catch (err) {
      const errors = formErrors(err);
      const values = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === 'string' ? v : '']));
      return reply.status(400).view('admin/audit', { pageTitle: 'Error: Audit log', values, actions: await this.actionOptions(values.action), entries: [], ...errorView(errors, ['action', 'actor', 'target', 'from', 'to']) });
    }
    const { filters, values } = parsed;
    const result = await this.reader.page(filters, pageNumber(query.page));
    const exportQuery = new URLSearchParams(Object.entries(values).filter(([, v]) => v)).toString();
    return reply.view('admin/audit', {
      pageTitle: 'Audit log',
      values,
      filtered: Object.values(values).some(Boolean),
      actions: await this.actionOptions(values.action),
      entries: result.entries.map((e) => ({ ...e, actionLabel: actionLabel(e.action), details: detailsOf(e), when: londonDateTime(e.createdAt) })),
      page: result.page,
      csvHref: `/admin/audit.csv${exportQuery ? `?${exportQuery}` : ''}`,
      ...pagingLinks('/admin/audit', values, result.page, result.hasNext, 'the audit log'),
    });
  }

  @Get('audit.csv')
  async csv(@Query() query: AuditQuery, @SignedInUser() admin: CurrentUser, @Res() reply: FastifyReply) {
    const { filters, values } = parseAuditQuery({ action: query.action, actor: query.actor, target: query.target, from: query.from, to: query.to });
    const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v));
    await this.uow.run((tx) => this.audit.record(tx, admin, { action: 'audit.exported', target: { type: 'audit_log', id: null, label: 'Audit log' }, details: { filters: given } }));
    const name = `audit-log-${londonIsoDate(this.clock.now())}.csv`;
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(this.csvLines(filters)));
  }

  /** The file line by line, read from the log in batches: memory stays flat however long it is. */
  private async *csvLines(filters: AuditFilters): AsyncGenerator<string> {
    yield `\uFEFF${CSV_HEADER.map(csvCell).join(',')}\r\n`;
    for await (const batch of this.reader.batches(filters)) {
      yield batch
        .map((e) =>
          [e.createdAt.toISOString(), londonDateTime(e.createdAt), e.actorId, e.actorName, actionLabel(e.action), e.action, e.targetType, e.targetId, e.targetLabel, e.details].map(csvCell).join(','),
        )
        .map((line) => `${line}\r\n`)
        .join('');
    }
  }

  private async actionOptions(selected: string) {
    return (await this.reader.actions()).map((code) => ({ value: code, text: `${actionLabel(code)} (${code})`, selected: code === selected }));
  }
}

import { PassThrough, Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import ExcelJS from 'exceljs';
import type { CurrentUser } from '../accounts/identity';
import { AuditTrail } from '../audit/audit-trail';
import { Clock } from '../common/clock';
import { csvCell, type CsvValue } from '../common/csv';
import { londonIsoDate } from '../common/london-time';
import { slugify } from '../common/slug';
import { UnitOfWork } from '../database/unit-of-work';
import type { ComplianceStatus } from './compliance-rules';
import { ComplianceService, type LiveRequirement, type MemberCompliance } from './compliance.service';
import type { Organisation } from './entities/organisation.entity';

/**
 * The staff × requirements exports: one row per active member (by name) with their name, e-mail and job role, then
 * for each live requirement their status and a date (when they completed it, or when it is due). Both files are
 * streamed a page of members at a time, straight from ComplianceService's paged queries, so memory stays flat
 * whatever the size of the organisation. Each export is written to the audit log before the first byte goes.
 */

export type ExportFormat = 'csv' | 'xlsx';
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export const STATUS_WORDS: Record<ComplianceStatus, string> = { complete: 'Complete', due: 'Due', overdue: 'Overdue', not_due: 'Not due yet' };
export const NOT_REQUIRED = 'Not required';
const FIXED_HEADINGS = ['Name', 'E-mail', 'Job role'];

export interface ExportCell {
  status: string;
  /** When completed (status Complete) or due (otherwise), as a London day "YYYY-MM-DD"; null when neither. */
  date: string | null;
}

export interface ExportFile {
  filename: string;
  contentType: string;
  body: Readable;
}

/** The two headings of each requirement's columns. */
export function requirementHeadings(requirement: LiveRequirement): [string, string] {
  return [`${requirement.courseTitle}: status`, `${requirement.courseTitle}: completed or due`];
}

/** One member's cells, in the order of the requirements. */
export function exportCells(requirements: LiveRequirement[], person: MemberCompliance): ExportCell[] {
  const byId = new Map(person.requirements.map((s) => [s.requirementId, s]));
  return requirements.map((r) => {
    const standing = byId.get(r.id);
    if (!standing) return { status: NOT_REQUIRED, date: null };
    return { status: STATUS_WORDS[standing.status], date: standing.status === 'complete' ? standing.completedOn : standing.dueOn };
  });
}

/** A London day as a spreadsheet date (midnight UTC of that day, so the cell shows that day wherever it is opened). */
const spreadsheetDate = (day: string) => new Date(`${day}T00:00:00Z`);

@Injectable()
export class ComplianceExport {
  constructor(
    private readonly compliance: ComplianceService,
    private readonly audit: AuditTrail,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
  ) {}

  /** Records the export in the audit log, then returns the file to stream. */
  async export(viewer: CurrentUser, organisation: Organisation, format: ExportFormat): Promise<ExportFile> {
    const requirements = await this.compliance.liveRequirements(organisation.id);
    await this.uow.run((tx) =>
      this.audit.record(tx, viewer, {
        action: 'organisation.exported',
        target: { type: 'organisation', id: organisation.id, label: organisation.name },
        details: { what: 'compliance', format, requirements: requirements.map((r) => ({ id: r.id, courseId: r.courseId, courseTitle: r.courseTitle })) },
      }),
    );
    const filename = `compliance-${slugify(organisation.name, 60) || `organisation-${organisation.id}`}-${londonIsoDate(this.clock.now())}.${format}`;
    if (format === 'csv') return { filename, contentType: 'text/csv; charset=utf-8', body: Readable.from(this.csvChunks(organisation.id, requirements)) };
    return { filename, contentType: XLSX_TYPE, body: this.xlsx(organisation, requirements) };
  }

  /** RFC 4180 with a byte-order mark (common/csv.ts conventions: formula injection defused), a page of rows per chunk. */
  private async *csvChunks(organisationId: number, requirements: LiveRequirement[]): AsyncGenerator<string> {
    const line = (cells: CsvValue[]) => `${cells.map(csvCell).join(',')}\r\n`;
    yield `\uFEFF${line([...FIXED_HEADINGS, ...requirements.flatMap(requirementHeadings)])}`;
    for await (const page of this.compliance.memberPages(organisationId, requirements)) {
      yield page.map((person) => line([person.member.name, person.member.email, person.member.jobRole, ...exportCells(requirements, person).flatMap((c) => [c.status, c.date])])).join('');
    }
  }

  /**
   * The workbook through exceljs's streaming writer: each row is committed (written out and let go) as soon as it is
   * added, and between pages the writer waits while the reply has not taken what was written.
   */
  private xlsx(organisation: Organisation, requirements: LiveRequirement[]): Readable {
    const out = new PassThrough();
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
    workbook.creator = 'Peer Academy';
    workbook.created = this.clock.now();
    const sheet = workbook.addWorksheet('Compliance', { views: [{ state: 'frozen', ySplit: 1, xSplit: 1 }] });
    sheet.columns = [
      { header: 'Name', width: 28 },
      { header: 'E-mail', width: 34 },
      { header: 'Job role', width: 24 },
      ...requirements.flatMap(requirementHeadings).map((header, i) => (i % 2 ? { header, width: 16, style: { numFmt: 'yyyy-mm-dd' } } : { header, width: 18 })),
    ];
    sheet.getRow(1).font = { bold: true };
    const run = async () => {
      sheet.getRow(1).commit();
      for await (const page of this.compliance.memberPages(organisation.id, requirements)) {
        for (const person of page) {
          const cells = exportCells(requirements, person).flatMap((c) => [c.status, c.date === null ? null : spreadsheetDate(c.date)]);
          sheet.addRow([person.member.name, person.member.email, person.member.jobRole, ...cells]).commit();
        }
        if (out.writableNeedDrain) await new Promise((resolve) => out.once('drain', resolve));
      }
      sheet.commit();
      await workbook.commit();
    };
    run().catch((err) => out.destroy(err instanceof Error ? err : new Error(String(err))));
    return out;
  }
}

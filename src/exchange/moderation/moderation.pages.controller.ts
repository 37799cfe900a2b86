import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Roles, SignedInUser, type CurrentUser } from '../../accounts/identity';
import { DomainError, NotFound, ValidationFailed, type FieldErrors } from '../../common/errors';
import { errorView, formErrors, parseForm } from '../../common/forms';
import { renderMarkdown } from '../../common/markdown';
import { FileStorage } from '../../storage/file-storage';
import { serveFile } from '../../storage/serve-file';
import { REVIEW_CHECKLIST, REVIEW_CHECKS, SYSTEM_CATEGORIES, type ItemStatus, type RevisionStatus } from '../exchange-kinds';
import { QueueQueryDto } from './moderation.dto';
import { FILE_NOT_FOUND, ITEM_NOT_FOUND, itemPath, ModerationService, parseDecision, parseReason, REASON_MAX, REVISION_NOT_FOUND, FEEDBACK_MAX, type RevisionPage } from './moderation.service';
import { figureWords, kindLabel, type RevisionFile } from './revision-content';
import { parseSystem, SystemsService, SYSTEM_NOT_FOUND } from './systems.service';

/** A path segment read as an id: digits only (anything else is no id, and answers 404 with `message`). */
export function idOf(value: string, message: string): number {
  if (!/^[1-9]\d{0,9}$/.test(value)) throw new NotFound(message);
  return Number(value);
}

const NOTICES: Record<string, string> = {
  published: 'It is published. Its author has been e-mailed a link to it.',
  returned: 'It has been returned to its author with your feedback, by e-mail.',
  withdrawn: 'The item has been withdrawn: nobody but its author, its organisation’s managers and moderators can see it now. Its author has been told why.',
  'system-added': 'The system has been added to the list. Contributors and peers can choose it now.',
  'system-changed': 'The system’s details have been changed. Items that name it show the new name.',
  'system-unchanged': 'Nothing had changed, so nothing was saved.',
  'system-retired': 'The system is retired: items that name it keep it, and it is no longer offered for new ones.',
  'system-restored': 'The system is back on the list, offered for new contributions again.',
  'already-retired': 'That system was already retired.',
  'already-current': 'That system was already on the list.',
};

export const REVISION_TAGS: Record<RevisionStatus, { text: string; colour: string }> = {
  draft: { text: 'Draft', colour: 'grey' },
  submitted: { text: 'Waiting for review', colour: 'blue' },
  returned: { text: 'Returned to its author', colour: 'orange' },
  published: { text: 'Published', colour: 'green' },
  superseded: { text: 'Replaced by a newer revision', colour: 'grey' },
};

export const ITEM_TAGS: Record<ItemStatus, { text: string; colour: string }> = {
  draft: { text: 'Draft', colour: 'grey' },
  submitted: { text: 'Waiting for review', colour: 'blue' },
  returned: { text: 'Returned', colour: 'orange' },
  published: { text: 'Published', colour: 'green' },
  withdrawn: { text: 'Withdrawn', colour: 'red' },
};

const bytesText = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`);

/**
 * The moderators' pages: the queue, one revision with the decision form, a moderator's download of its files,
 * withdrawing an item, and the list of systems and suppliers. Moderators and administrators only (403 to everyone
 * else, before anything is looked up).
 */
@ApiExcludeController()
@Roles('moderator')
@Controller('moderation')
export class ModerationPagesController {
  constructor(
    private readonly moderation: ModerationService,
    private readonly systems: SystemsService,
    private readonly storage: FileStorage,
  ) {}

  @Get()
  async queue(@Query() raw: Record<string, unknown>, @Res() reply: FastifyReply) {
    let query: QueueQueryDto;
    try {
      query = await parseForm(QueueQueryDto, raw);
    } catch (err) {
      if (err instanceof ValidationFailed) throw new ValidationFailed(err.fieldErrors, `${Object.values(err.fieldErrors).join('. ')}.`);
      throw err;
    }
    const { entries, counts, page, pages } = await this.moderation.queue(query.page ?? 1);
    const pageLink = (n: number) => (n > 1 ? `/moderation?page=${n}` : '/moderation');
    return reply.view('exchange/moderation/queue', {
      pageTitle: page > 1 ? `Moderation (page ${page} of ${pages})` : 'Moderation',
      notice: typeof raw.notice === 'string' ? NOTICES[raw.notice] : undefined,
      counts,
      page,
      pages,
      entries: entries.map((e) => ({
        ...e,
        href: `/moderation/exchange/${e.revisionId}`,
        version: e.isRevision ? { text: `Revision ${e.number} of a published item`, colour: 'purple' } : { text: 'First version', colour: 'blue' },
      })),
      previous: page > 1 ? { href: pageLink(page - 1), title: `Page ${page - 1} of ${pages}` } : null,
      next: page < pages ? { href: pageLink(page + 1), title: `Page ${page + 1} of ${pages}` } : null,
    });
  }

  // ---- One revision ---------------------------------------------------------------------------------------

  @Get('exchange/:revisionId')
  async revision(@Param('revisionId') id: string, @Res() reply: FastifyReply) {
    const page = await this.moderation.revisionPage(idOf(id, REVISION_NOT_FOUND));
    return reply.view('exchange/moderation/revision', this.revisionView(page, {}));
  }

  @Post('exchange/:revisionId/decision')
  async decide(@Param('revisionId') id: string, @Body() body: Record<string, unknown>, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    const revisionId = idOf(id, REVISION_NOT_FOUND);
    try {
      const input = parseDecision(body);
      const outcome = await this.moderation.decide(moderator, revisionId, input);
      return reply.redirect(`/moderation?notice=${outcome.decision === 'publish' ? 'published' : 'returned'}`, 303);
    } catch (err) {
      const values = { checks: ([] as unknown[]).concat(body?.checks ?? []), feedback: typeof body?.feedback === 'string' ? body.feedback : '' };
      if (err instanceof DomainError && err.kind === 'conflict') {
        // Decided meanwhile (by another moderator, or by this form sent before): the page as it stands now, saying so.
        const page = await this.moderation.revisionPage(revisionId);
        return reply.status(409).view('exchange/moderation/revision', { ...this.revisionView(page, {}), pageTitle: `Error: Review ${page.revision.title}`, errorList: [{ href: '#decision-heading', text: err.message }] });
      }
      const errors = formErrors(err);
      const page = await this.moderation.revisionPage(revisionId);
      return reply.status(400).view('exchange/moderation/revision', { ...this.revisionView(page, values, errors), pageTitle: `Error: Review ${page.revision.title}` });
    }
  }

  @Get('exchange/:revisionId/files/:fileId')
  async file(@Param('revisionId') id: string, @Param('fileId') fileId: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const file = await this.moderation.fileOf(idOf(id, REVISION_NOT_FOUND), idOf(fileId, FILE_NOT_FOUND));
    reply.header('x-content-type-options', 'nosniff');
    return serveFile(this.storage, file.storageKey, request, reply, { contentType: file.contentType, downloadName: file.fileName });
  }

  private revisionView(page: RevisionPage, values: { checks?: unknown[]; feedback?: string }, errors: FieldErrors = {}) {
    const { revision, item, facts } = page;
    const base = `/moderation/exchange/${revision.id}`;
    const fileView = (f: RevisionFile | null) => (f ? { ...f, href: `${base}/files/${f.id}`, size: bytesText(f.bytes) } : null);
    const decidable = revision.status === 'submitted' && item.status !== 'withdrawn';
    const ticked = new Set((values.checks ?? []).map(String));
    return {
      pageTitle: `Review ${revision.title}`,
      revision: { id: revision.id, number: revision.number, title: revision.title, submittedAt: revision.submittedAt, decidedAt: revision.decidedAt, tag: REVISION_TAGS[revision.status] },
      item: { id: item.id, slug: item.slug, tag: ITEM_TAGS[item.status], withdrawn: item.status === 'withdrawn', publicHref: item.status === 'published' ? itemPath(item.slug) : null, withdrawHref: `/moderation/exchange/items/${item.id}/withdraw` },
      kindLabel: kindLabel(item.kind),
      organisationName: page.organisationName,
      authorName: page.authorName,
      decidedByName: page.decidedByName,
      feedbackHtml: revision.feedback ? renderMarkdown(revision.feedback, { demoteHeadings: true }) : null,
      checklistGiven: (revision.checklist ?? '').split(',').filter((c): c is keyof typeof REVIEW_CHECKLIST => Object.hasOwn(REVIEW_CHECKLIST, c)).map((c) => REVIEW_CHECKLIST[c]),
      facts: {
        ...facts,
        sections: facts.sections.filter((s) => s.markdown.trim()).map((s) => ({ ...s, html: renderMarkdown(s.markdown, { demoteHeadings: true }) })),
        figures: facts.figures.map((f) => ({ ...f, words: figureWords(f) })),
        attachments: facts.attachments.map(fileView),
        toolFile: fileView(facts.toolFile),
      },
      published: page.published ? { ...page.published, unchanged: !page.published.changes.length } : null,
      isRevision: !!page.published,
      history: page.history.map((h) => ({ ...h, tag: REVISION_TAGS[h.status], current: h.id === revision.id, href: `/moderation/exchange/${h.id}` })),
      decidable,
      action: `${base}/decision`,
      checks: REVIEW_CHECKS.map((code, i) => ({ code, id: i === 0 ? 'checks' : `checks-${code}`, label: REVIEW_CHECKLIST[code], checked: ticked.has(code) })),
      feedback: values.feedback ?? '',
      feedbackMax: FEEDBACK_MAX.toLocaleString('en-GB'),
      ...errorView(errors, ['decision', 'checks', 'feedback']),
    };
  }

  // ---- Withdrawing ----------------------------------------------------------------------------------------

  @Get('exchange/items/:itemId/withdraw')
  async withdrawForm(@Param('itemId') id: string, @Res() reply: FastifyReply) {
    const item = await this.moderation.itemSummary(idOf(id, ITEM_NOT_FOUND));
    return reply.view('exchange/moderation/withdraw', this.withdrawView(item, ''));
  }

  @Post('exchange/items/:itemId/withdraw')
  async withdraw(@Param('itemId') id: string, @Body() body: Record<string, unknown>, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    const itemId = idOf(id, ITEM_NOT_FOUND);
    try {
      await this.moderation.withdraw(moderator, itemId, parseReason(body?.reason));
      return reply.redirect('/moderation?notice=withdrawn', 303);
    } catch (err) {
      const item = await this.moderation.itemSummary(itemId);
      const reason = typeof body?.reason === 'string' ? body.reason : '';
      if (err instanceof DomainError && err.kind === 'conflict') {
        return reply.status(409).view('exchange/moderation/withdraw', { ...this.withdrawView(item, reason), pageTitle: `Error: Withdraw ${item.title}`, errorList: [{ href: '#reason', text: err.message }] });
      }
      const errors = formErrors(err);
      return reply.status(400).view('exchange/moderation/withdraw', { ...this.withdrawView(item, reason), ...errorView(errors, ['reason']), pageTitle: `Error: Withdraw ${item.title}` });
    }
  }

  private withdrawView(item: Awaited<ReturnType<ModerationService['itemSummary']>>, reason: string) {
    return {
      pageTitle: `Withdraw ${item.title}`,
      item: { ...item, kindLabel: kindLabel(item.kind), tag: ITEM_TAGS[item.status], withdrawn: item.status === 'withdrawn', publicHref: item.status === 'published' ? itemPath(item.slug) : null },
      backHref: item.latestRevisionId ? `/moderation/exchange/${item.latestRevisionId}` : '/moderation',
      action: `/moderation/exchange/items/${item.id}/withdraw`,
      reason,
      reasonMax: REASON_MAX.toLocaleString('en-GB'),
    };
  }

  // ---- Systems and suppliers ------------------------------------------------------------------------------

  @Get('systems')
  async systemsList(@Query('notice') notice: string | undefined, @Res() reply: FastifyReply) {
    const groups = await this.systems.list();
    return reply.view('exchange/moderation/systems', {
      pageTitle: 'Systems and suppliers',
      notice: notice ? NOTICES[notice] : undefined,
      groups: groups.map((g) => ({ ...g, systems: g.systems.map((s) => ({ ...s, editHref: `/moderation/systems/${s.id}/edit`, retireAction: `/moderation/systems/${s.id}/${s.retired ? 'restore' : 'retire'}` })) })),
      total: groups.reduce((n, g) => n + g.systems.length, 0),
    });
  }

  @Get('systems/new')
  newSystem(@Res() reply: FastifyReply) {
    return reply.view('exchange/moderation/system-form', this.systemFormView(null, {}));
  }

  @Post('systems/new')
  async addSystem(@Body() body: Record<string, unknown>, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    try {
      await this.systems.add(moderator, parseSystem(body));
      return reply.redirect('/moderation/systems?notice=system-added', 303);
    } catch (err) {
      const errors = formErrors(err);
      return reply.status(statusOf(err)).view('exchange/moderation/system-form', { ...this.systemFormView(null, body ?? {}), ...errorView(errors, ['name', 'supplier', 'category']), pageTitle: 'Error: Add a system' });
    }
  }

  @Get('systems/:systemId/edit')
  async editSystem(@Param('systemId') id: string, @Res() reply: FastifyReply) {
    const system = await this.systems.get(idOf(id, SYSTEM_NOT_FOUND));
    return reply.view('exchange/moderation/system-form', this.systemFormView(system, { name: system.name, supplier: system.supplier, category: system.category }));
  }

  @Post('systems/:systemId/edit')
  async changeSystem(@Param('systemId') id: string, @Body() body: Record<string, unknown>, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    const systemId = idOf(id, SYSTEM_NOT_FOUND);
    try {
      const changed = await this.systems.update(moderator, systemId, parseSystem(body));
      return reply.redirect(`/moderation/systems?notice=${changed ? 'system-changed' : 'system-unchanged'}`, 303);
    } catch (err) {
      const errors = formErrors(err);
      const system = await this.systems.get(systemId);
      return reply.status(statusOf(err)).view('exchange/moderation/system-form', { ...this.systemFormView(system, body ?? {}), ...errorView(errors, ['name', 'supplier', 'category']), pageTitle: `Error: Change ${system.name}` });
    }
  }

  @Post('systems/:systemId/retire')
  async retire(@Param('systemId') id: string, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    const { changed } = await this.systems.setRetired(moderator, idOf(id, SYSTEM_NOT_FOUND), true);
    return reply.redirect(`/moderation/systems?notice=${changed ? 'system-retired' : 'already-retired'}`, 303);
  }

  @Post('systems/:systemId/restore')
  async restore(@Param('systemId') id: string, @SignedInUser() moderator: CurrentUser, @Res() reply: FastifyReply) {
    const { changed } = await this.systems.setRetired(moderator, idOf(id, SYSTEM_NOT_FOUND), false);
    return reply.redirect(`/moderation/systems?notice=${changed ? 'system-restored' : 'already-current'}`, 303);
  }

  private systemFormView(system: { id: number; name: string } | null, values: Record<string, unknown>) {
    const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : '');
    return {
      pageTitle: system ? `Change ${system.name}` : 'Add a system',
      editing: !!system,
      systemName: system?.name,
      action: system ? `/moderation/systems/${system.id}/edit` : '/moderation/systems/new',
      values: { name: text('name'), supplier: text('supplier') },
      categories: Object.entries(SYSTEM_CATEGORIES).map(([value, label]) => ({ value, text: label, selected: value === text('category') })),
    };
  }
}

const statusOf = (err: unknown) => (err instanceof DomainError && err.kind === 'conflict' ? 409 : 400);

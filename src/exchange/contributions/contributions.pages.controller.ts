import { Body, Controller, Get, Param, ParseIntPipe, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { UploadTooLarge } from '../../catalogue/authoring/uploads';
import { FieldErrors, NotFound } from '../../common/errors';
import { errorView, formErrors } from '../../common/forms';
import { londonDate } from '../../common/london-time';
import { renderMarkdown } from '../../common/markdown';
import { readMultipartHead, type PendingUpload } from '../../common/multipart';
import type { AppConfig } from '../../config/config';
import { InjectConfig } from '../../config/config.module';
import type { ExchangeItem } from '../entities/exchange-item.entity';
import type { ExchangeRevision } from '../entities/exchange-revision.entity';
import { EXCHANGE_KINDS, HACK_MAX_CHARACTERS, type ExchangeKind } from '../exchange-kinds';
import { ContributionForms } from './contribution-form';
import { KIND_SEGMENTS, kindForSegment, kindLower, kindWithArticle, LIMITS } from './contribution-rules';
import { ContributionsReader, fileView, NO_SUCH_ITEM, sizeText } from './contributions.reader';
import { ATTACHMENT_RULE, ContributionsService, TOOL_FILE_RULE } from './contributions.service';
import { ExchangeAccess, NotAMember } from './exchange-access';
import { ITEM_STATUS_TAGS, REVISION_STATUS_TAGS } from './item-view';

const fileId = new ParseIntPipe({ exceptionFactory: () => new NotFound('That file is not attached to it') });

/** The order the forms ask their questions in, for the error summary. */
const FIELD_ORDER = [
  'organisationId',
  'title',
  'summary',
  'toolType',
  'partners',
  'careSetting',
  'context',
  'actions',
  'results',
  ...Array.from({ length: LIMITS.keyFigures }, (_, i) => ['Label', 'Before', 'After', 'Unit'].map((f) => `figure${f}-${i + 1}`)).flat(),
  'lessons',
  'differently',
  'purpose',
  'howToUse',
  'licence',
  'tip',
  'systems',
  'topics',
  'changeNote',
  'file',
];

const KIND_INTRODUCTIONS: Record<ExchangeKind, string> = {
  case_study: 'What your organisation changed, how, and what happened: the context and the problem, what was done, the results (with figures where there are any), the lessons learnt and what you would do differently.',
  tool: 'Something others can use: a template, checklist, spreadsheet, policy or script, with what it is for, how to use it and the licence it is shared under.',
  hack: `A short practical tip (at most ${HACK_MAX_CHARACTERS.toLocaleString('en-GB')} characters) that saves others time.`,
};

const ATTACHMENT_NOTICES: Record<string, string> = {
  added: 'The file has been attached.',
  removed: 'The file has been removed.',
};

/**
 * Writing contributions: choosing a kind, the form of each kind (new and edit), submitting, withdrawing, the
 * attachments of a draft, and "My contributions". Only signed-in members of an organisation write; someone who
 * belongs to none is told how to join one. The forms work without JavaScript and keep what was typed on an error.
 */
@ApiExcludeController()
@Controller('exchange')
export class ContributionsPagesController {
  constructor(
    private readonly contributions: ContributionsService,
    private readonly forms: ContributionForms,
    private readonly reader: ContributionsReader,
    private readonly access: ExchangeAccess,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  // ---------------------------------------------------------------- new

  @Get('new')
  async choose(@SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    return this.membersOnly(reply, async () => {
      await this.access.requireSharingOrganisations(user.id);
      return reply.view('exchange/contributions/new', {
        pageTitle: 'Share with the exchange',
        kinds: (Object.keys(EXCHANGE_KINDS) as ExchangeKind[]).map((kind) => ({ href: `/exchange/new/${KIND_SEGMENTS[kind]}`, label: EXCHANGE_KINDS[kind], text: KIND_INTRODUCTIONS[kind] })),
      });
    });
  }

  @Get('new/:kind')
  async newForm(@Param('kind') segment: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const kind = this.kindOf(segment);
    return this.membersOnly(reply, async () => {
      const organisations = await this.access.requireSharingOrganisations(user.id);
      return this.renderForm(reply, { kind, mode: 'new', organisations, values: { organisationId: organisations.length === 1 ? String(organisations[0].id) : '' }, errors: {} });
    });
  }

  @Post('new/:kind')
  async create(@Param('kind') segment: string, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const kind = this.kindOf(segment);
    return this.membersOnly(reply, async () => {
      const upload = await this.upload(request);
      try {
        const item = await this.contributions.create(user, kind, upload.fields, kind === 'tool' ? upload : null);
        return reply.redirect(`/exchange/${item.slug}?notice=created`, 303);
      } catch (err) {
        const errors = formErrors(err);
        const organisations = await this.access.requireSharingOrganisations(user.id);
        return this.renderForm(reply.status(err instanceof UploadTooLarge ? 413 : 400), { kind, mode: 'new', organisations, values: upload.fields, errors, fileChosen: !!upload.file?.filename });
      }
    });
  }

  // ---------------------------------------------------------------- mine

  @Get('mine')
  async mine(@SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const [items, organisations] = await Promise.all([this.contributions.mine(user.id), this.access.sharingOrganisations(user.id)]);
    return reply.view('exchange/contributions/mine', {
      pageTitle: 'My contributions',
      canShare: organisations.length > 0,
      items: items.map((i) => {
        const newer = i.status === 'published' && i.latest.status !== 'published' ? REVISION_STATUS_TAGS[i.latest.status] : null;
        return {
          ...i,
          href: `/exchange/${i.slug}${newer ? '?revision=latest' : ''}`,
          kindLabel: EXCHANGE_KINDS[i.kind],
          tag: ITEM_STATUS_TAGS[i.status],
          newer: newer ? { number: i.latest.number, ...newer } : null,
          reviewDate: i.reviewDueAt ? londonDate(i.reviewDueAt) : null,
          updatedDate: londonDate(i.updatedAt),
          isTool: i.kind === 'tool',
        };
      }),
    });
  }

  // ---------------------------------------------------------------- edit

  @Get(':slug/edit')
  async edit(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const { item, revision } = await this.contributions.forEditing(user, slug);
    return this.renderEdit(reply, item, revision, null, {});
  }

  @Post(':slug/edit')
  async save(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const upload = await this.upload(request);
    try {
      const { item, outcome } = await this.contributions.update(user, slug, upload.fields, upload);
      const latest = item.publishedRevisionId !== null && outcome !== 'unchanged' ? 'revision=latest&' : '';
      return reply.redirect(`/exchange/${item.slug}?${latest}notice=${outcome}`, 303);
    } catch (err) {
      const errors = formErrors(err);
      const { item, revision } = await this.contributions.forEditing(user, slug);
      return this.renderEdit(reply.status(err instanceof UploadTooLarge ? 413 : 400), item, revision, upload.fields, errors, !!upload.file?.filename);
    }
  }

  @Post(':slug/submit')
  async submit(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    try {
      const item = await this.contributions.submit(user, slug);
      return reply.redirect(`/exchange/${item.slug}${item.publishedRevisionId ? '?revision=latest&' : '?'}notice=submitted`, 303);
    } catch (err) {
      const errors = formErrors(err);
      const { item, revision } = await this.contributions.forEditing(user, slug);
      return this.renderEdit(reply.status(400), item, revision, null, errors, false, `Before you submit this ${kindLower(item.kind)}, fill in what it still lacks and save it.`);
    }
  }

  // ---------------------------------------------------------------- withdraw

  @Get(':slug/withdraw')
  async confirmWithdraw(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const { item, revision } = await this.contributions.forEditing(user, slug);
    return reply.view('exchange/contributions/withdraw', {
      pageTitle: `Withdraw “${revision.title}”?`,
      title: revision.title,
      kindLower: kindLower(item.kind),
      slug: item.slug,
      published: item.status === 'published',
      alreadyWithdrawn: item.status === 'withdrawn',
    });
  }

  @Post(':slug/withdraw')
  async withdraw(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const item = await this.contributions.withdraw(user, slug);
    return reply.redirect(`/exchange/${item.slug}?notice=withdrawn`, 303);
  }

  // ---------------------------------------------------------------- attachments

  @Get(':slug/attachments')
  async attachments(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply, @Req() request: FastifyRequest) {
    const notice = (request.query as Record<string, unknown>)?.notice;
    return this.renderAttachments(reply, user, slug, { notice: typeof notice === 'string' ? ATTACHMENT_NOTICES[notice] : undefined });
  }

  @Post(':slug/attachments')
  async addAttachment(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const upload = await this.upload(request);
    try {
      await this.contributions.addAttachment(user, slug, upload);
      return reply.redirect(`/exchange/${slug}/attachments?notice=added`, 303);
    } catch (err) {
      const errors = formErrors(err);
      return this.renderAttachments(reply.status(err instanceof UploadTooLarge ? 413 : 400), user, slug, { errors });
    }
  }

  @Post(':slug/attachments/:fileId/remove')
  async removeAttachment(@Param('slug') slug: string, @Param('fileId', fileId) id: number, @SignedInUser() user: CurrentUser, @Body() _body: unknown, @Res() reply: FastifyReply) {
    await this.contributions.removeAttachment(user, slug, id);
    return reply.redirect(`/exchange/${slug}/attachments?notice=removed`, 303);
  }

  // ---------------------------------------------------------------- views

  private kindOf(segment: string): ExchangeKind {
    const kind = kindForSegment(segment);
    if (!kind) throw new NotFound('There is no such kind of contribution: choose a case study, a tool or a hack');
    return kind;
  }

  /** Runs a page for members only: someone who belongs to no organisation gets the page that says how to join one. */
  private async membersOnly(reply: FastifyReply, page: () => Promise<FastifyReply>): Promise<FastifyReply> {
    try {
      return await page();
    } catch (err) {
      if (!(err instanceof NotAMember)) throw err;
      return reply.status(403).view('exchange/contributions/not-a-member', { pageTitle: 'You need to belong to an organisation first', message: err.message });
    }
  }

  /** The multipart form's fields and its file part, still unread (the CSRF guard has read the fields). */
  private async upload(request: FastifyRequest): Promise<PendingUpload> {
    if (request.pendingUpload) return request.pendingUpload;
    if (typeof request.isMultipart === 'function' && request.isMultipart()) return readMultipartHead(request);
    return { fields: (request.body as Record<string, string | string[]>) ?? {}, file: null };
  }

  private async renderEdit(reply: FastifyReply, item: ExchangeItem, revision: ExchangeRevision, posted: Record<string, unknown> | null, errors: FieldErrors, fileChosen = false, lead?: string) {
    const stored = await this.forms.valuesOf(revision, item.organisationId);
    const inPlace = revision.status === 'draft' || revision.status === 'returned';
    if (inPlace && revision.number > 1) stored.changeNote = revision.changeNote ?? '';
    const detail = await this.reader.describe(item, revision, { privileged: true, newer: null, viewer: null });
    return this.renderForm(reply, {
      kind: item.kind,
      mode: 'edit',
      item,
      revision,
      organisationName: detail.organisation?.name ?? null,
      values: posted ?? stored,
      errors,
      fileChosen,
      lead,
      nextRevision: inPlace ? null : revision.number + 1,
      withdrawn: item.status === 'withdrawn',
      waiting: revision.status === 'submitted',
      feedback: revision.status === 'returned' && revision.feedback ? renderMarkdown(revision.feedback, { demoteHeadings: true }) : null,
      toolFile: detail.toolFile,
    });
  }

  private async renderForm(
    reply: FastifyReply,
    options: {
      kind: ExchangeKind;
      mode: 'new' | 'edit';
      organisations?: Array<{ id: number; name: string }>;
      organisationName?: string | null;
      item?: ExchangeItem;
      revision?: ExchangeRevision;
      values: Record<string, unknown>;
      errors: FieldErrors;
      fileChosen?: boolean;
      lead?: string;
      nextRevision?: number | null;
      withdrawn?: boolean;
      waiting?: boolean;
      feedback?: string | null;
      toolFile?: ReturnType<typeof fileView> | null;
    },
  ) {
    const { kind, mode, values, errors } = options;
    const form = await this.forms.view(kind, values, errors, options.revision ?? null);
    const chosenOrganisation = typeof values.organisationId === 'string' ? values.organisationId : '';
    const organisations = options.organisations ?? [];
    const label = EXCHANGE_KINDS[kind];
    const heading = mode === 'new' ? `Share ${kindWithArticle(kind)}` : `Change ${options.revision?.title ?? `your ${kindLower(kind)}`}`;
    const hasErrors = Object.keys(errors).length > 0;
    const maxMb = Math.floor(this.config.uploads.maxBytes / (1024 * 1024));
    return reply.view('exchange/contributions/form', {
      pageTitle: `${hasErrors ? 'Error: ' : ''}${heading}`,
      heading,
      caption: mode === 'new' ? 'The exchange' : label,
      kindLabel: label,
      kindLower: kindLower(kind),
      isNew: mode === 'new',
      isCaseStudy: kind === 'case_study',
      isTool: kind === 'tool',
      isHack: kind === 'hack',
      action: mode === 'new' ? `/exchange/new/${KIND_SEGMENTS[kind]}` : `/exchange/${options.item!.slug}/edit`,
      multipart: kind === 'tool',
      itemHref: options.item ? `/exchange/${options.item.slug}${options.item.publishedRevisionId ? '?revision=latest' : ''}` : null,
      attachmentsHref: options.item && kind !== 'tool' ? `/exchange/${options.item.slug}/attachments` : null,
      organisationChoices:
        mode === 'new' && organisations.length > 1 ? organisations.map((o, i) => ({ id: i === 0 ? 'organisationId' : `organisationId-${i + 1}`, value: String(o.id), text: o.name, checked: chosenOrganisation === String(o.id) })) : null,
      organisationName: mode === 'new' ? (organisations.length === 1 ? organisations[0].name : null) : options.organisationName,
      ...form,
      ...errorView(errors, FIELD_ORDER),
      lead: options.lead,
      showChangeNote: mode === 'edit' && (options.nextRevision !== null || (options.revision?.number ?? 1) > 1),
      nextRevision: options.nextRevision ?? null,
      blocked: options.withdrawn ? 'It has been withdrawn, so it can no longer be changed.' : options.waiting ? `It is waiting for a moderator to review it. You can change it again once they have published it or sent it back.` : null,
      feedback: options.feedback ?? null,
      toolFile: options.toolFile ?? null,
      fileLabel: mode === 'new' ? 'The tool’s file' : 'Upload a new version (optional)',
      fileHint: `${TOOL_FILE_RULE.description[0].toUpperCase()}${TOOL_FILE_RULE.description.slice(1)}, up to ${maxMb} MB.${options.fileChosen && hasErrors ? ' Select the file again: for your security, a browser does not keep it after a problem.' : ''}`,
      tipHint: `Keep it short and practical: at most ${HACK_MAX_CHARACTERS.toLocaleString('en-GB')} characters${form.tipCount ? ` (this has ${form.tipCount.toLocaleString('en-GB')})` : ''}. You can use Markdown for links and lists.`,
      submitLabel: mode === 'new' ? 'Save as a draft' : options.nextRevision ? `Save as revision ${options.nextRevision}` : 'Save changes',
      maxMb,
    });
  }

  private async renderAttachments(reply: FastifyReply, user: CurrentUser, slug: string, options: { notice?: string; errors?: FieldErrors }) {
    const { item, revision } = await this.contributions.forEditing(user, slug);
    if (item.kind === 'tool') throw new NotFound(NO_SUCH_ITEM);
    const files = await this.reader.attachmentsOf(item.slug, revision.id);
    const changeable = item.status !== 'withdrawn' && revision.status !== 'submitted';
    const maxMb = Math.floor(this.config.uploads.maxBytes / (1024 * 1024));
    return reply.view('exchange/contributions/attachments', {
      pageTitle: `${options.errors ? 'Error: ' : ''}Attachments: ${revision.title}`,
      title: revision.title,
      kindLower: kindLower(item.kind),
      slug: item.slug,
      itemHref: `/exchange/${item.slug}${item.publishedRevisionId ? '?revision=latest' : ''}`,
      notice: options.notice,
      files: files.map((f) => ({ ...f, removeAction: `/exchange/${item.slug}/attachments/${f.id}/remove` })),
      changeable,
      blocked: item.status === 'withdrawn' ? 'It has been withdrawn, so its attachments can no longer be changed.' : revision.status === 'submitted' ? 'It is waiting for a moderator to review it: you can change its attachments once they have published it or sent it back.' : null,
      startsRevision: revision.status === 'published' ? revision.number + 1 : null,
      full: files.length >= LIMITS.attachments,
      maxAttachments: LIMITS.attachments,
      fileHint: `${ATTACHMENT_RULE.description[0].toUpperCase()}${ATTACHMENT_RULE.description.slice(1)}, up to ${maxMb} MB.`,
      sizeOfAll: sizeText(files.reduce((n, f) => n + f.bytes, 0)),
      ...errorView(options.errors ?? {}, ['file']),
    });
  }
}

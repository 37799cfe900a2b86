import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public, SignedInUser, type CurrentUser } from '../../accounts/identity';
import { chartWithTable } from '../../common/charts';
import { ValidationFailed } from '../../common/errors';
import { errorView, formErrors, parseForm } from '../../common/forms';
import { londonDate } from '../../common/london-time';
import { EXCHANGE_KINDS } from '../exchange-kinds';
import { AdoptionFormDto, ADOPTION_NOTE_MAX_LENGTH, CHOOSE_ORGANISATION, PageQueryDto, SavedQueryDto, SignalRemovalFormDto } from './signals.dto';
import { NOT_A_MEMBER, OWN_ORGANISATION, SignalsService, type AdopterView, type Paged, type UsageReport } from './signals.service';

const SAVED_NOTICES: Record<string, string> = { unsaved: 'Removed from My saved.' };

const itemHref = (slug: string) => `/exchange/${encodeURIComponent(slug)}`;
/** Back to the item's panel, with the banner that says what happened. */
const backToItem = (slug: string, signal: string) => `${itemHref(slug)}?signal=${signal}#signals`;

const pagination = (result: Paged<unknown>, link: (page: number) => string) => ({
  previous: result.page > 1 ? { href: link(result.page - 1), title: `Page ${result.page - 1} of ${result.pages}` } : null,
  next: result.page < result.pages ? { href: link(result.page + 1), title: `Page ${result.page + 1} of ${result.pages}` } : null,
});

const adopterRow = (a: AdopterView) => ({ ...a, adoptedDate: londonDate(a.createdAt), changedDate: a.updatedAt.getTime() !== a.createdAt.getTime() ? londonDate(a.updatedAt) : null });

/** The chart of adoptions per month and the same figures as a table. */
export function adoptionsChart(report: Pick<UsageReport, 'months' | 'adoptionsBeforeChart'>) {
  const months = report.months;
  const total = months.reduce((sum, m) => sum + m.adoptions, 0);
  const busiest = months.reduce((best, m) => (m.adoptions > best.adoptions ? m : best), months[0]);
  const span = months.length === 1 ? months[0].label : `from ${months[0].label} to ${months[months.length - 1].label}`;
  const description =
    total === 0
      ? `No organisation recorded an adoption ${months.length === 1 ? 'in' : 'in the months'} ${span}.`
      : `Organisations that recorded an adoption in each month ${span}: ${total} in all, the most (${busiest.adoptions}) in ${busiest.label}.`;
  return chartWithTable({ id: 'adoptions-chart', title: 'Adoptions per month', description, bars: months.map((m) => ({ label: m.label, value: m.adoptions })) }, { label: 'Month', value: 'Adoptions' });
}

/**
 * The peer signals' pages: the forms behind the item page's signals panel (helpful, save, adoption, and taking each
 * back), each redirecting to the item with a banner; the adoption form; every organisation that adopted an item;
 * "My saved"; and, for its author, its organisation's managers and moderators, how an item is used. Every form works
 * without JavaScript and carries the CSRF token; the service does the checks.
 */
@ApiExcludeController()
@Controller('exchange')
export class SignalsPagesController {
  constructor(private readonly signals: SignalsService) {}

  // ---- My saved --------------------------------------------------------------------------------------------

  @Get('saved')
  async saved(@SignedInUser() user: CurrentUser, @Query() raw: Record<string, string>, @Res() reply: FastifyReply) {
    const query = await parseForm(SavedQueryDto, raw);
    const result = await this.signals.saved(user.id, query.page ?? 1);
    return reply.view('exchange/signals/saved', {
      pageTitle: result.pages > 1 ? `My saved (page ${result.page} of ${result.pages})` : 'My saved',
      notice: query.notice && Object.hasOwn(SAVED_NOTICES, query.notice) ? SAVED_NOTICES[query.notice] : undefined,
      result,
      items: result.items.map((card) => ({ ...card, href: itemHref(card.slug), savedDate: londonDate(card.savedAt), publishedDate: card.publishedAt ? londonDate(card.publishedAt) : null })),
      ...pagination(result, (page) => `/exchange/saved?page=${page}`),
    });
  }

  // ---- Helpful and saves -----------------------------------------------------------------------------------

  @Post(':slug/helpful')
  async markHelpful(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const { item } = await this.signals.markHelpful(user, slug);
    return reply.redirect(backToItem(item.slug, 'helpful'), 303);
  }

  @Post(':slug/helpful/remove')
  async unmarkHelpful(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const { item } = await this.signals.unmarkHelpful(user, slug);
    return reply.redirect(backToItem(item.slug, 'unhelpful'), 303);
  }

  @Post(':slug/save')
  async save(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const { item } = await this.signals.save(user, slug);
    return reply.redirect(backToItem(item.slug, 'saved'), 303);
  }

  @Post(':slug/save/remove')
  async unsave(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Body() body: Record<string, string>, @Res() reply: FastifyReply) {
    const form = await parseForm(SignalRemovalFormDto, body);
    const { item } = await this.signals.unsave(user, slug);
    // From My saved, back to the same page of it.
    if (form.from === 'saved') return reply.redirect(`/exchange/saved?${form.page && form.page > 1 ? `page=${form.page}&` : ''}notice=unsaved`, 303);
    return reply.redirect(backToItem(item.slug, 'unsaved'), 303);
  }

  // ---- Adoptions -------------------------------------------------------------------------------------------

  @Get(':slug/adoption')
  async adoptionForm(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Query() raw: Record<string, string>, @Res() reply: FastifyReply) {
    const item = await this.signals.published(slug);
    const chosen = Number.parseInt(raw?.organisationId ?? '', 10);
    return reply.view('exchange/signals/adoption', await this.adoptionView(user, slug, Number.isSafeInteger(chosen) ? { organisationId: chosen } : {}, {}, item));
  }

  @Post(':slug/adoption')
  async adopt(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Body() body: Record<string, string>, @Res() reply: FastifyReply) {
    const values = { organisationId: body?.organisationId, note: typeof body?.note === 'string' ? body.note : undefined };
    try {
      const form = await parseForm(AdoptionFormDto, body);
      const { outcome, item } = await this.signals.adopt(user, slug, { organisationId: form.organisationId, note: form.note });
      return reply.redirect(backToItem(item.slug, outcome === 'created' ? 'adopted' : outcome === 'updated' ? 'adoption_updated' : 'adoption_unchanged'), 303);
    } catch (err) {
      const errors = formErrors(err);
      const chosen = Number.parseInt(String(values.organisationId ?? ''), 10);
      const view = await this.adoptionView(user, slug, { organisationId: Number.isSafeInteger(chosen) ? chosen : undefined, note: values.note }, errors);
      return reply.status(400).view('exchange/signals/adoption', view);
    }
  }

  @Post(':slug/adoption/remove')
  async withdrawAdoption(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Body() body: Record<string, string>, @Res() reply: FastifyReply) {
    const form = await parseForm(SignalRemovalFormDto, body);
    if (form.organisationId === undefined) throw new ValidationFailed({ organisationId: 'Choose the organisation whose adoption to withdraw' }, 'Choose the organisation whose adoption to withdraw');
    const { item } = await this.signals.withdrawAdoption(user, slug, form.organisationId);
    return reply.redirect(backToItem(item.slug, 'adoption_withdrawn'), 303);
  }

  /** Every organisation that adopted the item, newest first, with their notes (public, like the item). */
  @Public()
  @Get(':slug/adoptions')
  async adopters(@Param('slug') slug: string, @Query() raw: Record<string, string>, @Res() reply: FastifyReply) {
    const query = await parseForm(PageQueryDto, raw);
    const item = await this.signals.published(slug);
    const result = await this.signals.adopters(item, query.page ?? 1);
    return reply.view('exchange/signals/adoptions', {
      pageTitle: `Organisations that adopted ${item.title}`,
      item: { slug: item.slug, title: item.title, href: itemHref(item.slug), kindLabel: EXCHANGE_KINDS[item.kind] },
      result,
      adopters: result.items.map(adopterRow),
      ...pagination(result, (page) => `${itemHref(item.slug)}/adoptions?page=${page}`),
    });
  }

  // ---- Usage -----------------------------------------------------------------------------------------------

  @Get(':slug/usage')
  async usage(@Param('slug') slug: string, @SignedInUser() user: CurrentUser, @Res() reply: FastifyReply) {
    const report = await this.signals.usage(user, slug);
    const { item, counts } = report;
    return reply.view('exchange/signals/usage', {
      pageTitle: `How ${item.title || 'your contribution'} is used`,
      item: { slug: item.slug, title: item.title || 'Not yet published', href: itemHref(item.slug), kindLabel: EXCHANGE_KINDS[item.kind], published: item.status === 'published', isTool: item.kind === 'tool' },
      counts,
      toolVersions: report.toolVersions.map((v) => ({ ...v, uploadedDate: londonDate(v.uploadedAt) })),
      attachments: report.attachments.map((a) => ({ ...a, uploadedDate: londonDate(a.uploadedAt) })),
      adopters: report.adopters.map(adopterRow),
      chart: adoptionsChart(report),
      adoptionsBeforeChart: report.adoptionsBeforeChart,
      firstMonth: report.months[0]?.label,
    });
  }

  // ---- Views -----------------------------------------------------------------------------------------------

  private async adoptionView(user: CurrentUser, slug: string, values: { organisationId?: number; note?: string }, errors: Record<string, string>, known?: Awaited<ReturnType<SignalsService['published']>>) {
    const item = known ?? (await this.signals.published(slug));
    const { isMember, organisations } = await this.signals.adoptingOrganisations(user.id, item);
    const chosen = organisations.find((o) => o.id === values.organisationId) ?? (organisations.length === 1 ? organisations[0] : undefined);
    const note = values.note ?? chosen?.adoption?.note ?? '';
    const adopted = organisations.filter((o) => o.adoption);
    return {
      pageTitle: `${Object.keys(errors).length ? 'Error: ' : ''}Record that your organisation adopted this`,
      item: { slug: item.slug, title: item.title, href: itemHref(item.slug), kindLabel: EXCHANGE_KINDS[item.kind] },
      action: `${itemHref(item.slug)}/adoption`,
      removeAction: `${itemHref(item.slug)}/adoption/remove`,
      refusal: !isMember ? NOT_A_MEMBER : !organisations.length ? OWN_ORGANISATION : null,
      single: organisations.length === 1 ? organisations[0] : null,
      choices: organisations.length > 1 ? organisations.map((o, i) => ({ id: o.id, name: o.name, inputId: i === 0 ? 'organisationId' : `organisationId-${o.id}`, checked: o.id === chosen?.id, adoptedDate: o.adoption ? londonDate(o.adoption.createdAt) : null })) : [],
      updating: !!chosen?.adoption,
      note,
      noteMax: ADOPTION_NOTE_MAX_LENGTH,
      adopted: adopted.map((o) => ({ id: o.id, name: o.name, adoptedDate: londonDate(o.adoption!.createdAt) })),
      ...errorView(errors, ['organisationId', 'note']),
      chooseMessage: CHOOSE_ORGANISATION,
    };
  }
}


import { Body, Controller, Get, Param, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { NotFound, ValidationFailed } from '../../common/errors';
import { errorView, formErrors, parseForm } from '../../common/forms';
import { renderMarkdown } from '../../common/markdown';
import { ORGANISATION_TYPES, REGIONS } from '../../organisations/organisation-kinds';
import { SYSTEM_CATEGORIES, type SystemCategory } from '../exchange-kinds';
import { ExchangeVocabulary } from '../exchange-vocabulary';
import { PeerDirectory, type PeerCard, type PeerFilters, type PeerOrganisation } from './peer-directory.service';
import { PeerProfiles, type OwnProfile, type ProfileChoices } from './peer-profiles.service';
import { ContactLimitReached, ContactRefused, NO_SUCH_CONVERSATION, NO_SUCH_PEER, PeerRelay } from './peer-relay.service';
import { BIO_MAX_LENGTH, BlockFormDto, ContactFormDto, MESSAGE_MAX_LENGTH, PeerProfileFormDto, PeerSearchQueryDto, ReplyFormDto, SUBJECT_MAX_LENGTH } from './peers.dto';

/** A path segment read as an id: digits only (anything else is no id, and answers 404). */
const idOf = (value: string) => (/^[1-9]\d{0,15}$/.test(value) ? Number(value) : Number.NaN);

const NOTICES: Record<string, string> = {
  created: 'Your peer profile has been saved.',
  saved: 'Your changes have been saved.',
  unchanged: 'Nothing had changed, so nothing was saved.',
  deleted: 'Your peer profile has been deleted. Your conversations and the people you blocked are kept.',
  sent: 'Your message has been sent. We e-mailed it without your address; you will see their reply here, and be e-mailed when it comes.',
  replied: 'Your reply has been sent, with your e-mail address.',
  blocked: 'They can no longer send you messages. They have not been told.',
  unblocked: 'They can contact you again.',
};

const PROFILE_FIELDS = ['listed', 'bio', 'systems', 'topics', 'openToContact'];
const CONTACT_FIELDS = ['subject', 'body'];

/** "Leeds Teaching Hospitals NHS Trust (NHS trust, North East and Yorkshire)". */
const organisationText = (o: PeerOrganisation) => `${o.name} (${[o.typeLabel, o.regionLabel].filter(Boolean).join(', ')})`;

/** A repeated form field as a list of strings (a checkbox group sends one value or several). */
const listOf = (value: unknown): string[] => (value === undefined || value === null || value === '' ? [] : (Array.isArray(value) ? value : [value]).map(String));

/** A list filter read from the query string; a bad one is a 400 page naming what is wrong. */
async function parseQuery(raw: Record<string, string>): Promise<PeerSearchQueryDto> {
  try {
    return await parseForm(PeerSearchQueryDto, raw);
  } catch (err) {
    if (err instanceof ValidationFailed) throw new ValidationFailed(err.fieldErrors, `${Object.values(err.fieldErrors).join('. ')}.`);
    throw err;
  }
}

/**
 * Peers: the opt-in profiles of members of organisations, found by the systems they run ("who else runs X?"), the
 * topics they can help with, and their organisations' region and type; a person's own profile; the contact relay's
 * pages (write, read, reply, block). Every page needs sign-in: it is personal data. The services decide who may do
 * what; these pages show the outcome, and a refusal in words.
 */
@ApiExcludeController()
@Controller('peers')
export class PeersPagesController {
  constructor(
    private readonly directory: PeerDirectory,
    private readonly profiles: PeerProfiles,
    private readonly relay: PeerRelay,
    private readonly vocabulary: ExchangeVocabulary,
  ) {}

  // ---- Finding peers --------------------------------------------------------------------------------------

  @Get()
  async list(@Query() raw: Record<string, string>, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const query = await parseQuery(raw);
    const filters: PeerFilters = { system: query.system, topic: query.topic, region: query.region, organisationType: query.organisationType, q: query.q, page: query.page };
    const [result, systems, topics, member, own] = await Promise.all([
      this.directory.search(filters),
      this.vocabulary.currentSystems(),
      this.vocabulary.topics(),
      this.directory.hasActiveMembership(viewer.id),
      this.directory.profileOf(viewer.id),
    ]);
    const system = query.system ? ((await this.vocabulary.systemBySlug(query.system)) ?? null) : null;
    const topic = topics.find((t) => t.slug === query.topic) ?? null;
    const given = Object.entries({ system: query.system, topic: query.topic, region: query.region, organisationType: query.organisationType, q: query.q }).filter((e): e is [string, string] => !!e[1]);
    const pageLink = (page: number) => `/peers?${new URLSearchParams([...given, ['page', String(page)]])}`;
    const groups = (Object.keys(SYSTEM_CATEGORIES) as SystemCategory[])
      .map((category) => ({ label: SYSTEM_CATEGORIES[category], options: systems.filter((s) => s.category === category).map((s) => ({ value: s.slug, text: s.label, selected: s.slug === query.system })) }))
      .filter((g) => g.options.length);
    const described = [
      system ? `who run ${system.label}` : null,
      topic ? `who can help with ${topic.name}` : null,
      query.region ? `in ${REGIONS[query.region as keyof typeof REGIONS]}` : null,
      query.organisationType ? `in a ${ORGANISATION_TYPES[query.organisationType as keyof typeof ORGANISATION_TYPES]}` : null,
      query.q ? `matching “${query.q}”` : null,
    ].filter(Boolean);
    return reply.view('exchange/peers/index', {
      pageTitle: system ? `Peers who run ${system.label}` : 'Find peers',
      systemGroups: groups,
      topics: topics.map((t) => ({ value: t.slug, text: t.name, selected: t.slug === query.topic })),
      regions: Object.entries(REGIONS).map(([value, text]) => ({ value, text, selected: value === query.region })),
      organisationTypes: Object.entries(ORGANISATION_TYPES).map(([value, text]) => ({ value, text, selected: value === query.organisationType })),
      q: query.q ?? '',
      filtered: given.length > 0,
      heading: described.length ? `Peers ${described.join(', ')}` : 'All listed peers',
      unknownSystem: !!query.system && !system,
      result,
      peers: result.items.map((card) => this.cardView(card, viewer)),
      member,
      own: own ? { listed: !!own.listed } : null,
      previous: result.page > 1 ? { href: pageLink(result.page - 1), title: `Page ${result.page - 1} of ${result.pages}` } : null,
      next: result.page < result.pages ? { href: pageLink(result.page + 1), title: `Page ${result.page + 1} of ${result.pages}` } : null,
    });
  }

  // ---- Your profile ----------------------------------------------------------------------------------------

  @Get('profile')
  async profileForm(@Query('notice') notice: string | undefined, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const own = await this.profiles.own(viewer.id);
    const choices = await this.profiles.choices(own.systemIds);
    const values = { listed: own.listed ? 'yes' : 'no', bio: own.bio, systems: own.systemIds.map(String), topics: own.topicIds.map(String), openToContact: own.openToContact === null ? '' : own.openToContact ? 'yes' : 'no' };
    return reply.view('exchange/peers/profile-form', { ...(await this.profileFormView(viewer, own, choices, values)), notice: notice ? NOTICES[notice] : undefined });
  }

  @Post('profile')
  async saveProfile(@Body() body: Record<string, unknown>, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    try {
      const form = await parseForm(PeerProfileFormDto, body);
      const outcome = await this.profiles.save(viewer.id, form);
      return reply.redirect(`/peers/profile?notice=${outcome}`, 303);
    } catch (err) {
      const errors = formErrors(err);
      const own = await this.profiles.own(viewer.id);
      const values = { listed: body?.listed === 'yes' ? 'yes' : 'no', bio: typeof body?.bio === 'string' ? body.bio : '', systems: listOf(body?.systems), topics: listOf(body?.topics), openToContact: typeof body?.openToContact === 'string' ? body.openToContact : '' };
      const choices = await this.profiles.choices(own.systemIds);
      return reply.status(400).view('exchange/peers/profile-form', { ...(await this.profileFormView(viewer, own, choices, values)), ...errorView(errors, PROFILE_FIELDS), pageTitle: 'Error: Your peer profile' });
    }
  }

  @Get('profile/delete')
  async deleteForm(@SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const own = await this.profiles.own(viewer.id);
    if (!own.exists) return reply.redirect('/peers/profile', 303);
    return reply.view('exchange/peers/profile-delete', { pageTitle: 'Delete your peer profile', listed: own.listed });
  }

  @Post('profile/delete')
  async deleteProfile(@SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    await this.profiles.remove(viewer.id);
    return reply.redirect('/peers/profile?notice=deleted', 303);
  }

  // ---- Conversations ---------------------------------------------------------------------------------------

  @Get('messages')
  async conversations(@Query() raw: Record<string, string>, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const page = /^[1-9]\d{0,4}$/.test(raw.page ?? '') ? Number(raw.page) : 1;
    const result = await this.relay.conversations(viewer.id, page);
    const link = (n: number) => `/peers/messages?page=${n}`;
    return reply.view('exchange/peers/messages', {
      pageTitle: 'Your messages',
      result,
      conversations: result.items.map((c) => ({ ...c, href: `/peers/messages/${c.id}`, tag: c.answered ? { text: 'Replied', colour: 'green' } : { text: 'Awaiting reply', colour: 'grey' } })),
      previous: result.page > 1 ? { href: link(result.page - 1), title: `Page ${result.page - 1} of ${result.pages}` } : null,
      next: result.page < result.pages ? { href: link(result.page + 1), title: `Page ${result.page + 1} of ${result.pages}` } : null,
    });
  }

  @Get('messages/:id')
  async conversation(@Param('id') id: string, @Query('notice') notice: string | undefined, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const conversation = await this.relay.conversation(viewer, idOf(id));
    if (conversation.id !== idOf(id)) return reply.redirect(`/peers/messages/${conversation.id}#message-${idOf(id)}`, 303);
    return reply.view('exchange/peers/conversation', { ...this.conversationView(conversation), notice: notice ? NOTICES[notice] : undefined });
  }

  @Post('messages/:id/reply')
  async reply(@Param('id') id: string, @Body() body: Record<string, unknown>, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const messageId = idOf(id);
    try {
      const form = await parseForm(ReplyFormDto, body);
      const sent = await this.relay.reply(viewer, messageId, form.body);
      return reply.redirect(`/peers/messages/${sent.inReplyToId}?notice=replied#message-${sent.id}`, 303);
    } catch (err) {
      if (err instanceof ContactRefused) {
        const conversation = await this.relay.conversation(viewer, messageId);
        return reply.status(403).view('exchange/peers/conversation', { ...this.conversationView(conversation), ...errorView({ body: err.message }), pageTitle: `Error: ${conversation.subject}` });
      }
      const errors = formErrors(err);
      const conversation = await this.relay.conversation(viewer, messageId);
      return reply
        .status(400)
        .view('exchange/peers/conversation', { ...this.conversationView(conversation), ...errorView(errors, ['body']), replyBody: typeof body?.body === 'string' ? body.body : '', pageTitle: `Error: ${conversation.subject}` });
    }
  }

  // ---- Blocking ----------------------------------------------------------------------------------------------

  @Get('blocks')
  async blocks(@Query('notice') notice: string | undefined, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const blocked = await this.relay.blocked(viewer.id);
    return reply.view('exchange/peers/blocks', { pageTitle: 'People you have blocked', blocked, notice: notice ? NOTICES[notice] : undefined });
  }

  @Post('blocks')
  async block(@Body() body: Record<string, unknown>, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    let form: BlockFormDto;
    try {
      form = await parseForm(BlockFormDto, body);
    } catch {
      throw new NotFound(NO_SUCH_CONVERSATION);
    }
    const { conversationId } = await this.relay.block(viewer, form.messageId);
    return reply.redirect(`/peers/messages/${conversationId}?notice=blocked`, 303);
  }

  @Post('blocks/:userId/unblock')
  async unblock(@Param('userId') userId: string, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    await this.relay.unblock(viewer.id, idOf(userId));
    return reply.redirect('/peers/blocks?notice=unblocked', 303);
  }

  // ---- A person's profile and contacting them ---------------------------------------------------------------

  @Get(':userId')
  async profile(@Param('userId') userId: string, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const card = await this.directory.listed(idOf(userId));
    if (!card) throw new NotFound(NO_SUCH_PEER);
    const refusal = card.userId === viewer.id ? null : await this.relay.refusal(viewer, card);
    return reply.view('exchange/peers/profile', {
      pageTitle: `${card.name} – Peers`,
      peer: this.cardView(card, viewer),
      bioHtml: card.bio ? renderMarkdown(card.bio, { demoteHeadings: true }) : '',
      updatedAt: card.updatedAt,
      self: card.userId === viewer.id,
      canContact: card.userId !== viewer.id && !refusal,
      refusal: refusal?.message ?? null,
      noMembership: refusal instanceof ContactRefused && refusal.reason === 'no_membership',
    });
  }

  @Get(':userId/contact')
  async contactForm(@Param('userId') userId: string, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const card = await this.directory.listed(idOf(userId));
    if (!card) throw new NotFound(NO_SUCH_PEER);
    const refusal = await this.relay.refusal(viewer, card);
    if (refusal) return this.refused(reply, card, refusal);
    return reply.view('exchange/peers/contact', this.contactView(viewer, card, { subject: '', body: '' }));
  }

  @Post(':userId/contact')
  async contact(@Param('userId') userId: string, @Body() body: Record<string, unknown>, @SignedInUser() viewer: CurrentUser, @Res() reply: FastifyReply) {
    const card = await this.directory.listed(idOf(userId));
    if (!card) throw new NotFound(NO_SUCH_PEER);
    const values = { subject: typeof body?.subject === 'string' ? body.subject : '', body: typeof body?.body === 'string' ? body.body : '' };
    try {
      const form = await parseForm(ContactFormDto, body);
      const message = await this.relay.contact(viewer, card.userId, form);
      return reply.redirect(`/peers/messages/${message.id}?notice=sent`, 303);
    } catch (err) {
      if (err instanceof ContactLimitReached) {
        // The text stays in the form, so nothing written is lost while they wait.
        return reply.status(429).header('Retry-After', String(err.retryAfterSeconds)).view('exchange/peers/contact', { ...this.contactView(viewer, card, values), ...errorView({ body: err.message }), pageTitle: `Error: Contact ${card.name}` });
      }
      if (err instanceof ContactRefused) return this.refused(reply, card, err);
      const errors = formErrors(err);
      return reply.status(400).view('exchange/peers/contact', { ...this.contactView(viewer, card, values), ...errorView(errors, CONTACT_FIELDS), pageTitle: `Error: Contact ${card.name}` });
    }
  }

  // ---- View models ----------------------------------------------------------------------------------------------

  private refused(reply: FastifyReply, card: PeerCard, refusal: ContactRefused | ContactLimitReached) {
    const limit = refusal instanceof ContactLimitReached;
    if (limit) reply.header('Retry-After', String(refusal.retryAfterSeconds));
    return reply.status(limit ? 429 : 403).view('exchange/peers/contact-refused', {
      pageTitle: `Your message cannot be sent – Peers`,
      peer: { userId: card.userId, name: card.name },
      message: refusal.message,
      self: refusal instanceof ContactRefused && refusal.reason === 'self',
      noMembership: refusal instanceof ContactRefused && refusal.reason === 'no_membership',
    });
  }

  private cardView(card: PeerCard, viewer: CurrentUser) {
    return {
      ...card,
      href: `/peers/${card.userId}`,
      self: card.userId === viewer.id,
      organisationList: card.organisations.map(organisationText),
      systemList: card.systems.map((s) => s.label).join(', '),
      topicList: card.topics.map((t) => t.name).join(', '),
    };
  }

  private contactView(viewer: CurrentUser, card: PeerCard, values: { subject: string; body: string }) {
    return {
      pageTitle: `Contact ${card.name} – Peers`,
      peer: { userId: card.userId, name: card.name, href: `/peers/${card.userId}` },
      action: `/peers/${card.userId}/contact`,
      values,
      sender: { name: viewer.name, jobRole: viewer.jobRole },
      subjectHint: `At most ${SUBJECT_MAX_LENGTH} characters`,
      bodyHint: `Plain text, at most ${MESSAGE_MAX_LENGTH.toLocaleString('en-GB')} characters. Do not include patient-identifiable information.`,
    };
  }

  private conversationView(c: Awaited<ReturnType<PeerRelay['conversation']>>) {
    return {
      pageTitle: `${c.subject} – Your messages`,
      conversation: c,
      other: { ...c.other, organisationList: c.other.organisations.map(organisationText) },
      replyAction: `/peers/messages/${c.id}/reply`,
      replyHint: c.myEmailShown
        ? `Plain text, at most ${MESSAGE_MAX_LENGTH.toLocaleString('en-GB')} characters. ${c.other.name} will see your e-mail address.`
        : `Plain text, at most ${MESSAGE_MAX_LENGTH.toLocaleString('en-GB')} characters. When you reply, ${c.other.name} will see your e-mail address, so they can write to you directly.`,
    };
  }

  private async profileFormView(viewer: CurrentUser, own: OwnProfile, choices: ProfileChoices, values: { listed: string; bio: string; systems: string[]; topics: string[]; openToContact: string }) {
    const organisations = (await this.directory.activeOrganisations([viewer.id])).get(viewer.id) ?? [];
    let firstSystem = true;
    const systemGroups = choices.systemGroups.map((g) => ({
      ...g,
      systems: g.systems.map((s) => {
        const inputId = firstSystem ? 'systems' : `systems-${s.id}`;
        firstSystem = false;
        return { ...s, inputId, checked: values.systems.includes(String(s.id)) };
      }),
    }));
    return {
      pageTitle: 'Your peer profile',
      own,
      member: organisations.length > 0,
      account: { name: viewer.name, jobRole: viewer.jobRole, organisations: organisations.map(organisationText) },
      values,
      listedChecked: values.listed === 'yes',
      openYes: values.openToContact === 'yes',
      openNo: values.openToContact === 'no',
      systemGroups,
      topics: choices.topics.map((t, i) => ({ ...t, inputId: i === 0 ? 'topics' : `topics-${t.id}`, checked: values.topics.includes(String(t.id)) })),
      bioMax: BIO_MAX_LENGTH,
      profileHref: `/peers/${viewer.id}`,
    };
  }
}

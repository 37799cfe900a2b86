import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles, SignedInUser, type CurrentUser } from '../../accounts/identity';
import { idOf } from '../../admin/admin-pages';
import { errorView, formErrors, parseForm } from '../../common/forms';
import { SPACE_ACCESS, type DiscussionSpace } from '../entities';
import { COMMUNITY_DESCRIPTION_MAX, COMMUNITY_TITLE_MAX, CommunityFormDto } from './communities.dto';
import { CommunitiesService } from './communities.service';
import { ACCESS_HINTS, ACCESS_LABELS, communityHref, listHref } from './community-views';

const FIELDS = ['title', 'description', 'access'];
const communityId = idOf('community');

interface FormValues {
  title: string;
  description: string;
  access: string;
}

const valuesOf = (body: Record<string, unknown> | undefined): FormValues => ({
  title: typeof body?.title === 'string' ? body.title : '',
  description: typeof body?.description === 'string' ? body.description : '',
  access: typeof body?.access === 'string' ? body.access : '',
});

/**
 * Administrators create communities and edit them: name (the address is made from it when the community is created,
 * and kept after), description in Markdown, and who may read it. Their moderators are appointed on the community's
 * members page.
 */
@ApiExcludeController()
@Roles('admin')
@Controller('admin/communities')
export class CommunitiesAdminController {
  constructor(private readonly communities: CommunitiesService) {}

  @Get('new')
  newCommunity(@Res() reply: FastifyReply) {
    return reply.view('discussions/communities/form', this.form(null, { title: '', description: '', access: '' }, {}));
  }

  @Post('new')
  async create(@SignedInUser() user: CurrentUser, @Body() body: Record<string, string>, @Res() reply: FastifyReply) {
    try {
      const input = await parseForm(CommunityFormDto, body);
      const space = await this.communities.create(user, input);
      return reply.redirect(listHref(await this.communities.pageOf(space), 'created', space.slug!), 303);
    } catch (err) {
      return reply.status(400).view('discussions/communities/form', this.form(null, valuesOf(body), formErrors(err)));
    }
  }

  @Get(':id/edit')
  async edit(@Param('id', communityId) id: number, @Res() reply: FastifyReply) {
    const space = await this.communities.get(id);
    return reply.view('discussions/communities/form', this.form(space, { title: space.title, description: space.description ?? '', access: space.access }, {}));
  }

  @Post(':id/edit')
  async update(@Param('id', communityId) id: number, @SignedInUser() user: CurrentUser, @Body() body: Record<string, string>, @Res() reply: FastifyReply) {
    const existing = await this.communities.get(id);
    try {
      const input = await parseForm(CommunityFormDto, body);
      const { space, changed } = await this.communities.update(user, id, input);
      return reply.redirect(listHref(await this.communities.pageOf(space), changed ? 'edited' : 'unchanged', space.slug!), 303);
    } catch (err) {
      return reply.status(400).view('discussions/communities/form', this.form(existing, valuesOf(body), formErrors(err)));
    }
  }

  private form(space: DiscussionSpace | null, values: FormValues, errors: Record<string, string>) {
    const failed = Object.keys(errors).length > 0;
    const heading = space ? `Edit ${space.title}` : 'Create a community';
    return {
      pageTitle: `${failed ? 'Error: ' : ''}${heading}`,
      heading,
      isNew: !space,
      community: space ? { id: space.id, title: space.title, href: communityHref(space.slug!), address: communityHref(space.slug!), membersHref: `${communityHref(space.slug!)}/members` } : null,
      action: space ? `/admin/communities/${space.id}/edit` : '/admin/communities/new',
      values,
      titleMax: COMMUNITY_TITLE_MAX,
      descriptionMax: COMMUNITY_DESCRIPTION_MAX.toLocaleString('en-GB'),
      accessChoices: SPACE_ACCESS.map((access, i) => ({ value: access, label: ACCESS_LABELS[access], hint: ACCESS_HINTS[access], inputId: i === 0 ? 'access' : `access-${access}`, checked: values.access === access })),
      ...errorView(errors, FIELDS),
    };
  }
}

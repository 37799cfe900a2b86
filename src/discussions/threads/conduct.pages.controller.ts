import { Body, Controller, Get, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SignedInUser, type CurrentUser } from '../../accounts/identity';
import { errorView, parseForm } from '../../common/forms';
import { Conduct, CONDUCT_VERSION } from './conduct';
import { ConductFormDto } from './threads.dto';

/** Where to go after accepting when no (safe) page was given. */
const DEFAULT_RETURN = '/communities';

/**
 * A same-site path to go back to: starting with one slash (not `//`, nor `/\`, which browsers read as another
 * site), without control characters. Anything else is dropped, so the page cannot send people elsewhere.
 */
export function safeReturnTo(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > 500) return null;
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return null;
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return null;
  return raw;
}

/** The code of conduct of discussions, and accepting it (needed before a first post). */
@ApiExcludeController()
@Controller('discussions/conduct')
export class ConductPagesController {
  constructor(private readonly conduct: Conduct) {}

  @Get()
  async page(@SignedInUser() user: CurrentUser, @Query() raw: Record<string, string>, @Res() reply: FastifyReply) {
    const returnTo = safeReturnTo(raw?.returnTo);
    return reply.view('discussions/threads/conduct', { pageTitle: 'Code of conduct for discussions', returnTo, accepted: await this.conduct.hasAccepted(user.id), version: CONDUCT_VERSION, ...errorView({}) });
  }

  @Post()
  async accept(@SignedInUser() user: CurrentUser, @Body() body: Record<string, string>, @Res() reply: FastifyReply) {
    const form = await parseForm(ConductFormDto, { returnTo: body?.returnTo, accept: body?.accept || undefined });
    const returnTo = safeReturnTo(form.returnTo);
    if (form.accept !== 'yes') {
      const errors = { accept: 'Confirm that you will follow the code of conduct' };
      return reply.status(400).view('discussions/threads/conduct', { pageTitle: 'Error: Code of conduct for discussions', returnTo, accepted: false, version: CONDUCT_VERSION, ...errorView(errors) });
    }
    await this.conduct.accept(user.id);
    return reply.redirect(returnTo ?? DEFAULT_RETURN, 303);
  }
}

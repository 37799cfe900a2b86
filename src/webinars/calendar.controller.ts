import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../accounts/identity';
import { contentDisposition } from '../storage/serve-file';
import { CALENDAR_CONTENT_TYPE } from './calendar';
import { WebinarMailer } from './webinar-mailer';
import { WebinarsService } from './webinars.service';

/** "Add to calendar": the same invitation (and UID) a registrant's e-mail carries, or the webinar's own for anyone else. */
@ApiTags('webinars')
@Controller('webinars')
export class WebinarCalendarController {
  constructor(
    private readonly webinars: WebinarsService,
    private readonly mailer: WebinarMailer,
  ) {}

  @Public()
  @Get(':slug/calendar.ics')
  @ApiProduces('text/calendar')
  @ApiOperation({ summary: 'The webinar as an iCalendar file (RFC 5545); for a registrant, their invitation with its stable UID' })
  async calendar(@Param('slug') slug: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const viewer = request.identity?.user ?? null;
    const webinar = await this.webinars.bySlug(slug, viewer);
    const registration = viewer ? await this.webinars.registrationOf(viewer.id, webinar.id) : null;
    const method = webinar.status === 'cancelled' || registration?.status === 'cancelled' ? 'CANCEL' : 'REQUEST';
    const who = viewer && registration ? { registrationId: registration.id, attendee: { name: viewer.name, email: viewer.email } } : undefined;
    return reply
      .header('content-type', CALENDAR_CONTENT_TYPE(method))
      .header('content-disposition', contentDisposition(`${webinar.slug}.ics`))
      .header('cache-control', 'private, no-store')
      .send(this.mailer.calendar(webinar, method, who));
  }
}

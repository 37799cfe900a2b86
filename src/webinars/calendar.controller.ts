import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../accounts/identity';
import { contentDisposition } from '../storage/serve-file';
import { CALENDAR_CONTENT_TYPE, type CalendarMethod } from './calendar';
import { WebinarMailer } from './webinar-mailer';
import { WebinarsService } from './webinars.service';

/**
 * "Add to calendar". A learner who holds a place gets their own copy of the event, the one their e-mails
 * carry (their registration's UID, its current SEQUENCE, METHOD:REQUEST; CANCEL once the webinar is
 * cancelled). Anyone else (anonymous, not registered, waitlisted, or after cancelling their place) gets the
 * webinar as a public listing, METHOD:PUBLISH, with nobody invited.
 */
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
  @ApiOperation({ summary: 'The webinar as an iCalendar file (RFC 5545): for a learner with a place, their invitation (METHOD:REQUEST, or CANCEL once the webinar is cancelled) with its stable UID; for anyone else, METHOD:PUBLISH' })
  async calendar(@Param('slug') slug: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    const viewer = request.identity?.user ?? null;
    const webinar = await this.webinars.bySlug(slug, viewer);
    const registration = viewer ? await this.webinars.registrationOf(viewer.id, webinar.id) : null;
    let method: CalendarMethod = 'PUBLISH';
    let body: string;
    if (viewer && registration?.status === 'registered') {
      method = webinar.status === 'cancelled' ? 'CANCEL' : 'REQUEST';
      body = this.mailer.registrantCalendar(webinar, registration, { name: viewer.name, email: viewer.email }, method);
    } else {
      body = this.mailer.publicCalendar(webinar);
    }
    return reply
      .header('content-type', CALENDAR_CONTENT_TYPE(method))
      .header('content-disposition', contentDisposition(`${webinar.slug}.ics`))
      .header('cache-control', 'private, no-store')
      .send(body);
  }
}

import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Roles } from '../accounts/identity';
import { londonDateTime } from '../common/london-time';
import { WorkerHeartbeat } from '../health/worker-heartbeat';
import { JobsService } from '../jobs/jobs.service';
import { MailService } from '../mail/mail.service';
import { OutboxReader } from '../mail/outbox.reader';
import { OrganisationAdminService } from '../organisations/organisation-admin.service';

@ApiExcludeController()
@Roles('admin')
@Controller('admin')
export class AdminController {
  constructor(
    private readonly outbox: OutboxReader,
    private readonly mail: MailService,
    private readonly jobs: JobsService,
    private readonly organisations: OrganisationAdminService,
    private readonly heartbeat: WorkerHeartbeat,
  ) {}

  @Get()
  async index(@Res() reply: FastifyReply) {
    const [queue, requestedOrganisations, workers] = await Promise.all([this.jobs.stats().catch(() => null), this.organisations.requestedCount(), this.heartbeat.alive()]);
    return reply.view('admin/index', {
      pageTitle: 'Admin',
      queue,
      mailTransport: this.mail.transportKind,
      requestedOrganisations,
      // The workers that beat in the last 30 s (null: Redis does not answer, so nobody can tell).
      workers: workers && workers.map((w) => ({ ...w, since: londonDateTime(new Date(w.startedAt)), beat: londonDateTime(new Date(w.beatAt)) })),
    });
  }

  @Get('outbox')
  async outboxList(@Res() reply: FastifyReply) {
    const messages = await this.outbox.list();
    return reply.view('admin/outbox', { pageTitle: 'Outbox', messages, mailTransport: this.mail.transportKind });
  }

  @Get('outbox/:file')
  async outboxMessage(@Param('file') file: string, @Res() reply: FastifyReply) {
    const message = await this.outbox.read(file);
    return reply.view('admin/outbox-message', { pageTitle: message.subject, message });
  }
}

import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InAppNotifications } from './in-app-notifications';

/** Requests that render a page with the header: a signed-in GET, not the API, not an event stream. */
const wantsPage = (request: FastifyRequest) =>
  !!request.identity && (request.method === 'GET' || request.method === 'HEAD') && !request.url.startsWith('/api/') && !String(request.headers.accept ?? '').includes('text/event-stream');

/**
 * Puts the signed-in person's unread notification count in the page locals (`unreadNotifications`), for the header's
 * "Notifications" link: kept per person (no query on most pages), one indexed COUNT when it changed, none for anonymous visitors, the API or event streams.
 * A count that cannot be read leaves the link without a number rather than failing the page.
 */
@Injectable()
export class UnreadCountHook implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly notifications: InAppNotifications,
  ) {}

  onModuleInit(): void {
    // A worker (application context) has no HTTP server.
    const fastify = this.adapterHost?.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
    if (!fastify?.addHook) return;
    fastify.addHook('preHandler', async (request, reply) => {
      if (!wantsPage(request) || !reply.locals) return;
      try {
        reply.locals.unreadNotifications = await this.notifications.headerUnreadCount(request.identity!.user.id);
      } catch {
        reply.locals.unreadNotifications = null;
      }
    });
  }
}

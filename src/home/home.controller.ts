import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../accounts/identity';
import { TtlCache } from '../common/ttl-cache';

const HOME = { pageTitle: 'Learn from peers across health and care IT' };

@ApiExcludeController()
@Controller()
export class HomeController {
  /** Every anonymous visitor sees the same home page: rendered once a minute, not on every request. */
  private readonly anonymousPage = new TtlCache<string>(60_000, 1);

  @Public()
  @Get()
  home(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    if (request.identity?.user) return reply.view('home/index', HOME);
    let html = this.anonymousPage.get('home');
    if (html === undefined) {
      html = reply.renderView('home/index', HOME);
      this.anonymousPage.set('home', html);
    }
    return reply.type('text/html; charset=utf-8').send(html);
  }
}

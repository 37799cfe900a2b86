import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../accounts/identity';

@ApiExcludeController()
@Controller()
export class HomeController {
  @Public()
  @Get()
  home(@Res() reply: FastifyReply) {
    return reply.view('home/index', { pageTitle: 'Learn from peers across health and care IT' });
  }
}

import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { INestApplicationContext, LoggerService, ValidationPipe } from '@nestjs/common';
import { ModulesContainer, NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import pino, { Logger as Pino } from 'pino';
import { IdentityResolver } from './accounts/identity.resolver';
import { AppModule } from './app.module';
import { ErrorResponsesFilter } from './common/error-responses';
import { ValidationFailed } from './common/errors';
import { fieldErrorsOf } from './common/forms';
import { installJsonBodyParser } from './common/json-body';
import { completeApiOperations, EXTRA_MODELS } from './common/openapi';
import { registerMultipart } from './common/multipart';
import { serveNhsukStylesheet } from './common/nhsuk-stylesheet';
import { applySecurityHeaders } from './common/security-headers';
import { NHSUK_DIR, PUBLIC_DIR } from './common/paths';
import { refuseRepeatedQueryParameters } from './common/query-params';
import { installPageViews, PageViews } from './common/views';
import { AppConfig } from './config/config';

/** Nest's logger, writing structured lines through the same pino instance as Fastify. */
const NEST_BOOT_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Pino) {}
  log(message: unknown, context?: string) {
    // Nest's start-up chatter (every module and route) is debug detail, not news.
    if (context && NEST_BOOT_CONTEXTS.has(context)) this.pino.debug({ context }, String(message));
    else this.pino.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.pino.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.pino.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.pino.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.pino.trace({ context }, String(message));
  }
}

export function createLogger(config: AppConfig): Pino {
  const redact = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'];
  // Readable lines for a person at a terminal in development; JSON lines everywhere else.
  const pretty = config.env === 'development' && process.stdout.isTTY && canResolve('pino-pretty');
  return pino({
    level: config.logLevel,
    redact,
    serializers: { req: requestForLog },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname' } } } : {}),
  });
}

/** What a log line says of a request; secrets in URLs (password-reset links) are masked. */
function requestForLog(req: { method?: string; url?: string; headers?: Record<string, unknown>; ip?: string; socket?: { remoteAddress?: string } }) {
  return {
    method: req.method,
    url: req.url?.replace(/\/reset-password\/[^/?#]+/, '/reset-password/[redacted]'),
    host: req.headers?.host,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
  };
}

function canResolve(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

const REQUEST_ID = /^[\w.-]{1,64}$/;

/** The web application: Fastify with its plugins, the Nest modules, pages, API and OpenAPI document. Not yet listening. */
export async function createWebApp(config: AppConfig, logger = createLogger(config)): Promise<NestFastifyApplication> {
  const bodyLimit = 1024 * 1024;
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // X-Forwarded-For only from the proxies named in TRUSTED_PROXIES: anyone else could pick their own address
    // (and so their own rate-limit key) with a made-up header. Without any, the address is the connection's.
    trustProxy: config.trustedProxies.length ? config.trustedProxies : false,
    bodyLimit,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(config), adapter, {
    logger: new PinoNestLogger(logger),
    bufferLogs: false,
  });
  const fastify = app.getHttpAdapter().getInstance();

  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  installJsonBodyParser(app, bodyLimit);
  await app.register(fastifyCookie);
  // Uploads (authoring): streamed, one file per form, at most UPLOAD_MAX_MB; see common/multipart.ts.
  await registerMultipart(app, config.uploads.maxBytes);
  applySecurityHeaders(fastify, config);
  await app.register(fastifyStatic, { root: NHSUK_DIR, prefix: '/assets/nhsuk/', decorateReply: false, maxAge: '1d', allowedPath: (path) => /\.(css|js|map|svg|png|ico|json|woff2?)$/.test(path) && !path.includes('..') });
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/public/', decorateReply: false, maxAge: '1h' });
  serveNhsukStylesheet(fastify);

  installPageViews(fastify, new PageViews(config.env === 'development'), { academyName: config.academyName });
  app.get(IdentityResolver).install(fastify);
  refuseRepeatedQueryParameters(fastify);

  app.useGlobalFilters(new ErrorResponsesFilter());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => new ValidationFailed(fieldErrorsOf(errors)),
    }),
  );
  mountOpenApi(app, config);
  return app;
}

/** The OpenAPI document of /api/v1, as JSON at /api/docs/openapi.json and browsable at /api/docs. */
function mountOpenApi(app: NestFastifyApplication, config: AppConfig) {
  const options = new DocumentBuilder()
    .setOpenAPIVersion('3.0.3')
    .setTitle(`${config.academyName} API`)
    .setDescription(
      'Courses, enrolments, lessons and progress, webinars and certificates. Authenticate with a bearer token from POST /api/v1/auth/token. ' +
        'Every error is an RFC 9457 problem (`application/problem+json`) with a machine-readable `code` beside its `detail`; a 401 carries `WWW-Authenticate`. ' +
        'A request sent with `content-type: application/json` and no body is read as `{}`.',
    )
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/license/mit')
    .addServer(config.publicUrl, config.academyName)
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'Opaque token: pa_ followed by 43 URL-safe base64 characters',
        description: 'An opaque, expiring and revocable `pa_…` token from POST /api/v1/auth/token (or /auth/register), sent as `Authorization: Bearer pa_…`. DELETE /api/v1/auth/token revokes it.',
      },
      'bearer',
    )
    .addTag('auth', 'Tokens, registration and the caller')
    .addTag('courses', 'The catalogue: published courses and their syllabus')
    .addTag('enrolments', "The caller's enrolments and their progress")
    .addTag('lessons', 'Lessons to take: their content, files and quizzes; completing them')
    .addTag('progress', 'Recording progress: video heartbeats and quiz attempts')
    .addTag('certificates', "The caller's certificates and public verification")
    .addTag('webinars', 'Webinars: registrations, recordings and live questions')
    .addTag('e-mail', 'E-mail preferences and one-click unsubscribe')
    .addTag('notifications', 'The caller’s in-app notifications (replies, mentions, accepted answers, new threads in followed discussions): listing them and marking them read or unread')
    .addTag('organisations', 'Organisations: finding one to join; for their managers, staff learning and course figures')
    .addTag('exchange', 'The peer exchange: case studies, tools and hacks shared across organisations; marking them helpful, saving them and recording adoptions')
    .addTag('peers', 'Peers: the opt-in profiles of people in other organisations, found by the systems they run and the topics they can help with')
    .addTag('discussions', 'Discussions: communities, the discussions of courses, lessons, webinars and exchange items, their threads and replies')
    .build();
  // Whoever runs this academy answers for it: its own address, not an e-mail address invented here.
  options.info.contact = { name: config.academyName, url: config.publicUrl };
  const document = SwaggerModule.createDocument(app, options, { extraModels: EXTRA_MODELS, autoTagControllers: false });
  document.paths = Object.fromEntries(Object.entries(document.paths).filter(([path]) => path.startsWith('/api/v1')));
  completeApiOperations(document, app.get(ModulesContainer));
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs/openapi.json', yamlDocumentUrl: 'api/docs/openapi.yaml' });
}

/** A worker process: the Nest modules without an HTTP server; jobs start on bootstrap. */
export async function createWorker(config: AppConfig, logger = createLogger(config)): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(AppModule.register(config), { logger: new PinoNestLogger(logger) });
}

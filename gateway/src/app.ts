// The fastify application: agentkernel's own API for tenants, /v1/account, /v1/admin, health.
import Fastify, { LogController, type FastifyInstance, type FastifyError } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { GatewayContext } from './context.js';
import { ApiError } from './errors.js';
import { accountRoutes } from './routes/account.js';
import { adminRoutes } from './routes/admin.js';
import { executionRoutes } from './routes/executions.js';
import { healthRoutes } from './routes/health.js';
import { sandboxRoutes } from './routes/sandboxes.js';
import { snapshotRoutes } from './routes/snapshots.js';
import { tenantAuth } from './routes/tenant-auth.js';

/** Route families the upstream cannot scope per tenant: refused outright until it can. */
const UNSCOPED_FAMILIES = ['orchestrations', 'objects', 'schedules', 'stores', 'pages'];

export function buildApp(ctx: GatewayContext, opts: { logger?: boolean | object } = {}): FastifyInstance {
  const app = Fastify({
    logger: opts.logger ?? {
      level: ctx.config.logLevel,
      // Keys and tokens never reach the logs, whatever a serializer decides to include.
      redact: { paths: ['req.headers.authorization', 'headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    },
    bodyLimit: ctx.config.bodyLimitBytes,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Per-request log lines only at debug: at info they would cost more than the gateway itself.
    logController: new LogController({ disableRequestLogging: ctx.config.logLevel !== 'debug' && ctx.config.logLevel !== 'trace' }),
    routerOptions: { maxParamLength: 4096 },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  // Every route takes JSON (as upstream does). Fastify's built-in text/plain parser would turn a JSON
  // body sent as text into a string and fail schema checks with "must be object": say 415 instead.
  app.removeContentTypeParser('text/plain');
  // Upstream ignores an empty body on bodiless routes (stop, start, extend, DELETE) whatever the
  // Content-Type; so does the gateway: empty JSON is "no body", routes that need one say so.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) =>
    (body.length === 0 ? done(null, undefined) : parseJson(req, body as string, done)));
  app.decorateRequest('tenant', null);
  app.decorateRequest('upstreamMs', 0);

  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    ctx.metrics.requests.inc({ method: req.method, route, status: reply.statusCode });
    const totalMs = reply.elapsedTime;
    ctx.metrics.gatewayLatency.observe({ route }, Math.max(0, totalMs - req.upstreamMs) / 1000);
  });

  app.setErrorHandler((err: FastifyError | ApiError, req, reply) => {
    if (err instanceof ApiError) {
      // 499 is ours for "client went away": nobody is listening, but keep the log honest.
      return reply.code(err.statusCode === 499 ? 400 : err.statusCode).headers(err.headers).send({ success: false, error: err.message });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const where = fe.validationContext ?? 'request';
      if (where === 'body' && req.body === undefined) return reply.code(400).send({ success: false, error: 'a JSON request body is required' });
      const first = fe.validation[0];
      // A union of literals fails with one "must be equal to constant" per choice: name the choices.
      const choices = first?.keyword === 'const'
        ? fe.validation.filter((v) => v.keyword === 'const' && v.instancePath === first.instancePath).map((v) => JSON.stringify(v.params.allowedValue))
        : [];
      const message = choices.length ? `must be one of ${choices.join(', ')}` : first?.message ?? fe.message;
      return reply.code(400).send({ success: false, error: `invalid ${where}: ${first?.instancePath || ''} ${message}`.replace(/\s+/g, ' ').trim() });
    }
    switch (fe.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return reply.code(400).send({ success: false, error: 'request body is not valid JSON' });
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return reply.code(413).send({ success: false, error: `request body is larger than ${ctx.config.bodyLimitBytes} bytes` });
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return reply.code(415).send({ success: false, error: 'send JSON with Content-Type: application/json' });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.code(fe.statusCode).send({ success: false, error: fe.message });
    }
    req.log.error({ err: { message: fe.message, stack: fe.stack } }, 'unhandled error');
    return reply.code(500).send({ success: false, error: 'internal gateway error' });
  });

  app.setNotFoundHandler((req, reply) => {
    const family = req.url.split('?')[0].split('/')[1];
    if (UNSCOPED_FAMILIES.includes(family)) {
      return reply.code(403).send({ success: false, error: `/${family} is not available through this multi-tenant service: agentkernel cannot scope it per tenant` });
    }
    return reply.code(404).send({ success: false, error: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  app.register(healthRoutes, { ctx });
  app.register(adminRoutes, { ctx });
  app.register(async (tenantScope) => {
    tenantScope.addHook('onRequest', tenantAuth(ctx));
    tenantScope.register(sandboxRoutes, { ctx });
    tenantScope.register(executionRoutes, { ctx });
    tenantScope.register(snapshotRoutes, { ctx });
    tenantScope.register(accountRoutes, { ctx });
  });
  return app;
}

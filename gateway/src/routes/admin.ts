// Operator API under /v1/admin, behind GATEWAY_ADMIN_TOKEN.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { GatewayContext } from '../context.js';
import { ApiError } from '../errors.js';
import { secretsEqual } from '../keys.js';
import { TierOverridesSchema } from '../tiers.js';
import { accountSummary, monthPeriod, sendUsage, UsageQuery, wantsCsv } from './account.js';
import { bearer } from './tenant-auth.js';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const Email = Type.String({ minLength: 3, maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' });
const Name = Type.String({ minLength: 1, maxLength: 200 });

export function adminAuth(ctx: GatewayContext) {
  return async (req: import('fastify').FastifyRequest) => {
    const token = bearer(req);
    if (!token || !secretsEqual(token, ctx.config.adminToken)) throw new ApiError(401, 'admin token required');
  };
}

export async function adminRoutes(app: FastifyInstance, { ctx }: { ctx: GatewayContext }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.addHook('onRequest', adminAuth(ctx));

  r.post('/v1/admin/accounts', {
    schema: { body: Type.Object({ name: Name, email: Email, tier: Type.Optional(Type.String({ maxLength: 64 })), overrides: Type.Optional(TierOverridesSchema) }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const { account, apiKey, keyId } = await ctx.accounts.create(req.body);
    return reply.code(201).send({ success: true, data: { ...account, apiKey, keyId } });
  });

  r.get('/v1/admin/accounts', async () => ({ success: true, data: await ctx.accounts.list() }));

  r.get('/v1/admin/accounts/:id', { schema: { params: IdParams } }, async (req) => ({ success: true, data: await accountSummary(ctx, req.params.id) }));

  r.patch('/v1/admin/accounts/:id', {
    schema: {
      params: IdParams,
      body: Type.Object({
        tier: Type.Optional(Type.String({ maxLength: 64 })),
        status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('suspended')])),
        overrides: Type.Optional(Type.Union([TierOverridesSchema, Type.Null()])),
      }, { additionalProperties: false, minProperties: 1 }),
    },
  }, async (req) => ({ success: true, data: await ctx.accounts.update(req.params.id, req.body) }));

  for (const [action, status] of [['suspend', 'suspended'], ['activate', 'active']] as const) {
    r.post(`/v1/admin/accounts/:id/${action}`, { schema: { params: IdParams } }, async (req) => ({ success: true, data: await ctx.accounts.update(req.params.id, { status }) }));
  }

  r.get('/v1/admin/accounts/:id/keys', { schema: { params: IdParams } }, async (req) => {
    await ctx.accounts.get(req.params.id);
    return { success: true, data: await ctx.accounts.listKeys(req.params.id) };
  });
  r.post('/v1/admin/accounts/:id/keys', { schema: { params: IdParams } }, async (req, reply) => reply.code(201).send({ success: true, data: await ctx.accounts.issueKey(req.params.id) }));
  r.delete('/v1/admin/keys/:id', { schema: { params: IdParams } }, async (req) => ({ success: true, data: await ctx.accounts.revokeKey(req.params.id) }));

  r.get('/v1/admin/accounts/:id/usage', { schema: { params: IdParams, querystring: UsageQuery } }, async (req, reply) => {
    await ctx.accounts.get(req.params.id);
    return sendUsage(ctx, req.params.id, monthPeriod(req.query.month), wantsCsv(req.query.format, req.headers.accept), reply);
  });

  r.get('/v1/admin/tiers', async () => ({ success: true, data: ctx.tiers.file }));
}

// Tenant extras under /v1/account: what my plan allows and how much of it I have used.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { GatewayContext } from '../context.js';
import { badRequest } from '../errors.js';
import { nextReset, parseMonth, periodStart } from '../period.js';
import { usageCsv, usageReport } from '../usage-report.js';
import type { Tenant } from '../accounts.js';

export async function accountSummary(ctx: GatewayContext, accountId: string, tenant?: Tenant) {
  const account = tenant?.account ?? (await ctx.accounts.get(accountId));
  const limits = tenant?.limits ?? ctx.tiers.limitsFor(account.tier, account.overrides);
  const [used, sandboxes] = await Promise.all([ctx.quota.used(account.id), ctx.sandboxes.live(account.id)]);
  const limit = limits.executionsPerMonth;
  return {
    id: account.id, name: account.name, email: account.email, tier: account.tier, status: account.status, createdAt: account.createdAt,
    limits,
    quota: { period: periodStart().slice(0, 7), limit, used, remaining: limit === null ? null : Math.max(0, limit - used), resetsAt: nextReset().toISOString() },
    sandboxes: { live: sandboxes.length, max: limits.maxConcurrentSandboxes },
  };
}

export const UsageQuery = Type.Object({
  month: Type.Optional(Type.String({ maxLength: 7 })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
});

/** CSV when asked for by `format=csv`, or by `Accept: text/csv` when no format is given. */
export function wantsCsv(format: 'json' | 'csv' | undefined, accept: string | undefined): boolean {
  return format === 'csv' || (format === undefined && (accept ?? '').includes('text/csv'));
}

export function monthPeriod(month: string | undefined): string {
  if (month === undefined) return periodStart();
  const p = parseMonth(month);
  if (!p) throw badRequest(`month must look like YYYY-MM (got "${month}")`);
  return p;
}

/** The month's usage report, as JSON or CSV. */
export async function sendUsage(ctx: GatewayContext, accountId: string, period: string, wantsCsv: boolean, reply: import('fastify').FastifyReply) {
  const report = await usageReport(ctx.db, accountId, period);
  if (wantsCsv) {
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="usage-${report.month}.csv"`).send(usageCsv(report));
  }
  return reply.send({ success: true, data: report });
}

export async function accountRoutes(app: FastifyInstance, { ctx }: { ctx: GatewayContext }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  r.get('/v1/account', async (req) => ({ success: true, data: await accountSummary(ctx, req.tenant!.account.id, req.tenant!) }));

  r.get('/v1/account/usage', { schema: { querystring: UsageQuery } }, async (req, reply) =>
    sendUsage(ctx, req.tenant!.account.id, monthPeriod(req.query.month), wantsCsv(req.query.format, req.headers.accept), reply));

  r.get('/v1/account/keys', async (req) => ({ success: true, data: await ctx.accounts.listKeys(req.tenant!.account.id) }));

  // Rotation: a new key now, the calling key revoked in the same transaction.
  r.post('/v1/account/keys/rotate', async (req, reply) => {
    const key = await ctx.accounts.rotateKey(req.tenant!.account.id, req.tenant!.keyId);
    return reply.code(201).send({ success: true, data: key });
  });
}

// The tenant gate in front of every agentkernel-compatible route: Bearer key -> tenant, then the
// per-key rate limit. Runs before body parsing, so an unauthenticated or throttled request costs
// one indexed lookup and nothing else.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { GatewayContext } from '../context.js';

export function bearer(req: FastifyRequest): string | null {
  const h = req.headers.authorization;
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : null;
}

export function tenantAuth(ctx: GatewayContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const key = bearer(req);
    if (!key) throw new ApiError(401, 'missing API key: send Authorization: Bearer <key>');
    const tenant = await ctx.accounts.authenticate(key);
    req.tenant = tenant;
    const perMinute = tenant.limits.rateLimitPerMinute;
    const d = await ctx.limiter.take(tenant.keyId, perMinute);
    reply.header('x-ratelimit-limit', String(perMinute));
    reply.header('x-ratelimit-remaining', String(d.remaining));
    if (!d.allowed) {
      ctx.metrics.rateLimitRejections.inc({ tier: tenant.account.tier });
      const secs = Math.max(1, Math.ceil(d.retryAfterMs / 1000));
      throw new ApiError(429, `rate limit exceeded: ${perMinute} requests per minute on the ${tenant.account.tier} tier; retry in ${secs}s`, { 'retry-after': String(secs) });
    }
  };
}

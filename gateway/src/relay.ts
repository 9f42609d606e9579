// Turning upstream replies into tenant replies: same status and envelope, with the tenant's prefix
// removed from names and messages, so a tenant never sees (or learns) upstream names.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { ApiError } from './errors.js';
import type { TenantNamespace } from './namespace.js';
import type { UpstreamReply } from './upstream.js';
import type { GatewayContext } from './context.js';

/** Calls the upstream and adds the time spent to the request's upstream share. */
export async function timedUpstream(ctx: GatewayContext, req: FastifyRequest, method: Dispatcher.HttpMethod, path: string, body?: unknown, signal?: AbortSignal): Promise<UpstreamReply> {
  const t0 = performance.now();
  try {
    return await ctx.upstream.request(method, path, body, signal);
  } finally {
    const ms = performance.now() - t0;
    req.upstreamMs += ms;
    ctx.metrics.upstreamLatency.observe({ route: req.routeOptions.url ?? 'unknown' }, ms / 1000);
  }
}

/** Rewrites a sandbox info object's name to the tenant's. */
export function localSandbox(ns: TenantNamespace, info: unknown): unknown {
  if (info && typeof info === 'object' && typeof (info as { name?: unknown }).name === 'string') {
    return { ...(info as object), name: ns.local((info as { name: string }).name) };
  }
  return info;
}

/**
 * Sends an upstream reply on. Error messages are scrubbed of the prefix; `mapData` rewrites success
 * data. Anything that is not an envelope is a 502: the tenant never sees raw upstream output.
 */
export function relay(reply: FastifyReply, up: UpstreamReply, ns: TenantNamespace, mapData: (d: unknown) => unknown = (d) => d) {
  if (!up.json || typeof up.json.success !== 'boolean') throw new ApiError(502, 'upstream agentkernel sent an invalid response');
  if (!up.json.success) {
    return reply.code(up.status >= 400 ? up.status : 500).send({ success: false, error: ns.scrub(String(up.json.error ?? 'upstream error')) });
  }
  return reply.code(up.status).send({ success: true, data: mapData(up.json.data) });
}

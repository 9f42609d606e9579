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

// Upstream 5xx messages can carry host details (podman stderr with resolver addresses and registry
// hostnames). Only these known, host-free messages reach a tenant; anything else becomes a generic
// message with the request id, and the detail goes to the operator's log.
const SAFE_SERVER_ERRORS = [
  /^Sandbox '[A-Za-z0-9_-]+' (is not running\b.*|not found|is already running|already exists)$/,
  /^Sandbox not found$/,
];

export function publicError(req: FastifyRequest, status: number, message: string, ns: TenantNamespace): string {
  const scrubbed = ns.scrub(message);
  if (status < 500 || SAFE_SERVER_ERRORS.some((re) => re.test(scrubbed))) return scrubbed;
  req.log.warn({ upstreamStatus: status, upstreamError: message.slice(0, 2000) }, 'upstream error hidden from tenant');
  return `the sandbox backend failed (request ${req.id}); the operator has the details`;
}

/**
 * Sends an upstream reply on. Error messages are scrubbed of the prefix (and 5xx details hidden);
 * a failed command's `exit_code` and `output` pass through as upstream sends them; `mapData`
 * rewrites success data. Anything that is not an envelope is a 502: the tenant never sees raw output.
 */
export function relay(reply: FastifyReply, up: UpstreamReply, ns: TenantNamespace, mapData: (d: unknown) => unknown = (d) => d) {
  if (!up.json || typeof up.json.success !== 'boolean') throw new ApiError(502, 'upstream agentkernel sent an invalid response');
  if (!up.json.success) {
    const status = up.status >= 400 ? up.status : 500;
    const body: Record<string, unknown> = { success: false, error: publicError(reply.request, status, String(up.json.error ?? 'upstream error'), ns) };
    const extra = up.json as { exit_code?: unknown; output?: unknown };
    if (typeof extra.exit_code === 'number') body.exit_code = extra.exit_code;
    if (typeof extra.output === 'string') body.output = ns.scrub(extra.output);
    return reply.code(status).send(body);
  }
  return reply.code(up.status).send({ success: true, data: mapData(up.json.data) });
}

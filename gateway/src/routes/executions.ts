// Metered routes: /run, /run/stream, /batch/run, /sandboxes/{name}/exec and exec/detach.
// Order for each: check the request, reserve the execution(s) in PostgreSQL (429 if the quota is
// used up), wait for an upstream slot by tier priority, forward, settle the reservation by outcome.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import type { GatewayContext } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { TenantNamespace } from '../namespace.js';
import type { ExecutionKind, Outcome } from '../quota-ledger.js';
import { relay, timedUpstream } from '../relay.js';
import { checkSandboxName, DEFAULT_MEMORY_MB, effectiveProfile } from '../tenant-policy.js';
import type { UpstreamReply } from '../upstream.js';
import { BatchRunBody, ExecBody, RunBody, SandboxNameParams } from './schemas.js';

/** Outcome of a finished non-streaming call: did it run, and is it billed? */
function outcomeOf(up: UpstreamReply): Outcome {
  if (up.json?.success) return 'succeeded';
  // An error status means the upstream refused or failed before running anything: refunded.
  return 'rejected';
}

function outcomeOfError(e: unknown): Outcome {
  if (e instanceof ApiError && e.statusCode === 504) return 'timeout';
  if (e instanceof ApiError && e.statusCode === 499) return 'client_aborted';
  return 'upstream_unavailable';
}

export async function executionRoutes(app: FastifyInstance, { ctx }: { ctx: GatewayContext }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  /** Reserve -> slot -> call -> settle, for calls that answer once. */
  async function metered(req: FastifyRequest, kind: ExecutionKind, count: number, sandbox: string | null, memoryMb: number,
    call: (signal: AbortSignal) => Promise<UpstreamReply>, settleEach?: (up: UpstreamReply) => Outcome[]): Promise<UpstreamReply> {
    const tenant = req.tenant!;
    const ids = count === 1 ? [req.id] : Array.from({ length: count }, (_, i) => `${req.id}:${i}`);
    try {
      await ctx.quota.reserve(tenant, kind, ids, sandbox, memoryMb);
    } catch (e) {
      if (e instanceof ApiError && e.statusCode === 429) ctx.metrics.quotaRejections.inc({ tier: tenant.account.tier });
      throw e;
    }
    const abort = new AbortController();
    // A client that goes away while queued or waiting stops the upstream call too.
    const onClose = () => abort.abort();
    req.raw.socket?.once('close', onClose);
    let release: (() => void) | undefined;
    try {
      release = await acquireSlot(req, abort.signal);
      ctx.metrics.executions.inc({ tier: tenant.account.tier, kind }, count);
      const up = await call(abort.signal);
      if (settleEach && up.json?.success) {
        const outcomes = settleEach(up);
        await Promise.all((['succeeded', 'failed'] as const).map((o) => ctx.quota.settle(ids.filter((_, i) => outcomes[i] === o), o, up.status)));
      } else {
        await ctx.quota.settle(ids, outcomeOf(up), up.status);
      }
      return up;
    } catch (e) {
      const mapped = e instanceof ApiError ? e : ctx.upstream.mapError(e);
      // Queued but never forwarded (queue timeout / client gone): nothing ran, refund.
      await ctx.quota.settle(ids, release ? outcomeOfError(mapped) : 'rejected', mapped.statusCode);
      throw mapped;
    } finally {
      release?.();
      ctx.metrics.inFlight.set(ctx.gate.active);
      req.raw.socket?.off('close', onClose);
    }
  }

  async function acquireSlot(req: FastifyRequest, signal: AbortSignal) {
    ctx.metrics.queueDepth.set(ctx.gate.queued + 1);
    try {
      return await ctx.gate.acquire(req.tenant!.limits.priority, ctx.config.queueTimeoutMs, signal);
    } finally {
      ctx.metrics.queueDepth.set(ctx.gate.queued);
      ctx.metrics.inFlight.set(ctx.gate.active);
    }
  }

  const runBody = (req: FastifyRequest, body: { command: string[]; image?: string; profile?: string }) => ({
    command: body.command,
    image: body.image,
    profile: effectiveProfile(req.tenant!, body.profile),
    // Pooled containers are reused across runs: one tenant could read another's leftovers. Never pool.
    fast: false,
  });
  const runMemory = (req: FastifyRequest) => Math.min(DEFAULT_MEMORY_MB, req.tenant!.limits.memoryMb);

  r.post('/run', { schema: { body: RunBody } }, async (req, reply) => {
    const body = runBody(req, req.body);
    const up = await metered(req, 'run', 1, null, runMemory(req), (signal) => timedUpstream(ctx, req, 'POST', '/run', body, signal));
    return relay(reply, up, new TenantNamespace(req.tenant!.account.namespace));
  });

  r.post('/batch/run', { schema: { body: BatchRunBody } }, async (req, reply) => {
    const n = req.body.commands.length;
    const up = await metered(req, 'batch_run', n, null, runMemory(req),
      (signal) => timedUpstream(ctx, req, 'POST', '/batch/run', { commands: req.body.commands }, signal),
      (res) => {
        const results = ((res.json?.data as { results?: { error?: string | null }[] })?.results) ?? [];
        // Each command ran; a command that errored is still an execution (billed, outcome failed).
        return Array.from({ length: n }, (_, i) => (results[i]?.error ? 'failed' : 'succeeded'));
      });
    return relay(reply, up, new TenantNamespace(req.tenant!.account.namespace));
  });

  async function ownedUpstreamName(req: FastifyRequest, name: string) {
    checkSandboxName(name);
    const row = await ctx.sandboxes.find(req.tenant!.account.id, name);
    if (!row) throw notFound(`Sandbox '${name}' not found`);
    return row.upstreamName;
  }

  for (const [suffix, kind] of [['exec', 'exec'], ['exec/detach', 'exec_detached']] as const) {
    r.post(`/sandboxes/:name/${suffix}`, { schema: { params: SandboxNameParams, body: ExecBody } }, async (req, reply) => {
      const upstreamName = await ownedUpstreamName(req, req.params.name);
      // Memory of a persistent sandbox is billed by its lifetime row, so exec rows carry 0 MB.
      const up = await metered(req, kind, 1, req.params.name, 0,
        (signal) => timedUpstream(ctx, req, 'POST', `/sandboxes/${encodeURIComponent(upstreamName)}/${suffix}`, req.body, signal));
      return relay(reply, up, new TenantNamespace(req.tenant!.account.namespace));
    });
  }

  r.post('/run/stream', { schema: { body: RunBody } }, async (req, reply) => streamRun(ctx, req, reply, runBody(req, req.body), runMemory(req), acquireSlot));
}

/**
 * /run/stream: the SSE stream is relayed event by event as it arrives (no buffering), with the
 * tenant prefix scrubbed. Billing: refunded if the upstream refuses the stream; otherwise billed,
 * with outcome succeeded/failed from the `done` event, client_aborted when the client goes away.
 */
async function streamRun(ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply, body: unknown, memoryMb: number,
  acquireSlot: (req: FastifyRequest, signal: AbortSignal) => Promise<() => void>) {
  const tenant = req.tenant!;
  const ns = new TenantNamespace(tenant.account.namespace);
  const ids = [req.id];
  try {
    await ctx.quota.reserve(tenant, 'run_stream', ids, null, memoryMb);
  } catch (e) {
    if (e instanceof ApiError && e.statusCode === 429) ctx.metrics.quotaRejections.inc({ tier: tenant.account.tier });
    throw e;
  }
  const abort = new AbortController();
  let clientGone = false;
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) {
      clientGone = true;
      abort.abort();
    }
  });
  let release: (() => void) | undefined;
  let outcome: Outcome = 'upstream_unavailable';
  let status: number | null = null;
  try {
    release = await acquireSlot(req, abort.signal);
    ctx.metrics.executions.inc({ tier: tenant.account.tier, kind: 'run_stream' });
    const t0 = performance.now();
    const res = await ctx.upstream.stream('/run/stream', body, abort.signal);
    status = res.statusCode;
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      outcome = 'rejected';
      let msg = 'upstream agentkernel refused the stream';
      try { msg = ns.scrub(String(JSON.parse(text).error ?? msg)); } catch { /* not JSON */ }
      throw new ApiError(res.statusCode >= 400 ? res.statusCode : 502, msg);
    }
    outcome = 'failed';
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': req.id,
      ...Object.fromEntries(Object.entries(reply.getHeaders()).map(([k, v]) => [k, String(v)])),
    });
    let pending = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      pending += decoder.decode(chunk as Buffer, { stream: true });
      // Forward whole events only, so the scrub never sees half a name.
      let cut: number;
      while ((cut = pending.indexOf('\n\n')) >= 0) {
        const event = pending.slice(0, cut + 2);
        pending = pending.slice(cut + 2);
        if (/^event:\s*done\s*$/m.test(event)) outcome = /"success"\s*:\s*true/.test(event) ? 'succeeded' : 'failed';
        reply.raw.write(ns.scrub(event));
      }
    }
    if (pending) reply.raw.write(ns.scrub(pending));
    req.upstreamMs += performance.now() - t0;
    reply.raw.end();
  } catch (e) {
    if (clientGone) outcome = release ? 'client_aborted' : 'rejected';
    else if (e instanceof ApiError) outcome = status === null ? (release ? outcomeOfStreamError(e) : 'rejected') : outcome;
    if (reply.sent || reply.raw.headersSent) {
      // Mid-stream failure: tell the client in-band, as the upstream would, then close.
      if (!clientGone) reply.raw.end(`event: error\ndata: ${JSON.stringify({ message: 'upstream stream failed' })}\n\n`);
      return;
    }
    throw e instanceof ApiError ? e : ctx.upstream.mapError(e);
  } finally {
    release?.();
    await ctx.quota.settle(ids, outcome, status);
  }
}

function outcomeOfStreamError(e: ApiError): Outcome {
  return e.statusCode === 504 ? 'timeout' : 'upstream_unavailable';
}

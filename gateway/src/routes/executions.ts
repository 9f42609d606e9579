// Metered routes: /run, /run/stream, /batch/run, /sandboxes/{name}/exec and exec/detach.
// Order for each: check the request, reserve the execution(s) in PostgreSQL (429 if the quota is
// used up), wait for an upstream slot by tier priority, forward, settle the reservation by outcome.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { GatewayContext } from '../context.js';
import { ApiError } from '../errors.js';
import type { TenantNamespace } from '../namespace.js';
import type { ExecutionKind, Outcome } from '../quota-ledger.js';
import { publicError, relay, timedUpstream } from '../relay.js';
import { DEFAULT_MEMORY_MB, effectiveProfile } from '../tenant-policy.js';
import type { UpstreamReply } from '../upstream.js';
import { BatchRunBody, ExecBody, RunBody, SandboxNameParams } from './schemas.js';

/** Only the checked fields go upstream: a field upstream adds later must not pass unreviewed. */
const execBody = ({ command, env, workdir, sudo }: { command: string[]; env?: string[]; workdir?: string; sudo?: boolean }) => ({ command, env, workdir, sudo });

/** Outcome of a finished call: did the command run (billed), or was it refused before it ran? */
function outcomeOf(up: UpstreamReply): Outcome {
  if (up.json?.success) return 'succeeded';
  // 409 is upstream's "the command ran and exited non-zero": an execution like any other.
  if (up.status === 409) return 'failed';
  // Any other error status: the upstream refused or failed before running anything. Refunded.
  return 'rejected';
}

function outcomeOfError(e: ApiError): Outcome {
  if (e.statusCode === 504) return 'timeout';
  if (e.statusCode === 499) return 'client_aborted';
  return 'upstream_unavailable';
}

interface MeteredResult<T> {
  result: T;
  /** One outcome per reserved execution, in order. */
  outcomes: Outcome[];
  status: number;
}

export async function executionRoutes(app: FastifyInstance, { ctx }: { ctx: GatewayContext }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  async function acquireSlot(req: FastifyRequest, signal: AbortSignal) {
    ctx.metrics.queueDepth.set(ctx.gate.queued + 1);
    try {
      return await ctx.gate.acquire(req.tenant!.limits.priority, ctx.config.queueTimeoutMs, signal);
    } finally {
      ctx.metrics.queueDepth.set(ctx.gate.queued);
      ctx.metrics.inFlight.set(ctx.gate.active);
    }
  }

  async function reserve(req: FastifyRequest, kind: ExecutionKind, ids: string[], sandbox: string | null, memoryMb: number) {
    try {
      await ctx.quota.reserve(req.tenant!, kind, ids, sandbox, memoryMb);
    } catch (e) {
      if (e instanceof ApiError && e.statusCode === 429) ctx.metrics.quotaRejections.inc({ tier: req.tenant!.account.tier });
      throw e;
    }
  }

  /** Reserve -> slot -> call -> settle, for calls that answer once. */
  async function metered<T>(req: FastifyRequest, kind: ExecutionKind, count: number, sandbox: string | null, memoryMb: number,
    call: (signal: AbortSignal) => Promise<MeteredResult<T>>): Promise<T> {
    const tenant = req.tenant!;
    const ids = count === 1 ? [req.id] : Array.from({ length: count }, (_, i) => `${req.id}:${i}`);
    await reserve(req, kind, ids, sandbox, memoryMb);
    const abort = new AbortController();
    // A client that goes away while queued or waiting stops the upstream call too.
    const onClose = () => abort.abort();
    req.raw.socket?.once('close', onClose);
    let release: (() => void) | undefined;
    try {
      release = await acquireSlot(req, abort.signal);
      ctx.metrics.executions.inc({ tier: tenant.account.tier, kind }, count);
      const { result, outcomes, status } = await call(abort.signal);
      const groups = new Map<Outcome, string[]>();
      outcomes.forEach((o, i) => groups.set(o, [...(groups.get(o) ?? []), ids[i]]));
      await Promise.all([...groups].map(([o, group]) => ctx.quota.settle(group, o, status)));
      return result;
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

  const single = (up: UpstreamReply): MeteredResult<UpstreamReply> => ({ result: up, outcomes: [outcomeOf(up)], status: up.status });

  const runBody = (req: FastifyRequest, command: string[], image?: string, profile?: string) => ({
    command,
    image,
    profile: effectiveProfile(req.tenant!, profile),
    // Pooled containers are reused across runs: one tenant could read another's leftovers. Never pool.
    fast: false,
  });
  const runMemory = (req: FastifyRequest) => Math.min(DEFAULT_MEMORY_MB, req.tenant!.limits.memoryMb);
  const nsOf = (req: FastifyRequest) => req.tenant!.ns;

  r.post('/run', { schema: { body: RunBody } }, async (req, reply) => {
    const body = runBody(req, req.body.command, req.body.image, req.body.profile);
    const up = await metered(req, 'run', 1, null, runMemory(req), async (signal) => single(await timedUpstream(ctx, req, 'POST', '/run', body, signal)));
    return relay(reply, up, nsOf(req));
  });

  // Upstream's /batch/run always runs on its shared warm pool, which no flag turns off. So a batch is
  // fanned out here into fresh `/run fast:false` calls, one after another in one upstream slot; the
  // response keeps the upstream's shape: {results: [{output, error}]}.
  r.post('/batch/run', { schema: { body: BatchRunBody } }, async (req, reply) => {
    const ns = nsOf(req);
    const commands = req.body.commands.map((c) => runBody(req, c.command));
    const data = await metered(req, 'batch_run', commands.length, null, runMemory(req), async (signal) => {
      const results: { output: string | null; error: string | null }[] = [];
      const outcomes: Outcome[] = [];
      for (const body of commands) {
        try {
          const up = await timedUpstream(ctx, req, 'POST', '/run', body, signal);
          const o = outcomeOf(up);
          outcomes.push(o);
          const out = up.json?.success ? (up.json.data as { output?: string })?.output : (up.json as { output?: string } | undefined)?.output;
          results.push({
            output: typeof out === 'string' ? ns.scrub(out) : null,
            error: up.json?.success ? null : publicError(req, up.status, String(up.json?.error ?? 'upstream error'), ns),
          });
        } catch (e) {
          const mapped = e instanceof ApiError ? e : ctx.upstream.mapError(e);
          if (mapped.statusCode === 499) throw mapped;
          outcomes.push(outcomeOfError(mapped));
          results.push({ output: null, error: mapped.message });
          // Unreachable or not answering: the rest would each wait out the same failure (n timeouts
          // for one request). They are not sent, and refunded.
          while (results.length < commands.length) {
            outcomes.push('upstream_unavailable');
            results.push({ output: null, error: `not run: ${mapped.message}` });
          }
          break;
        }
      }
      return { result: { results }, outcomes, status: 200 };
    });
    return reply.send({ success: true, data });
  });

  for (const [suffix, kind] of [['exec', 'exec'], ['exec/detach', 'exec_detached']] as const) {
    r.post(`/sandboxes/:name/${suffix}`, { schema: { params: SandboxNameParams, body: ExecBody } }, async (req, reply) => {
      const row = await ctx.sandboxes.owned(req.tenant!.account.id, req.params.name);
      const ns = nsOf(req);
      // Memory of a persistent sandbox is billed by its lifetime row, so exec rows carry 0 MB.
      const up = await metered(req, kind, 1, req.params.name, 0,
        async (signal) => single(await timedUpstream(ctx, req, 'POST', `/sandboxes/${encodeURIComponent(row.upstreamName)}/${suffix}`, execBody(req.body), signal)));
      const id = (up.json?.data as { id?: unknown })?.id;
      if (kind === 'exec_detached' && up.json?.success && typeof id === 'string') await ctx.sandboxes.recordDetached(row, id);
      return relay(reply, up, ns, (d) => ns.scrubData(d));
    });
  }

  r.post('/run/stream', { schema: { body: RunBody } }, async (req, reply) =>
    streamRun(ctx, req, reply, runBody(req, req.body.command, req.body.image, req.body.profile), runMemory(req), reserve, acquireSlot));
}

/** One SSE event as the tenant may see it: prefix scrubbed, upstream's internal sandbox names dropped. */
function tenantEvent(event: string, ns: TenantNamespace): string {
  if (/^event:\s*progress\s*$/m.test(event)) {
    return event.replace(/^data:\s*(.*)$/m, (line, json: string) => {
      try {
        const data = JSON.parse(json);
        delete data.sandbox;
        return `data: ${JSON.stringify(data)}`;
      } catch {
        return line;
      }
    });
  }
  return ns.scrub(event);
}

/**
 * /run/stream: the SSE stream is relayed event by event as it arrives (no buffering), with the
 * tenant prefix scrubbed. Billing: refunded if the upstream refuses the stream; otherwise billed,
 * with outcome succeeded/failed from the `done` event, client_aborted when the client goes away.
 */
async function streamRun(ctx: GatewayContext, req: FastifyRequest, reply: FastifyReply, body: unknown, memoryMb: number,
  reserve: (req: FastifyRequest, kind: ExecutionKind, ids: string[], sandbox: string | null, memoryMb: number) => Promise<void>,
  acquireSlot: (req: FastifyRequest, signal: AbortSignal) => Promise<() => void>) {
  const tenant = req.tenant!;
  const ns = tenant.ns;
  const ids = [req.id];
  await reserve(req, 'run_stream', ids, null, memoryMb);
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
      try { msg = String(JSON.parse(text).error ?? msg); } catch { /* not JSON */ }
      throw new ApiError(res.statusCode >= 400 ? res.statusCode : 502, publicError(req, res.statusCode, msg, ns));
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
        reply.raw.write(tenantEvent(event, ns));
      }
    }
    if (pending) reply.raw.write(tenantEvent(pending, ns));
    req.upstreamMs += performance.now() - t0;
    reply.raw.end();
  } catch (e) {
    if (clientGone) outcome = release ? 'client_aborted' : 'rejected';
    else if (e instanceof ApiError && status === null) outcome = release ? outcomeOfError(e) : 'rejected';
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

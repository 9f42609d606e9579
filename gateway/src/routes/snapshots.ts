// Snapshots, namespaced like sandboxes: a tenant's snapshot "s1" is "<ns>-s1" upstream, and lists
// only ever show the caller's. Restoring creates a sandbox outside the gateway's caps and ownership
// bookkeeping, so it is refused until it can go through the same path as POST /sandboxes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { GatewayContext } from '../context.js';
import { forbidden } from '../errors.js';
import type { TenantNamespace } from '../namespace.js';
import { localSandbox, relay, timedUpstream } from '../relay.js';
import { checkSandboxName } from '../tenant-policy.js';
import { SandboxNameParams, SnapshotBody } from './schemas.js';

export async function snapshotRoutes(app: FastifyInstance, { ctx }: { ctx: GatewayContext }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const nsOf = (req: FastifyRequest) => req.tenant!.ns;
  const mapSnapshot = (ns: TenantNamespace) => (s: unknown) => {
    const named = localSandbox(ns, s) as Record<string, unknown>;
    return named && typeof named.sandbox === 'string' ? { ...named, sandbox: ns.local(named.sandbox) } : named;
  };

  r.get('/snapshots', async (req, reply) => {
    const ns = nsOf(req);
    const up = await timedUpstream(ctx, req, 'GET', '/snapshots');
    return relay(reply, up, ns, (d) => (Array.isArray(d) ? d.filter((s) => ns.owns(String((s as { name?: unknown })?.name ?? ''))).map(mapSnapshot(ns)) : []));
  });

  r.post('/snapshots', { schema: { body: SnapshotBody } }, async (req, reply) => {
    const ns = nsOf(req);
    checkSandboxName(req.body.sandbox);
    checkSandboxName(req.body.name);
    const row = await ctx.sandboxes.owned(req.tenant!.account.id, req.body.sandbox);
    const up = await timedUpstream(ctx, req, 'POST', '/snapshots', { sandbox: row.upstreamName, name: ns.upstream(req.body.name) });
    return relay(reply, up, ns, mapSnapshot(ns));
  });

  r.get('/snapshots/:name', { schema: { params: SandboxNameParams } }, async (req, reply) => {
    const ns = nsOf(req);
    checkSandboxName(req.params.name);
    return relay(reply, await timedUpstream(ctx, req, 'GET', `/snapshots/${encodeURIComponent(ns.upstream(req.params.name))}`), ns, mapSnapshot(ns));
  });

  r.delete('/snapshots/:name', { schema: { params: SandboxNameParams } }, async (req, reply) => {
    const ns = nsOf(req);
    checkSandboxName(req.params.name);
    return relay(reply, await timedUpstream(ctx, req, 'DELETE', `/snapshots/${encodeURIComponent(ns.upstream(req.params.name))}`), ns);
  });

  r.post('/snapshots/:name/restore', async () => {
    throw forbidden('restoring snapshots is not available through this service yet: create a sandbox instead');
  });
}

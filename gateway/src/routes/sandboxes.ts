// Sandbox lifecycle, files, logs and detached-command routes, scoped to the calling tenant.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { GatewayContext } from '../context.js';
import { ApiError, forbidden, notFound } from '../errors.js';
import { localSandbox, relay, timedUpstream } from '../relay.js';
import type { SandboxRow } from '../sandbox-registry.js';
import { checkFilePath, checkSandboxName, effectiveProfile, parseDuration, sandboxSize } from '../tenant-policy.js';
import { BatchFilesBody, CreateSandboxBody, ExtendBody, FileWriteBody, SandboxNameParams } from './schemas.js';


export async function sandboxRoutes(app: FastifyInstance, { ctx }: { ctx: GatewayContext }) {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const nsOf = (req: FastifyRequest) => req.tenant!.ns;
  const owned = (req: FastifyRequest, name: string) => ctx.sandboxes.owned(req.tenant!.account.id, name);
  const sandboxPath = (row: SandboxRow, rest = '') => `/sandboxes/${encodeURIComponent(row.upstreamName)}${rest}`;

  r.get('/sandboxes', async (req, reply) => {
    const ns = nsOf(req);
    const [up, rows] = await Promise.all([timedUpstream(ctx, req, 'GET', '/sandboxes'), ctx.sandboxes.live(req.tenant!.account.id)]);
    const mine = new Set(rows.map((s) => s.upstreamName));
    return relay(reply, up, ns, (data) =>
      Array.isArray(data) ? data.filter((s) => mine.has((s as { name?: string })?.name ?? '')).map((s) => localSandbox(ns, s)) : [],
    );
  });

  r.post('/sandboxes', { schema: { body: CreateSandboxBody } }, async (req, reply) => {
    const tenant = req.tenant!;
    const body = req.body;
    checkSandboxName(body.name);
    for (const field of ['volumes', 'secrets', 'secret_files', 'ports'] as const) {
      if (body[field]?.length) throw forbidden(`${field} are not available through this service (they reach the host)`);
    }
    const profile = effectiveProfile(tenant, body.profile);
    if (body.source_url && !tenant.limits.network) throw forbidden(`source_url needs network access, which the ${tenant.account.tier} tier does not include`);
    const size = sandboxSize(tenant, body.memory_mb, body.vcpus);
    const ns = nsOf(req);
    const row = await ctx.sandboxes.claim(tenant, body.name, ns.upstream(body.name), size.memoryMb, size.vcpus);
    let up;
    try {
      up = await timedUpstream(ctx, req, 'POST', '/sandboxes', {
        name: row.upstreamName, image: body.image, vcpus: size.vcpus, memory_mb: size.memoryMb, profile,
        source_url: body.source_url, source_ref: body.source_ref, init_script: body.init_script,
        description: body.description, labels: body.labels,
      });
    } catch (e) {
      // The upstream may or may not have created it; a timeout leaves the claim so the reaper or a
      // delete cleans up. Unreachable means it certainly did not.
      if (e instanceof ApiError && e.statusCode === 502) await ctx.sandboxes.release(row.id);
      throw e;
    }
    if (!up.json?.success) {
      await ctx.sandboxes.release(row.id);
      return relay(reply, up, ns);
    }
    const uuid = (up.json.data as { uuid?: unknown })?.uuid;
    await ctx.sandboxes.opened(row, tenant.keyId, typeof uuid === 'string' ? uuid : null);
    return relay(reply, up, ns, (d) => localSandbox(ns, d));
  });

  r.get('/sandboxes/:name', { schema: { params: SandboxNameParams } }, async (req, reply) => {
    const row = await owned(req, req.params.name);
    return relay(reply, await timedUpstream(ctx, req, 'GET', sandboxPath(row)), nsOf(req), (d) => localSandbox(nsOf(req), d));
  });

  // By the upstream's UUID (the SDK's getSandboxByUuid): only the owner's sandboxes are found.
  r.get('/sandboxes/by-uuid/:uuid', { schema: { params: Type.Object({ uuid: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9a-fA-F-]+$' }) }) } }, async (req, reply) => {
    const row = await ctx.sandboxes.findByUuid(req.tenant!.account.id, req.params.uuid.toLowerCase());
    if (!row) throw notFound('Sandbox not found');
    return relay(reply, await timedUpstream(ctx, req, 'GET', sandboxPath(row)), nsOf(req), (d) => localSandbox(nsOf(req), d));
  });

  r.delete('/sandboxes/:name', { schema: { params: SandboxNameParams } }, async (req, reply) => {
    const row = await owned(req, req.params.name);
    const up = await timedUpstream(ctx, req, 'DELETE', sandboxPath(row));
    // Gone upstream already (404) is as good as deleted: close the lifetime either way.
    if (up.json?.success || up.status === 404) await ctx.sandboxes.closed(row, 'deleted');
    if (up.status === 404) return reply.code(200).send({ success: true, data: `Sandbox '${row.name}' removed` });
    return relay(reply, up, nsOf(req));
  });

  for (const action of ['start', 'stop'] as const) {
    r.post(`/sandboxes/:name/${action}`, { schema: { params: SandboxNameParams } }, async (req, reply) => {
      const row = await owned(req, req.params.name);
      return relay(reply, await timedUpstream(ctx, req, 'POST', sandboxPath(row, `/${action}`)), nsOf(req));
    });
  }

  r.get('/sandboxes/:name/logs', { schema: { params: SandboxNameParams } }, async (req, reply) => {
    const row = await owned(req, req.params.name);
    const ns = nsOf(req);
    return relay(reply, await timedUpstream(ctx, req, 'GET', sandboxPath(row, '/logs')), ns, (d) => ns.scrubData(d));
  });

  // The gateway is the authority on lifetimes: /extend moves our expiry, within the tier's maximum.
  // The body is optional (upstream defaults `by` to 1h); a top-level Optional is no JSON schema, so an
  // absent body becomes {} before validation.
  r.post('/sandboxes/:name/extend', { schema: { params: SandboxNameParams, body: ExtendBody }, preValidation: async (req) => { req.body ??= {}; } }, async (req, reply) => {
    const row = await owned(req, req.params.name);
    const limits = req.tenant!.limits;
    const by = parseDuration(req.body.by ?? '1h');
    if (row.expiresAt === null) return reply.send({ success: true, data: { expires_at: null } });
    const base = Math.max(Date.now(), row.expiresAt.getTime());
    const wanted = new Date(base + by * 1000);
    if (limits.maxSandboxLifetimeSeconds !== null) {
      const cap = new Date(row.createdAt.getTime() + limits.maxSandboxLifetimeSeconds * 1000);
      if (wanted > cap) {
        throw forbidden(`the ${req.tenant!.account.tier} tier allows a sandbox to live at most ${limits.maxSandboxLifetimeSeconds}s; it can be extended until ${cap.toISOString()}`);
      }
    }
    await ctx.sandboxes.setExpiry(row.id, wanted);
    return reply.send({ success: true, data: { expires_at: wanted.toISOString() } });
  });

  // Files: paths are checked and re-encoded segment by segment so nothing escapes the route; bodies
  // are rebuilt from the checked fields only.
  const FileParams = Type.Object({ name: Type.String({ maxLength: 200 }), '*': Type.String({ maxLength: 4096 }) });
  r.get('/sandboxes/:name/files/*', { schema: { params: FileParams } }, async (req, reply) => {
    const row = await owned(req, req.params.name);
    const path = checkFilePath(req.params['*']);
    return relay(reply, await timedUpstream(ctx, req, 'GET', sandboxPath(row, `/files/${path}`)), nsOf(req));
  });
  r.put('/sandboxes/:name/files/*', { schema: { params: FileParams, body: FileWriteBody } }, async (req, reply) => {
    const row = await owned(req, req.params.name);
    const path = checkFilePath(req.params['*']);
    return relay(reply, await timedUpstream(ctx, req, 'PUT', sandboxPath(row, `/files/${path}`), { content: req.body.content, encoding: req.body.encoding }), nsOf(req));
  });
  r.delete('/sandboxes/:name/files/*', { schema: { params: FileParams } }, async (req, reply) => {
    const row = await owned(req, req.params.name);
    const path = checkFilePath(req.params['*']);
    return relay(reply, await timedUpstream(ctx, req, 'DELETE', sandboxPath(row, `/files/${path}`)), nsOf(req));
  });
  r.post('/sandboxes/:name/files', { schema: { params: SandboxNameParams, body: BatchFilesBody } }, async (req, reply) => {
    const row = await owned(req, req.params.name);
    for (const p of Object.keys(req.body.files)) checkFilePath(p);
    return relay(reply, await timedUpstream(ctx, req, 'POST', sandboxPath(row, '/files'), { files: req.body.files }), nsOf(req));
  });

  // Detached commands: starting one is metered (executions.ts); watching and stopping them is not.
  // Upstream looks ids up globally, so each id is checked against the ones this sandbox started.
  const DetachedParams = Type.Object({ name: Type.String({ maxLength: 200 }), id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }) });
  async function ownedDetached(req: FastifyRequest, name: string, id: string) {
    const row = await owned(req, name);
    if (!(await ctx.sandboxes.detachedIds(row)).has(id)) throw notFound(`Detached command '${id}' not found`);
    return row;
  }
  r.get('/sandboxes/:name/exec/detached', { schema: { params: SandboxNameParams } }, async (req, reply) => {
    const row = await owned(req, req.params.name);
    const ns = nsOf(req);
    const [up, mine] = await Promise.all([timedUpstream(ctx, req, 'GET', sandboxPath(row, '/exec/detached')), ctx.sandboxes.detachedIds(row)]);
    return relay(reply, up, ns, (d) => ns.scrubData(Array.isArray(d) ? d.filter((c) => mine.has(String((c as { id?: unknown })?.id))) : []));
  });
  r.get('/sandboxes/:name/exec/detached/:id', { schema: { params: DetachedParams } }, async (req, reply) => {
    const row = await ownedDetached(req, req.params.name, req.params.id);
    return relay(reply, await timedUpstream(ctx, req, 'GET', sandboxPath(row, `/exec/detached/${req.params.id}`)), nsOf(req), (d) => nsOf(req).scrubData(d));
  });
  r.get('/sandboxes/:name/exec/detached/:id/logs', { schema: { params: DetachedParams, querystring: Type.Object({ stream: Type.Optional(Type.Union([Type.Literal('stdout'), Type.Literal('stderr')])) }) } }, async (req, reply) => {
    const row = await ownedDetached(req, req.params.name, req.params.id);
    const q = req.query.stream ? `?stream=${req.query.stream}` : '';
    return relay(reply, await timedUpstream(ctx, req, 'GET', sandboxPath(row, `/exec/detached/${req.params.id}/logs${q}`)), nsOf(req), (d) => nsOf(req).scrubData(d));
  });
  r.delete('/sandboxes/:name/exec/detached/:id', { schema: { params: DetachedParams } }, async (req, reply) => {
    const row = await ownedDetached(req, req.params.name, req.params.id);
    return relay(reply, await timedUpstream(ctx, req, 'DELETE', sandboxPath(row, `/exec/detached/${req.params.id}`)), nsOf(req));
  });
}

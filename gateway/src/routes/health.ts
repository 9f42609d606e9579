// Liveness, readiness and metrics.
import type { FastifyInstance } from 'fastify';
import type { GatewayContext } from '../context.js';
import { adminAuth } from './admin.js';

export async function healthRoutes(app: FastifyInstance, { ctx }: { ctx: GatewayContext }) {
  app.get('/health', async () => ({ success: true, data: 'ok' }));

  app.get('/ready', async (_req, reply) => {
    const [postgres, redis, upstream] = await Promise.all([
      ctx.db.query('SELECT 1').then(() => true, () => false),
      ctx.redisHealthy ? ctx.redisHealthy() : Promise.resolve(true),
      ctx.upstream.healthy(),
    ]);
    const checks = { postgres, redis: ctx.redisHealthy ? redis : 'not configured', upstream };
    const ok = postgres && redis && upstream;
    return reply.code(ok ? 200 : 503).send(ok ? { success: true, data: checks } : { success: false, error: `not ready: ${Object.entries(checks).filter(([, v]) => v === false).map(([k]) => k).join(', ')} unavailable`, data: checks });
  });

  app.get('/metrics', { onRequest: adminAuth(ctx) }, async (_req, reply) => reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics()));
}

// Starts a gateway from a GatewayConfig: migrations, pools, the app, the reaper. Used by `serve`,
// by the embedded default (`npm start`) and by the tests.
import type { FastifyInstance } from 'fastify';
import { AccountStore } from './accounts.js';
import { buildApp } from './app.js';
import { ConfigError, type GatewayConfig } from './config.js';
import type { GatewayContext } from './context.js';
import { createDb, migrate } from './db.js';
import { createMetrics } from './metrics.js';
import { PriorityGate } from './priority-gate.js';
import { QuotaLedger } from './quota-ledger.js';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from './rate-limiter.js';
import { SandboxReaper } from './reaper.js';
import { SandboxRegistry } from './sandbox-registry.js';
import { loadTierCatalog, type TierCatalog } from './tiers.js';
import { UpstreamClient } from './upstream.js';

export interface RunningGateway {
  app: FastifyInstance;
  ctx: GatewayContext;
  url: string;
  reaper: SandboxReaper;
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, opts: { tiers?: TierCatalog; logger?: boolean | object; listen?: boolean } = {}): Promise<RunningGateway> {
  const tiers = opts.tiers ?? loadTierCatalog(config.tiersFile);
  await migrate(config.databaseUrl);
  const db = createDb(config.databaseUrl, 40);
  const metrics = createMetrics();
  let limiter: RateLimiter;
  let redisHealthy: (() => Promise<boolean>) | undefined;
  // The app's logger exists only after buildApp; route Redis messages to it once it does.
  let log: { warn: (o: object, m: string) => void; info: (o: object, m: string) => void; error: (o: object, m: string) => void } = { warn: () => {}, info: () => {}, error: () => {} };
  if (config.redisUrl) {
    const redis = new RedisRateLimiter(
      config.redisUrl,
      (err, first) => {
        metrics.redisErrors.inc();
        if (first) log.warn({ err: err.message }, 'Redis unavailable: rate limits fall back to this process until it returns');
      },
      () => log.info({}, 'Redis is back: rate limits shared again'),
    );
    limiter = redis;
    redisHealthy = () => redis.ping();
  } else {
    limiter = new MemoryRateLimiter();
  }
  let keyRejectedLoggedAt = 0;
  const ctx: GatewayContext = {
    config, db, tiers, metrics, limiter, redisHealthy,
    accounts: new AccountStore(db, tiers),
    quota: new QuotaLedger(db),
    sandboxes: new SandboxRegistry(db),
    upstream: new UpstreamClient(config.agentkernelUrl, config.agentkernelApiKey, config.upstreamTimeoutMs, () => {
      // Once a minute is enough to be seen; every request would flood the log.
      if (Date.now() - keyRejectedLoggedAt < 60_000) return;
      keyRejectedLoggedAt = Date.now();
      log.error({}, 'agentkernel answered 401: AGENTKERNEL_API_KEY does not match the key the agentkernel server was started with');
    }),
    gate: new PriorityGate(config.maxInFlight),
  };
  const app = buildApp(ctx, { logger: opts.logger });
  log = app.log;
  if (!config.redisUrl) app.log.warn('REDIS_URL is not set: using an in-process rate limiter (fine for one process)');
  const reaper = new SandboxReaper(ctx, app.log);
  await app.ready();
  let url = '';
  if (opts.listen !== false) {
    try {
      url = await app.listen({ host: config.host, port: config.port });
    } catch (e) {
      await app.close();
      await Promise.all([ctx.upstream.close(), limiter.close(), db.end()]);
      throw listenError(e as NodeJS.ErrnoException, config);
    }
  }
  reaper.start();
  void reaper.runOnce();
  return {
    app, ctx, url, reaper,
    async close() {
      await reaper.stop();
      await app.close();
      await ctx.upstream.close();
      await limiter.close();
      await db.end();
    },
  };
}

/** A failed listen is a configuration problem: say which variable to fix, not just the errno. */
function listenError(e: NodeJS.ErrnoException, config: GatewayConfig): Error {
  const where = `${config.host}:${config.port}`;
  if (e.code === 'EADDRINUSE') return new ConfigError('GATEWAY_PORT', `port ${config.port} on ${config.host} is already in use`);
  if (e.code === 'EACCES') return new ConfigError('GATEWAY_PORT', `no permission to listen on ${where}`);
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN' || e.code === 'EADDRNOTAVAIL') return new ConfigError('GATEWAY_HOST', `cannot listen on ${config.host} (${e.code})`);
  return e;
}

// Everything the routes need, built once per gateway instance (see server.ts) and passed to plugins.
import type { GatewayConfig } from './config.js';
import type { Db } from './db.js';
import type { TierCatalog } from './tiers.js';
import type { AccountStore, Tenant } from './accounts.js';
import type { QuotaLedger } from './quota-ledger.js';
import type { SandboxRegistry } from './sandbox-registry.js';
import type { UpstreamClient } from './upstream.js';
import type { PriorityGate } from './priority-gate.js';
import type { RateLimiter } from './rate-limiter.js';
import type { Metrics } from './metrics.js';

export interface GatewayContext {
  config: GatewayConfig;
  db: Db;
  tiers: TierCatalog;
  accounts: AccountStore;
  quota: QuotaLedger;
  sandboxes: SandboxRegistry;
  upstream: UpstreamClient;
  gate: PriorityGate;
  limiter: RateLimiter;
  metrics: Metrics;
  /** Reports whether Redis answers (undefined when running without Redis). */
  redisHealthy?: () => Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyRequest {
    tenant: Tenant | null;
    /** Milliseconds spent waiting on the upstream for this request (for the latency split). */
    upstreamMs: number;
  }
}

// Prometheus metrics (prom-client), one registry per gateway instance so tests can run several.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({ name: 'gateway_requests_total', help: 'Requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    gatewayLatency: new Histogram({ name: 'gateway_added_latency_seconds', help: 'Time spent in the gateway itself (total minus upstream time)', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: [registry] }),
    upstreamLatency: new Histogram({ name: 'gateway_upstream_latency_seconds', help: 'Time spent waiting for agentkernel', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: [registry] }),
    quotaRejections: new Counter({ name: 'gateway_quota_rejections_total', help: 'Requests refused because the monthly quota is used up', labelNames: ['tier'], registers: [registry] }),
    rateLimitRejections: new Counter({ name: 'gateway_rate_limit_rejections_total', help: 'Requests refused by the per-key rate limit', labelNames: ['tier'], registers: [registry] }),
    executions: new Counter({ name: 'gateway_executions_total', help: 'Metered executions forwarded, by tier and kind', labelNames: ['tier', 'kind'], registers: [registry] }),
    redisErrors: new Counter({ name: 'gateway_redis_errors_total', help: 'Rate-limit calls that fell back to the in-process limiter because Redis failed', registers: [registry] }),
    queueDepth: new Gauge({ name: 'gateway_priority_queue_depth', help: 'Executions waiting for an upstream slot', registers: [registry] }),
    inFlight: new Gauge({ name: 'gateway_upstream_in_flight', help: 'Executions in flight to the upstream', registers: [registry] }),
    reaped: new Counter({ name: 'gateway_sandboxes_reaped_total', help: 'Sandboxes deleted because their lifetime ran out', registers: [registry] }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

// Gateway configuration from the environment. Everything is checked before anything starts, and a bad
// value fails with a message naming the variable, so a deployment never half-starts.
export interface GatewayConfig {
  databaseUrl: string;
  /** Unset: an in-process rate limiter is used (single process only; a warning is logged). */
  redisUrl?: string;
  agentkernelUrl: string;
  agentkernelApiKey?: string;
  adminToken: string;
  host: string;
  port: number;
  tiersFile?: string;
  /** Executions in flight to the upstream at once; beyond it requests queue by tier priority. */
  maxInFlight: number;
  /** Requests that wait beyond this in the priority queue get a 503. */
  queueTimeoutMs: number;
  /** Upstream calls give up after this (504). It bounds /run/stream too: agentkernel 0.18.1 sends a
   * stream's whole body when the command ends, so long commands need a larger value. */
  upstreamTimeoutMs: number;
  /** How often expired sandboxes are reaped. */
  reaperIntervalMs: number;
  logLevel: string;
  bodyLimitBytes: number;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const v = env[name]?.trim();
  if (!v) throw new ConfigError(name, 'is required but not set');
  return v;
}

function url(env: Env, name: string, protocols: string[], fallback?: string): string {
  const raw = env[name]?.trim() || fallback;
  if (!raw) throw new ConfigError(name, 'is required but not set');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(u.protocol)) throw new ConfigError(name, `must use ${protocols.join(' or ')} (got ${u.protocol})`);
  return raw;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number (got "${raw}")`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max} (got ${n})`);
  return n;
}

export function loadConfig(env: Env = process.env): GatewayConfig {
  const adminToken = required(env, 'GATEWAY_ADMIN_TOKEN');
  if (adminToken.length < 16) throw new ConfigError('GATEWAY_ADMIN_TOKEN', 'must be at least 16 characters');
  // It travels as `Authorization: Bearer <token>`: with a space or non-ASCII in it, no client could send it.
  if (!/^[\x21-\x7e]+$/.test(adminToken)) throw new ConfigError('GATEWAY_ADMIN_TOKEN', 'must be printable ASCII without spaces');
  const level = env.GATEWAY_LOG_LEVEL?.trim() || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new ConfigError('GATEWAY_LOG_LEVEL', `must be one of fatal, error, warn, info, debug, trace, silent (got "${level}")`);
  }
  const agentkernelUrl = url(env, 'AGENTKERNEL_URL', ['http:', 'https:'], 'http://127.0.0.1:18888');
  // Upstream calls go to the origin with agentkernel's own paths; a path here would be silently dropped.
  const ak = new URL(agentkernelUrl);
  if (ak.pathname !== '/' || ak.search || ak.hash) throw new ConfigError('AGENTKERNEL_URL', `must be an origin with no path or query, like http://127.0.0.1:18888 (got ${ak.origin}${ak.pathname}${ak.search})`);
  return {
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: env.REDIS_URL?.trim() ? url(env, 'REDIS_URL', ['redis:', 'rediss:']) : undefined,
    agentkernelUrl: ak.origin,
    agentkernelApiKey: env.AGENTKERNEL_API_KEY?.trim() || undefined,
    adminToken,
    host: env.GATEWAY_HOST?.trim() || '127.0.0.1',
    port: int(env, 'GATEWAY_PORT', 8080, 0, 65535),
    tiersFile: env.GATEWAY_TIERS?.trim() || undefined,
    maxInFlight: int(env, 'GATEWAY_MAX_IN_FLIGHT', 32, 1, 100_000),
    queueTimeoutMs: int(env, 'GATEWAY_QUEUE_TIMEOUT_MS', 30_000, 1, 3_600_000),
    upstreamTimeoutMs: int(env, 'GATEWAY_UPSTREAM_TIMEOUT_MS', 120_000, 100, 3_600_000),
    reaperIntervalMs: int(env, 'GATEWAY_REAPER_INTERVAL_MS', 30_000, 100, 86_400_000),
    logLevel: level,
    bodyLimitBytes: int(env, 'GATEWAY_BODY_LIMIT_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  };
}
